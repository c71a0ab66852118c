from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from .models import User


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: User, form, commit: bool = True) -> User:
        """Keep the name to be printed on certificates, which allauth's own form does not carry."""
        user = super().save_user(request, user, form, commit=False)
        user.full_name = form.cleaned_data.get("full_name", "")
        if commit:
            user.save()
        return user

from email.utils import parseaddr

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from courses.selectors import current_provider

from .models import User


def provider_name() -> str:
    """Whose name account e-mails go out in: the provider's, or before one is entered, the name
    the site's mail comes from. Read from the cache, as every page reads the provider."""
    provider = current_provider()
    if provider is not None and provider.name:
        return provider.name
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return name or address


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: User, form, commit: bool = True) -> User:
        """Keep the name to be printed on certificates, which allauth's own form does not carry."""
        user = super().save_user(request, user, form, commit=False)
        user.full_name = form.cleaned_data.get("full_name", "")
        if commit:
            user.save()
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Confirmation, password and notice e-mails name the provider (templates/account/email):
        allauth's own name the site by the host and port the request came to."""
        super().send_mail(template_prefix, email, {"provider_name": provider_name(), **context})

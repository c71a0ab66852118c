from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from .models import Licence, User
from .services import PrintedNameError, printed_name


class PrintedNameMixin:
    """Staff typing a learner's name meet the same rule as the learner: one rule, one place."""

    def clean_full_name(self) -> str:
        try:
            return printed_name(self.cleaned_data["full_name"])
        except PrintedNameError as refusal:
            raise forms.ValidationError(str(refusal)) from None


class UserCreationForm(PrintedNameMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name"]


class UserEditForm(PrintedNameMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class LicenceInline(admin.TabularInline):
    model = Licence
    extra = 0
    fields = [
        "profession",
        "jurisdiction",
        "jurisdiction_other",
        "number",
        "issued_on",
        "renewal_date",
    ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "full_name", "licences__number"]
    readonly_fields = ["date_joined", "last_login", "updated_at"]
    inlines = [LicenceInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Name as printed"), {"fields": ["full_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined", "updated_at"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "usable_password", "password1", "password2"],
            },
        ),
    ]


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ["number", "user", "profession", "jurisdiction", "renewal_date"]
    list_filter = ["profession", "jurisdiction"]
    search_fields = ["number", "user__email", "user__full_name"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]

from allauth.account.forms import SignupForm as AllauthSignupForm
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from .jurisdictions import Jurisdiction
from .models import Licence, User
from .services import PrintedNameError, printed_name


def _printed_name(value: str) -> str:
    """The one rule for a name as printed (accounts.services.printed_name), as a form error."""
    try:
        return printed_name(value)
    except PrintedNameError as refusal:
        raise forms.ValidationError(str(refusal), code="name") from None


class SignupForm(AllauthSignupForm):
    full_name = forms.CharField(
        label=_("Name as printed on certificates"),
        max_length=User._meta.get_field("full_name").max_length,
        help_text=_("Exactly as your licensing board knows you, with any accents."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["full_name", "email", "password1", "password2"]

    def clean_full_name(self) -> str:
        return _printed_name(self.cleaned_data["full_name"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save name")))

    def clean_full_name(self) -> str:
        return _printed_name(self.cleaned_data["full_name"])


class LicenceForm(forms.ModelForm):
    class Meta:
        model = Licence
        fields = [
            "profession",
            "jurisdiction",
            "jurisdiction_other",
            "number",
            "renewal_date",
            "hours_required",
        ]
        widgets = {
            "renewal_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "hours_required": forms.NumberInput(attrs={"step": "0.25", "min": "0"}),
        }

    def __init__(self, *args, submit_label: str = _("Save licence"), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profession"].choices = [
            ("", _("Choose your profession")),
            *list(self.fields["profession"].choices)[1:],
        ]
        self.fields["jurisdiction"].choices = [
            ("", _("Choose the issuing board's state")),
            *list(self.fields["jurisdiction"].choices)[1:],
        ]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Div(
                Div(Field("profession"), css_class="col-md-6"),
                Div(Field("jurisdiction"), css_class="col-md-6"),
                css_class="row",
            ),
            Field("jurisdiction_other"),
            Field("number", autocomplete="off"),
            Div(
                Div(Field("renewal_date"), css_class="col-md-6"),
                Div(Field("hours_required"), css_class="col-md-6"),
                css_class="row",
            ),
        )
        self.helper.add_input(Submit("save", submit_label))

    def clean_number(self) -> str:
        # Kept exactly as issued (case and inner characters), only the edges trimmed:
        # rosters sent to boards must match their lookup character for character.
        number = self.cleaned_data["number"].strip()
        if not number:
            raise forms.ValidationError(_("Enter the licence number as issued."))
        return number

    def clean_jurisdiction_other(self) -> str:
        return " ".join(self.cleaned_data.get("jurisdiction_other", "").split())

    def clean(self) -> dict:
        cleaned = super().clean()
        jurisdiction = cleaned.get("jurisdiction")
        if jurisdiction == Jurisdiction.OTHER and not cleaned.get("jurisdiction_other"):
            self.add_error(
                "jurisdiction_other", _("Name the state, province or country of your board.")
            )
        elif jurisdiction and jurisdiction != Jurisdiction.OTHER:
            cleaned["jurisdiction_other"] = ""
        return cleaned

from typing import TYPE_CHECKING

from allauth.account.forms import SignupForm as AllauthSignupForm
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from courses.services.messaging import is_time_zone, time_zone_choices

from .jurisdictions import Jurisdiction
from .models import Licence, User
from .services import PrintedNameError, printed_name

if TYPE_CHECKING:
    from courses.selectors.boards import RenewalSuggestion


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
    # Filled in by the browser (accounts/js/time_zone.js), so reminders reach the learner in
    # their morning; empty without script, and changed on the profile.
    time_zone = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-time-zone": "1"})
    )
    field_order = ["full_name", "email", "password1", "password2"]

    def clean_full_name(self) -> str:
        return _printed_name(self.cleaned_data["full_name"])

    def clean_time_zone(self) -> str:
        # A guess: a zone the server does not know is dropped, never refused.
        name = self.cleaned_data.get("time_zone", "").strip()
        return name if is_time_zone(name) else ""

    def signup(self, request, user: User) -> None:
        """Called by allauth once the account is saved."""
        if self.cleaned_data.get("time_zone"):
            user.time_zone = self.cleaned_data["time_zone"]
            user.save(update_fields=["time_zone"])


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


class MessagePreferencesForm(forms.ModelForm):
    """The learner's time zone and which optional messages they receive."""

    # The name of the submit button, telling this form's POST from the name form's.
    SUBMIT = "save_preferences"

    class Meta:
        model = User
        fields = ["time_zone", "wants_nudges", "wants_renewal_reminders", "wants_new_trainings"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = self.fields["time_zone"]
        zone.widget = forms.Select(choices=[("", _("The site's time zone")), *time_zone_choices()])
        zone.help_text = _("Reminders go out around 10:00 in this time zone.")
        self.helper = FormHelper()
        self.helper.form_tag = True
        self.helper.add_input(Submit(self.SUBMIT, _("Save preferences")))

    def clean_time_zone(self) -> str:
        name = self.cleaned_data.get("time_zone", "")
        if name and not is_time_zone(name):
            raise forms.ValidationError(_("Choose a time zone from the list."), code="zone")
        return name


class LicenceForm(forms.ModelForm):
    # The name of the button that asks for the board's rule without saving.
    SUGGEST = "suggest"

    class Meta:
        model = Licence
        fields = [
            "profession",
            "jurisdiction",
            "jurisdiction_other",
            "number",
            "issued_on",
            "renewal_date",
            "hours_required",
        ]
        widgets = {
            "issued_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
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
            # What the board's rule says for the chosen jurisdiction and profession: shown by
            # the page after "Show my board's rule" (no script needed), or filled in by script.
            HTML('{% include "accounts/_licence_rule_hint.html" %}'),
            Field("jurisdiction_other"),
            Field("number", autocomplete="off"),
            Div(
                Div(Field("issued_on"), css_class="col-md-4"),
                Div(Field("renewal_date"), css_class="col-md-4"),
                Div(Field("hours_required"), css_class="col-md-4"),
                css_class="row",
            ),
        )
        self.helper.add_input(Submit("save", submit_label))
        # After the save button, so Enter still saves. Script hides it: it fills the hint in
        # as soon as both are chosen.
        suggest = Submit(
            self.SUGGEST,
            _("Show my board's rule"),
            formnovalidate="formnovalidate",
            **{"data-suggest-button": "1"},
        )
        suggest.field_classes = "btn btn-outline-secondary ms-2"
        self.helper.add_input(suggest)

    @classmethod
    def with_suggestion(
        cls, data, *, suggestion: "RenewalSuggestion | None", **kwargs
    ) -> "LicenceForm":
        """The form as the learner filled it, not yet saved, with the board's hours (and its
        renewal date, where the rule fixes one) filled in where the learner left them empty.
        Either may be changed before saving."""
        initial = {name: data.get(name, "") for name in cls._meta.fields}
        if suggestion is not None:
            if not initial["hours_required"] and suggestion.hours_required is not None:
                initial["hours_required"] = f"{suggestion.hours_required.normalize():f}"
            if not initial["renewal_date"] and suggestion.renewal_date is not None:
                initial["renewal_date"] = suggestion.renewal_date
        return cls(initial=initial, **kwargs)

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

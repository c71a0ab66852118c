from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Topic


class CatalogFilterForm(forms.Form):
    q = forms.CharField(label=_("Search titles"), max_length=100, required=False)
    topic = forms.ModelChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("Any topic"),
    )
    # The keys are those of selectors.HOURS_BUCKETS.
    hours = forms.ChoiceField(
        label=_("CE hours"),
        choices=[
            ("", _("Any length")),
            ("1", _("Up to 1 hour")),
            ("1-3", _("More than 1, up to 3 hours")),
            ("3+", _("More than 3 hours")),
        ],
        required=False,
    )
    mine = forms.BooleanField(label=_("Counts for my licences"), required=False)

    def filters(self) -> dict:
        """The valid filters; a bad one is dropped (and shown as an error) rather than failing."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if self.is_bound and not data:
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        topic = data.get("topic")
        return {
            "search": (data.get("q") or "").strip(),
            "topic": topic.slug if topic else "",
            "hours": data.get("hours") or "",
            "for_my_licences": bool(data.get("mine")),
        }


RATING_CHOICES = [
    (1, _("1 – Not at all")),
    (2, _("2")),
    (3, _("3 – Somewhat")),
    (4, _("4")),
    (5, _("5 – Very much")),
]


def _rating(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )


class EvaluationForm(forms.Form):
    """The course evaluation: one item per objective, the two standard items, the presenter."""

    def __init__(self, *args, objectives: list, presenter: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.objective_fields = []
        for index, objective in enumerate(objectives, start=1):
            name = f"objective_{index}"
            text = objective.text[:1].lower() + objective.text[1:]
            self.fields[name] = _rating(_("I can now %(objective)s") % {"objective": text})
            self.objective_fields.append(name)
        self.fields["learned_rating"] = _rating(
            _("How much did you learn as a result of this CE program?")
        )
        self.fields["usefulness_rating"] = _rating(
            _(
                "How useful was the content of this CE program for your practice or other "
                "professional development?"
            )
        )
        self.fields["presenter_rating"] = _rating(
            _("How effective was the presenter, %(name)s?") % {"name": presenter}
        )
        self.fields["comments"] = forms.CharField(
            label=_("Comments (optional)"),
            required=False,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 4}),
        )

    def objective_ratings(self) -> list[int]:
        return [self.cleaned_data[name] for name in self.objective_fields]


class AttestationForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I completed this training myself."),
        error_messages={"required": _("Tick the box to attest that you did the work yourself.")},
    )

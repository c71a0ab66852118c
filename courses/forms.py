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
        data = (
            self.cleaned_data
            if self.is_valid()
            else {
                name: value
                for name, value in getattr(self, "cleaned_data", {}).items()
                if name not in self.errors
            }
        )
        topic = data.get("topic")
        return {
            "search": (data.get("q") or "").strip(),
            "topic": topic.slug if topic else "",
            "hours": data.get("hours") or "",
            "for_my_licences": bool(data.get("mine")),
        }

"""An episode's captions in the admin: uploaded as a .vtt or .srt file on the episode's page,
checked with the rest of the form (a bad file is refused with its reason, and the captions
already there stay), and kept through the same service as the importer's."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from courses.models import Episode
from courses.services.captions import (
    MAX_CAPTIONS_BYTES,
    CaptionsError,
    check_against_episode,
    check_size,
    episode_cues,
    read_captions,
    set_episode_captions,
)
from courses.services.catalog import format_time


def _https_urls(field: models.Field, **kwargs) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class EpisodeForm(forms.ModelForm):
    captions_file = forms.FileField(
        label=gettext_lazy("Upload captions"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".vtt,.srt,text/vtt"}),
        help_text=gettext_lazy(
            "The episode's transcript with its timings, as a WebVTT (.vtt) or SubRip (.srt) "
            "file in UTF-8, at most 1 MB. It replaces the captions above; each lesson shows "
            "its chapter's part."
        ),
    )

    class Meta:
        model = Episode
        fields = [
            "title",
            "show",
            "published_on",
            "media_url",
            "media_type",
            "media_mime_type",
            "duration_seconds",
            "source_url",
        ]
        # The admin builds its own form from this one with its field overrides; this base
        # form's fields take an address typed without its scheme as https, as those do.
        formfield_callback = staticmethod(_https_urls)

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("captions_file")
        if not upload:
            cleaned["captions_cues"] = None
            return cleaned
        try:
            check_size(upload.size)
            cues = read_captions(upload.read(MAX_CAPTIONS_BYTES + 1), filename=upload.name)
            # Against the length given on this same form, when it is valid.
            duration = cleaned.get("duration_seconds", self.instance.duration_seconds)
            check_against_episode(cues, duration_seconds=duration or 0)
        except CaptionsError as exc:
            self.add_error("captions_file", ValidationError(str(exc)))
            return cleaned
        cleaned["captions_cues"] = cues
        return cleaned


class EpisodeCaptionsAdminMixin:
    """For the episode's admin: the upload field, what the captions hold now, and the save that
    keeps them through the captions service."""

    form = EpisodeForm

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "captions_summary"]

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "captions_file"]
        # Read-only (certificates were issued for what it plays): nothing to upload.
        if obj is None or self.has_change_permission(request, obj):
            fields.append("captions_file")
        return fields

    @staticmethod
    def _summary(obj: Episode | None) -> str:
        cues = episode_cues(obj)
        if not cues:
            return _("None yet: a recorded course publishes only once its lessons have captions.")
        who = str(obj.captions_updated_by) if obj.captions_updated_by else ""
        when = obj.captions_updated_at.date().isoformat() if obj.captions_updated_at else ""
        count = ngettext("%(n)d cue", "%(n)d cues", len(cues)) % {"n": len(cues)}
        return format_html(
            "{}, {} to {}{}.<br><q>{}</q>",
            count,
            format_time(cues[0].start),
            format_time(cues[-1].end),
            f" ({_('uploaded')} {when}{' by ' + who if who else ''})" if when else "",
            cues[0].plain_text,
        )

    @admin.display(description=gettext_lazy("captions"))
    def captions_summary(self, obj: Episode | None) -> str:
        return self._summary(obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        cues = form.cleaned_data.get("captions_cues")
        if cues:
            upload = form.cleaned_data["captions_file"]
            set_episode_captions(
                episode=obj, cues=cues, source_name=upload.name, acting_user=request.user
            )
            obj.refresh_from_db()

"""The admin page that turns an episode's show notes into a draft course."""

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.models import Course
from courses.services.captions import (
    MAX_CAPTIONS_BYTES,
    CaptionsError,
    Cue,
    check_size,
    read_captions,
    set_episode_captions,
)
from courses.services.importing import MAX_CHAPTERS, MAX_TEXT_BYTES, ShowNotesError, import_course

ALLOWED_ENDINGS = (".txt", ".md", ".markdown", ".text")
_DURATION = re.compile(r"^(?:(?P<hours>\d{1,2}):)?(?P<minutes>\d{1,3}):(?P<seconds>\d{2})$")
EXAMPLE = """• 00:00 Why Therapy Clients Ghost
  • 01:15 The Role of Trust in Building Strong Client Relationships
  • 1:02:03 A chapter more than an hour in"""


def parse_duration(value: str) -> int:
    """Seconds from "MM:SS", "H:MM:SS" or a plain number of seconds."""
    value = value.strip()
    if value.isdigit():
        return int(value)
    match = _DURATION.match(value)
    if not match:
        raise ValidationError(_("Give the duration as MM:SS or H:MM:SS, e.g. 25:15 or 1:02:03."))
    hours, minutes, seconds = (int(match[name] or 0) for name in ("hours", "minutes", "seconds"))
    if seconds >= 60 or (match["hours"] is not None and minutes >= 60):
        raise ValidationError(_("Minutes and seconds run from 00 to 59."))
    return hours * 3600 + minutes * 60 + seconds


class ImportEpisodeForm(forms.Form):
    notes = forms.CharField(
        label=gettext_lazy("Show notes"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100, "class": "vLargeTextField"}),
        help_text=gettext_lazy("Paste the episode's show notes here, or upload them below."),
    )
    file = forms.FileField(
        label=gettext_lazy("Or a file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,.markdown,text/plain"}),
        help_text=gettext_lazy("A .txt or .md file in UTF-8, at most 1 MB."),
    )
    captions = forms.FileField(
        label=gettext_lazy("Transcript"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".vtt,.srt,text/vtt"}),
        help_text=gettext_lazy(
            "The episode's transcript with its timings, as a WebVTT (.vtt) or SubRip (.srt) "
            "file in UTF-8, at most 1 MB. Each lesson shows its chapter's part as captions and "
            "a transcript; a recorded course publishes only with them. Can be added later on "
            "the episode."
        ),
    )
    title = forms.CharField(
        label=gettext_lazy("Course title"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text=gettext_lazy("Leave empty to take the title from the notes."),
    )
    media_url = forms.CharField(
        label=gettext_lazy("Media address"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"class": "vURLField"}),
        help_text=gettext_lazy(
            "Where the episode's audio is served: https://… or a path from this site's root. "
            "Can be added later on the episode."
        ),
    )
    duration = forms.CharField(
        label=gettext_lazy("Duration"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "25:15"}),
        help_text=gettext_lazy(
            "The episode's length, MM:SS or H:MM:SS. Leave it empty when the notes state it "
            "(“Duration: 25:15”) or the media file is on this site: it is read from there. "
            "Otherwise the last lesson waits for its end until you give it."
        ),
    )

    def clean_notes(self) -> str:
        notes = self.cleaned_data["notes"]
        if len(notes.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
            raise ValidationError(_("The notes are over 1 MB: paste only the episode's notes."))
        return notes

    def clean_file(self) -> str | None:
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        name = upload.name or ""
        if not name.lower().endswith(ALLOWED_ENDINGS):
            raise ValidationError(_("Upload a .txt or .md file."))
        if upload.size > MAX_TEXT_BYTES:
            raise ValidationError(_("The file is over 1 MB: upload only the episode's notes."))
        data = upload.read(MAX_TEXT_BYTES + 1)
        if len(data) > MAX_TEXT_BYTES:
            raise ValidationError(_("The file is over 1 MB: upload only the episode's notes."))
        if not data.strip():
            raise ValidationError(_("The file is empty."))
        if b"\x00" in data:
            raise ValidationError(_("The file is binary, not text: upload the notes as .txt."))
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                _("The file is not UTF-8 text: save it as UTF-8 and upload it again.")
            ) from exc

    def clean_captions(self) -> tuple[str, list[Cue]] | None:
        upload = self.cleaned_data.get("captions")
        if not upload:
            return None
        try:
            check_size(upload.size)
            # Never more than can be refused, whatever the upload said its size was.
            data = upload.read(MAX_CAPTIONS_BYTES + 1)
            return upload.name, read_captions(data, filename=upload.name)
        except CaptionsError as exc:
            raise ValidationError(str(exc)) from exc

    def clean_media_url(self) -> str:
        value = self.cleaned_data["media_url"].strip()
        if not value or (value.startswith("/") and not value.startswith("//")):
            return value
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError as exc:
            raise ValidationError(
                _("Give an https:// address or a path from this site's root (/media/…).")
            ) from exc
        return value

    def clean_duration(self) -> int | None:
        value = self.cleaned_data["duration"].strip()
        if not value:
            return None
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValidationError(_("The duration must be longer than zero."))
        return seconds

    def clean(self) -> dict:
        cleaned = super().clean()
        has_notes = bool((cleaned.get("notes") or "").strip())
        has_file = cleaned.get("file") is not None
        if "file" in self.errors or "notes" in self.errors:
            return cleaned
        if has_notes and has_file:
            raise ValidationError(_("Paste the notes or upload a file, not both."))
        if not has_notes and not has_file:
            raise ValidationError(_("Paste the episode's show notes or upload them as a file."))
        cleaned["text"] = cleaned["file"] if has_file else cleaned["notes"]
        return cleaned


def import_episode(request: HttpRequest, admin_site) -> HttpResponse:
    """Show the form; on a good post, create the draft and open it in the admin."""
    if not request.user.has_perm("courses.add_course"):
        raise PermissionDenied
    if request.method == "POST":
        form = ImportEpisodeForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    course = import_course(
                        text=data["text"],
                        title=data["title"] or None,
                        media_url=data["media_url"],
                        duration_seconds=data["duration"],
                        acting_user=request.user,
                    )
                    if data["captions"] is not None:
                        # Checked against the episode's length, known only once imported; a
                        # refusal takes the whole import back with it.
                        name, cues = data["captions"]
                        set_episode_captions(
                            episode=course.episode,
                            cues=cues,
                            source_name=name,
                            acting_user=request.user,
                        )
                    model_admin = admin_site.get_model_admin(Course)
                    model_admin.log_addition(request, course, _("Imported from show notes."))
            except ShowNotesError as exc:
                form.add_error(None, str(exc))
            except CaptionsError as exc:
                form.add_error("captions", str(exc))
            else:
                chapters = course.lessons.count()
                imported = _("Imported %(n)d chapters as a draft: %(title)s") % {
                    "n": chapters,
                    "title": course.title,
                }
                if data["captions"] is not None:
                    imported += _(", captioned from the transcript (%(n)d cues).") % {
                        "n": len(data["captions"][1])
                    }
                messages.success(request, imported)
                if not course.episode.duration_seconds:
                    messages.warning(
                        request,
                        _(
                            "The episode's length was not given, the notes do not state it and "
                            "no media file on this site tells it, so lesson %(n)d has no end "
                            "yet. Give the episode's length and the lesson's end before "
                            "publishing."
                        )
                        % {"n": chapters},
                    )
                return HttpResponseRedirect(
                    reverse("admin:courses_course_change", args=[course.pk])
                )
    else:
        form = ImportEpisodeForm()

    opts = Course._meta
    context = {
        **admin_site.each_context(request),
        "title": _("Import a course from an episode's show notes"),
        "form": form,
        "fieldsets": [
            (_("Show notes"), [form["notes"], form["file"]]),
            (_("Transcript (optional)"), [form["captions"]]),
            (
                _("Course and episode (optional)"),
                [form["title"], form["media_url"], form["duration"]],
            ),
        ],
        "opts": opts,
        "can_view_courses": admin_site.get_model_admin(Course).has_view_or_change_permission(
            request
        ),
        "app_label": opts.app_label,
        "example": EXAMPLE,
        "max_chapters": MAX_CHAPTERS,
    }
    return TemplateResponse(
        request,
        "admin/courses/import_episode.html",
        context,
        status=400 if form.is_bound else 200,
    )

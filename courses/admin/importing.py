"""The admin pages that turn an episode into a draft course: from its show notes (pasted or
uploaded), or from the podcast's feed. Both end in the same import (import_course), so the
draft and its checklist follow one rule.

The pages are CSRF-exempt on the outside only so that a post too large to read can be answered
on the form: the size is checked first, then the request goes through csrf_protect."""

import hashlib
import re
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from courses.models import Course
from courses.selectors.importing import earlier_import
from courses.services.captions import (
    MAX_CAPTIONS_BYTES,
    CaptionsError,
    Cue,
    check_size,
    read_captions,
    set_episode_captions,
    to_webvtt,
)
from courses.services.feeds import (
    MAX_FEED_BYTES,
    EpisodeFileError,
    Feed,
    FeedError,
    chapter_source,
    load_feed,
    prepare_episode,
    read_feed,
)
from courses.services.importing import (
    MAX_CHAPTERS,
    MAX_TEXT_BYTES,
    ShowNotesError,
    import_course,
    parse_show_notes,
)
from courses.services.safe_fetch import size_text

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

    # A transcript uploaded with an earlier post of this form, kept (as WebVTT) while the author
    # decides about an earlier import: a file input cannot be filled in again.
    carried_captions = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    carried_captions_name = forms.CharField(
        required=False, max_length=255, widget=forms.HiddenInput
    )
    new_copy = forms.BooleanField(required=False, widget=forms.HiddenInput)

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
            carried = self.data.get("carried_captions") or ""
            if not carried.strip():
                return None
            name = (self.data.get("carried_captions_name") or "transcript.vtt")[:255]
            try:
                return name, read_captions(carried.encode("utf-8"), filename="carried.vtt")
            except (CaptionsError, UnicodeEncodeError) as exc:
                raise ValidationError(_("Upload the transcript again.")) from exc
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


# --- Posts too large to read --------------------------------------------------------------------


def _unreadable_post(request: HttpRequest) -> bool:
    """Whether the post is larger than the site reads (DATA_UPLOAD_MAX_MEMORY_SIZE): then
    neither its fields nor its CSRF token can be read, and the form answers it."""
    if request.method != "POST":
        return False
    try:
        request.POST  # noqa: B018 - reading it is the check
        request.FILES  # noqa: B018
    except RequestDataTooBig:
        return True
    return False


TOO_BIG = gettext_lazy(
    "What was sent is larger than this page accepts: the show notes can be at most 1 MB. "
    "Paste only the episode's notes (not the whole web page), or upload them as a .txt file."
)


def _readable_post_only(admin_site, page_view, too_big):
    """The admin view for an import page: a post too large for Django to read (past
    DATA_UPLOAD_MAX_MEMORY_SIZE) gets the page's own form with `too_big()` (page, problem),
    never Django's error page. CSRF is checked once the post can be read: a post that cannot
    be read changes nothing."""

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("courses.add_course"):
            raise PermissionDenied
        if _unreadable_post(request):
            page, problem = too_big()
            return page(request, admin_site, status=413, problem=problem)
        return csrf_protect(page_view)(request, admin_site)

    return view


def import_episode_view(admin_site):
    return _readable_post_only(
        admin_site,
        import_episode,
        lambda: (partial(_episode_page, form=ImportEpisodeForm()), TOO_BIG),
    )


def import_feed_view(admin_site):
    def too_big():
        limit = _("A feed file can be at most %(limit)s.") % {"limit": size_text(MAX_FEED_BYTES)}
        problem = _("What was sent is larger than this page accepts. %(hint)s") % {"hint": limit}
        return partial(_feed_page, form=FeedForm()), problem

    return _readable_post_only(admin_site, import_feed, too_big)


# --- From show notes ----------------------------------------------------------------------------


def import_episode(request: HttpRequest, admin_site) -> HttpResponse:
    """Show the form; on a good post, create the draft and open it in the admin. When the
    same episode was imported before, offer to open that draft instead."""
    if not request.user.has_perm("courses.add_course"):
        raise PermissionDenied
    if request.method != "POST":
        return _episode_page(request, admin_site, ImportEpisodeForm())
    form = ImportEpisodeForm(request.POST, request.FILES)
    if not form.is_valid():
        return _episode_page(request, admin_site, form, status=400)
    data = form.cleaned_data
    try:
        title = data["title"] or parse_show_notes(data["text"]).title
    except ShowNotesError as exc:
        form.add_error(None, str(exc))
        return _episode_page(request, admin_site, form, status=400)
    earlier = None
    if not data["new_copy"]:
        earlier = earlier_import(title=title, media_url=data["media_url"])
    if earlier is not None:
        # Everything the author gave stays on the page: an uploaded file's text moves into
        # the notes box, an uploaded transcript rides along in the page.
        kept = request.POST.copy()
        kept["notes"] = data["text"]
        if data["captions"] is not None:
            name, cues = data["captions"]
            kept["carried_captions"] = to_webvtt(cues)
            kept["carried_captions_name"] = name
        return _episode_page(
            request, admin_site, ImportEpisodeForm(kept), earlier=earlier, status=409
        )
    captions = data["captions"]
    try:
        course = _create_draft(
            request,
            admin_site,
            text=data["text"],
            title=data["title"] or None,
            media_url=data["media_url"],
            duration_seconds=data["duration"],
            captions=captions,
            log=_("Imported from show notes."),
        )
    except ShowNotesError as exc:
        form.add_error(None, str(exc))
        return _episode_page(request, admin_site, form, status=400)
    except CaptionsError as exc:
        form.add_error("captions", str(exc))
        return _episode_page(request, admin_site, form, status=400)
    _tell_imported(request, course, captions=captions, source=_("the transcript"))
    return HttpResponseRedirect(reverse("admin:courses_course_change", args=[course.pk]))


def _episode_page(
    request, admin_site, form, *, status: int = 200, problem: str = "", earlier=None
) -> HttpResponse:
    context = {
        **_common_context(request, admin_site, earlier=earlier, media_url=_given(form)),
        "title": _("Import a course from an episode's show notes"),
        "form": form,
        "problem": problem,
        "earlier": earlier,
        "fieldsets": [
            (_("Show notes"), [form["notes"], form["file"]]),
            (_("Transcript (optional)"), [form["captions"]]),
            (
                _("Course and episode (optional)"),
                [form["title"], form["media_url"], form["duration"]],
            ),
        ],
        "example": EXAMPLE,
        "max_chapters": MAX_CHAPTERS,
    }
    return TemplateResponse(request, "admin/courses/import_episode.html", context, status=status)


# --- From a podcast feed ------------------------------------------------------------------------

FEED_SESSION_KEY = "courses_import_feed"
FEED_SIZE_HINT = gettext_lazy("The feed's .xml file, as the podcast host exports it, at most 5 MB.")


class FeedForm(forms.Form):
    feed_url = forms.CharField(
        label=gettext_lazy("Feed address"),
        max_length=2000,
        required=False,
        widget=forms.TextInput(
            attrs={"class": "vURLField", "placeholder": "https://example.com/podcast/feed.xml"}
        ),
        help_text=gettext_lazy(
            "The podcast's RSS feed, the address podcast apps subscribe to (not the page of one "
            "episode)."
        ),
    )
    feed_file = forms.FileField(
        label=gettext_lazy("Or the feed's file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,.rss,application/rss+xml"}),
        help_text=FEED_SIZE_HINT,
    )
    episode = forms.CharField(required=False, max_length=64)
    without_files = forms.BooleanField(required=False, widget=forms.HiddenInput)
    feed_token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    new_copy = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_feed_url(self) -> str:
        value = self.cleaned_data["feed_url"].strip()
        if value and not re.match(r"^https?://", value, re.I):
            if "://" in value:
                raise ValidationError(
                    _("Give the feed's address starting with https:// (or http://).")
                )
            value = "https://" + value  # typed without its scheme, as people do
        return value

    def clean_feed_file(self) -> bytes | None:
        upload = self.cleaned_data.get("feed_file")
        if not upload:
            return None
        if upload.size > MAX_FEED_BYTES:
            raise ValidationError(
                _("The feed file is larger than %(limit)s, more than can be imported.")
                % {"limit": size_text(MAX_FEED_BYTES)}
            )
        data = upload.read(MAX_FEED_BYTES + 1)
        if len(data) > MAX_FEED_BYTES:
            raise ValidationError(
                _("The feed file is larger than %(limit)s, more than can be imported.")
                % {"limit": size_text(MAX_FEED_BYTES)}
            )
        return data


def import_feed(request: HttpRequest, admin_site) -> HttpResponse:
    """Two posts: the feed (its address or file), which lists its episodes; then the chosen
    episode, which becomes a draft course and opens it."""
    if not request.user.has_perm("courses.add_course"):
        raise PermissionDenied
    if request.method != "POST":
        return _feed_page(request, admin_site, FeedForm())
    form = FeedForm(request.POST, request.FILES)
    if not form.is_valid():
        return _feed_page(request, admin_site, form, status=400)
    data = form.cleaned_data
    choosing = request.POST.get("action") == "import" or data["new_copy"] or data["without_files"]
    feed = _kept_feed(request, data["feed_token"]) if choosing and not data["feed_file"] else None
    if feed is None:
        try:
            feed, token = _read_given_feed(request, data)
        except (FeedError, ValidationError) as exc:
            form.add_error(None, exc.messages[0] if isinstance(exc, ValidationError) else str(exc))
            return _feed_page(request, admin_site, form, status=400)
    else:
        token = data["feed_token"]
    kept = request.POST.copy()
    kept["feed_token"] = token
    kept.pop("new_copy", None)
    kept.pop("without_files", None)
    if not choosing:
        return _feed_page(request, admin_site, FeedForm(kept), feed=feed)
    form = FeedForm(kept)
    form.is_valid()
    episode = feed.episode(data["episode"]) if data["episode"] else None
    if episode is None:
        form.add_error(
            None,
            _("Choose the episode to import.")
            if not data["episode"]
            else _("That episode is no longer in the feed: choose again."),
        )
        return _feed_page(request, admin_site, form, feed=feed, status=400)
    # Leaving the files aside comes after this check was passed (or a new copy chosen).
    if not (data["new_copy"] or data["without_files"]):
        earlier = earlier_import(
            title=episode.title, media_url=episode.media_url, source_url=episode.source_url
        )
        if earlier is not None:
            return _feed_page(request, admin_site, form, feed=feed, earlier=earlier, status=409)
    try:
        prepared = prepare_episode(feed, episode, without_files=data["without_files"])
        captions = (prepared.captions_name, prepared.cues) if prepared.cues else None
        course = _create_draft(
            request,
            admin_site,
            text=prepared.text,
            title=prepared.title,
            media_url=prepared.media_url,
            duration_seconds=prepared.duration_seconds,
            captions=captions,
            log=_("Imported from the podcast feed."),
            show=prepared.show,
            published_on=prepared.published_on,
            source_url=prepared.source_url,
        )
    except EpisodeFileError as exc:
        form.add_error(None, str(exc))
        return _feed_page(request, admin_site, form, feed=feed, status=400, files_failed=True)
    except (FeedError, ShowNotesError) as exc:
        form.add_error(None, str(exc))
        return _feed_page(request, admin_site, form, feed=feed, status=400)
    except CaptionsError as exc:
        form.add_error(
            None,
            _("The episode's transcript (podcast:transcript) does not fit the episode: %(e)s")
            % {"e": exc},
        )
        return _feed_page(request, admin_site, form, feed=feed, status=400, files_failed=True)
    request.session.pop(FEED_SESSION_KEY, None)
    _tell_imported(request, course, captions=captions, source=_("the feed's transcript"))
    for note in prepared.notes:
        messages.warning(request, note)
    return HttpResponseRedirect(reverse("admin:courses_course_change", args=[course.pk]))


def _read_given_feed(request: HttpRequest, data: dict) -> tuple[Feed, str]:
    """The feed the author gave (file or address), kept in the session for the next post."""
    if data["feed_file"] is not None and data["feed_url"]:
        raise ValidationError(_("Give the feed's address or upload its file, not both."))
    if data["feed_file"] is not None:
        raw = data["feed_file"]
        feed = read_feed(raw)
    elif data["feed_url"]:
        feed, raw = load_feed(data["feed_url"])
    elif data["feed_token"]:
        raise ValidationError(
            _("The feed read before is no longer kept: upload the feed's file again.")
        )
    else:
        raise ValidationError(_("Give the podcast feed's address, or upload the feed's file."))
    token = hashlib.sha256(raw).hexdigest()[:32]
    request.session[FEED_SESSION_KEY] = {"token": token, "feed": feed.as_dict()}
    return feed, token


def _kept_feed(request: HttpRequest, token: str) -> Feed | None:
    kept = request.session.get(FEED_SESSION_KEY)
    if not token or not isinstance(kept, dict) or kept.get("token") != token:
        return None
    try:
        return Feed.from_dict(kept["feed"])
    except (KeyError, TypeError, ValueError):
        return None


def _feed_page(
    request,
    admin_site,
    form,
    *,
    feed=None,
    status: int = 200,
    problem: str = "",
    earlier=None,
    files_failed: bool = False,
) -> HttpResponse:
    chosen = form["episode"].value() if form.is_bound else ""
    episodes = [
        {
            "key": episode.key,
            "title": episode.title,
            "published": date_format(episode.published) if episode.published else "",
            "duration": _clock(episode.duration_seconds) if episode.duration_seconds else "",
            "chapters": chapter_source(episode),
            "transcript": ", ".join(t.kind.upper() for t in episode.transcripts),
            "has_audio": bool(episode.media_url),
            "chosen": episode.key == chosen,
        }
        for episode in (feed.episodes if feed else [])
    ]
    episode = next((e for e in feed.episodes if e.key == chosen), None) if feed else None
    context = {
        **_common_context(
            request,
            admin_site,
            earlier=earlier,
            media_url=episode.media_url if episode else "",
            source_url=episode.source_url if episode else "",
        ),
        "title": _("Import a course from a podcast feed"),
        "form": form,
        "feed": feed,
        "episodes": episodes,
        "problem": problem,
        "earlier": earlier,
        # The author does not own the feed: a chapters file or transcript that cannot be used
        # need not stop the import.
        "files_failed": files_failed,
    }
    return TemplateResponse(request, "admin/courses/import_feed.html", context, status=status)


# --- Shared -------------------------------------------------------------------------------------


def _create_draft(request, admin_site, *, captions, log: str, **imported):
    with transaction.atomic():
        course = import_course(acting_user=request.user, **imported)
        if captions is not None:
            # Checked against the episode's length, known only once imported; a refusal takes
            # the whole import back with it.
            name, cues = captions
            set_episode_captions(
                episode=course.episode, cues=cues, source_name=name, acting_user=request.user
            )
        admin_site.get_model_admin(Course).log_addition(request, course, log)
    return course


def _tell_imported(request, course: Course, *, captions, source: str) -> None:
    chapters = course.lessons.count()
    imported = _("Imported %(n)d chapters as a draft: %(title)s") % {
        "n": chapters,
        "title": course.title,
    }
    if captions is not None:
        imported += _(", captioned from %(source)s (%(n)d cues).") % {
            "source": source,
            "n": len(captions[1]),
        }
    messages.success(request, imported)
    if not course.episode.duration_seconds:
        messages.warning(
            request,
            _(
                "The episode's length was not given, the notes do not state it and no media "
                "file on this site tells it, so lesson %(n)d has no end yet. Give the episode's "
                "length and the lesson's end before publishing."
            )
            % {"n": chapters},
        )


def _given(form) -> str:
    return (form["media_url"].value() or "").strip() if form.is_bound else ""


def _common_context(
    request, admin_site, *, earlier=None, media_url: str = "", source_url: str = ""
) -> dict:
    opts = Course._meta
    reason = ""
    if earlier is not None:
        # Say why it is taken for the same episode, so a course that only shares a title is
        # recognised as another one.
        if media_url and earlier.episode.media_url == media_url:
            reason = _("It plays the same audio file.")
        elif source_url and earlier.episode.source_url == source_url:
            reason = _("It comes from the same episode page.")
        else:
            reason = _("It has the same title.")
    return {
        **admin_site.each_context(request),
        "earlier_reason": reason,
        "opts": opts,
        "app_label": opts.app_label,
        "can_view_courses": admin_site.get_model_admin(Course).has_view_or_change_permission(
            request
        ),
    }


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"

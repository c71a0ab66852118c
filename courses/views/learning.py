"""Course pages for learners. Views read through selectors and write through services; a course
a learner may not see, and another learner's progress, answer 404."""

import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ceu.markdown import render_markdown, stored_html
from courses import selectors
from courses.forms import CatalogFilterForm
from courses.models import Course, Enrollment, Lesson, Policy, PolicyKind
from courses.selectors.learning import (
    is_open_to_enrolled,
    lineage_credit,
    open_until,
    progress_percent,
)
from courses.services import assessment, captions, learning
from courses.views.personal import kept_per_learner

CATALOG_PAGE_SIZE = 12
# The lesson player's speeds: slower for careful listening, and no faster than the rate the
# server credits listening at (learning.MAX_PLAYBACK_RATE).
PLAYBACK_SPEEDS = ("0.75", "1", "1.25", "1.5", "1.75", "2")
# A beat is a position and a flag: anything much larger is not a beat.
MAX_HEARTBEAT_BYTES = 1024


# Catalog pages kept whole in the cache: the landing page and its first pages, with no filter.
# Anything else (a search, a topic, a learner's licences) is built per request.
CACHED_CATALOG_PAGES = 20


def _catalog_results(*, form, filters: dict, query: str, page_number, user, licences):
    courses = selectors.catalog(user=user, licences=licences, **filters)
    page = Paginator(courses, CATALOG_PAGE_SIZE).get_page(page_number)
    for course in page.object_list:
        course.professions = selectors.professions_served(course)
    return {
        "form": render_to_string("courses/_catalog_form.html", {"form": form}),
        "results": render_to_string(
            "courses/_catalog_results.html", {"page": page, "query": query}
        ),
    }


@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    page_number = request.GET.get("page")
    # The plain catalog is the same for everyone: kept in the cache by content version (and the
    # day, which decides the current approvals).
    plain = set(request.GET) <= {"page"} and (
        page_number is None
        or page_number in {str(number) for number in range(1, CACHED_CATALOG_PAGES + 1)}
    )
    licences = None
    if plain:
        form, filters, query = CatalogFilterForm(), {"for_my_licences": False}, ""
        today = timezone.localdate()
        parts = selectors.cached_content(
            {
                "catalog": (
                    f"catalog-page:{today}:{page_number or 1}",
                    lambda _values: _catalog_results(
                        form=form,
                        filters={"today": today},
                        query=query,
                        page_number=page_number,
                        user=AnonymousUser(),
                        licences=None,
                    ),
                )
            }
        )["catalog"]
    else:
        form = CatalogFilterForm(request.GET or None)
        filters = form.filters()
        # Filtered to what counts for the learner's licences: judged by their boards' rules,
        # which the page names with the dates they were checked.
        if filters.get("for_my_licences") and request.user.is_authenticated:
            licences = selectors.with_board_rules(request.user.licences.all())
        kept = request.GET.copy()
        kept.pop("page", None)
        query = kept.urlencode()
        parts = _catalog_results(
            form=form,
            filters=filters,
            query=query,
            page_number=page_number,
            user=request.user,
            licences=licences,
        )
    return render(
        request,
        "courses/catalog.html",
        {
            "form_html": parts["form"],
            "results_html": parts["results"],
            "query": query,
            "filters": filters,
            "board_rules": [licence.board_rule for licence in licences or [] if licence.board_rule],
            "provider": selectors.current_provider(),
        },
    )


# A blank line, whatever line endings the author's browser sent.
_PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n\s*")


def _description_under_summary(course: Course) -> SafeString:
    """The description as the course page prints it under the summary: without an opening
    paragraph that only repeats the summary (an imported episode's notes often give both the
    same words), so nothing is read twice. Rendered once per content version, with the page's
    other fragments."""
    summary = " ".join(course.summary.split())
    opening, *rest = _PARAGRAPH_BREAK.split(course.description.strip(), maxsplit=1)
    if not summary or " ".join(opening.split()) != summary:
        return course.description_as_html
    return render_markdown(rest[0]) if rest else SafeString("")


def _course_fragments(values: dict) -> dict | None:
    """The parts of the course page that are the same for every visitor, rendered once per
    content version: they are given the course and nothing of the visitor's."""
    course = values["course"]
    if course is None:
        return None
    provider = selectors.current_provider()
    for approval in course.current_approvals:
        approval.statement_text = approval.statement(provider)
    context = {
        "course": course,
        "description_html": _description_under_summary(course),
        "lessons": list(course.lessons.all()),
        "provider": provider,
        "policies": list(Policy.objects.all()),
    }
    return {
        name: render_to_string(f"courses/_course_{name}.html", context)
        for name in ("about", "hours", "more")
    }


@require_GET
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    today = timezone.localdate()
    content = selectors.cached_content(
        {
            **selectors.course_entry(slug, today=today),
            "fragments": (f"course-page:{slug}:{today}", _course_fragments),
        }
    )
    course = content["course"]
    if course is None:
        raise Http404(_("No such training."))
    # The learner's enrollment with what the page's steps need (last lesson, passed?,
    # evaluated?), in one query.
    enrollment = selectors.enrollment_on_page(user=request.user, course=course)
    if not selectors.may_open(course, user=request.user, enrolled=enrollment is not None):
        raise Http404(_("No such training."))
    if enrollment is not None:
        enrollment.course = course
    licences = (
        selectors.with_board_rules(request.user.licences.all())
        if request.user.is_authenticated
        else []
    )
    lessons = list(course.lessons.all())
    progress = enrollment and selectors.progress_for(enrollment=enrollment, lessons=lessons)
    completion = enrollment and _completion(enrollment, progress)
    # This course's certificate and any other edition's, in one query.
    lineage = lineage_credit(user=request.user, course=course)
    # Once this course is completed, another edition's certificate is no news.
    earned_elsewhere = None if lineage.own else lineage.elsewhere
    earned_elsewhere_note = earned_elsewhere and assessment.already_earned(earned_elsewhere)
    hold = None
    if completion and completion.complete and enrollment.completed_at is None:
        hold = assessment.completion_hold(enrollment=enrollment, lineage=lineage)
    licence_credits = selectors.credit_for_licences(course=course, licences=licences)
    if licences:
        selectors.renewal_outlooks(
            user=request.user, course=course, licence_credits=licence_credits
        )
    return render(
        request,
        "courses/course_detail.html",
        {
            "course": course,
            "fragments": content["fragments"],
            "lessons": lessons,
            "enrollment": enrollment,
            "progress": progress,
            "completion": completion,
            "hold": hold,
            "certificate": lineage.own,
            "earned_elsewhere": earned_elsewhere,
            "earned_elsewhere_note": earned_elsewhere_note,
            "licence_credits": licence_credits,
            "credit_for_none": not any(credit.approvals for credit in licence_credits),
            "open_until": open_until(course),
            "provider": selectors.current_provider(),
            # Staff see unpublished courses as a preview; enrolled learners finishing an
            # archived course see it as theirs.
            "preview": not course.is_published and enrollment is None,
        },
    )


def _completion(enrollment: Enrollment, progress) -> assessment.Completion:
    """`assessment.completion_of` from the enrollment's annotations (`enrollment_on_page`)."""
    flags = {
        "lessons_done": progress.lessons_complete,
        "time_done": progress.minimum_reached,
        "passed": enrollment.passed,
        "evaluated": enrollment.evaluated,
        "attested": enrollment.attested_at is not None,
    }
    return assessment.Completion(**flags, missing=assessment.missing_steps(**flags))


@login_required
@require_POST
def enroll(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    try:
        enrollment, created = learning.enroll(user=request.user, course=course)
    except learning.CreditAlreadyEarned as refusal:
        messages.error(request, str(refusal))
        return redirect(course)
    except learning.LearningError:
        raise Http404(_("No such training.")) from None
    if created:
        messages.success(request, _("You are enrolled. Your progress is saved as you go."))
    lesson = enrollment.last_lesson or course.lessons.order_by("position").first()
    return redirect(lesson.get_absolute_url() if lesson else course.get_absolute_url())


def _lesson_fragments(position: int):
    def build(values: dict) -> dict | None:
        course = values["course"]
        lesson = course and next((x for x in course.lessons.all() if x.position == position), None)
        if lesson is None:
            return None
        # The lesson's text as rendered when saved, and its transcript, read only here.
        body_html, body = Lesson.objects.values_list("body_html", "body").get(pk=lesson.pk)
        transcript = captions.lesson_transcript(course.episode, lesson)
        speeds = [{"value": speed, "label": f"{speed}×"} for speed in PLAYBACK_SPEEDS]
        return {
            "body": stored_html(body_html, body),
            "has_transcript": bool(transcript),
            "transcript": render_to_string(
                "courses/_lesson_transcript.html", {"transcript": transcript}
            ),
            "player": {
                part: render_to_string(
                    f"courses/_lesson_player_{part}.html", {"lesson": lesson, "speeds": speeds}
                )
                for part in ("controls", "shortcuts")
            },
        }

    return build


def _lesson_context(request: HttpRequest, slug: str, position: int):
    """The course (from the cache), the lesson with what every learner sees of it, the course's
    lessons, and the learner's enrollment; 404 where the learner may not open it. Archived
    courses stay open to the learners enrolled in them, for the grace period."""
    today = timezone.localdate()
    content = selectors.cached_content(
        {
            **selectors.course_entry(slug, today=today),
            "lesson": (f"lesson:{slug}:{position}", _lesson_fragments(position)),
        }
    )
    course = content["course"]
    if course is None:
        raise Http404(_("No such training."))
    enrollment = selectors.learner_enrollment_in(user=request.user, course=course)
    if not selectors.may_open(course, user=request.user, enrolled=enrollment is not None):
        raise Http404(_("No such training."))
    lessons = list(course.lessons.all())
    lesson = next((item for item in lessons if item.position == position), None)
    if lesson is None or content["lesson"] is None:
        raise Http404(_("No such lesson."))
    lesson.course = course
    if enrollment is not None:
        enrollment.course = course
    return course, lesson, lessons, enrollment, content["lesson"]


@login_required
@require_GET
@kept_per_learner
def lesson(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    course, lesson, lessons, enrollment, shown = _lesson_context(request, slug, position)
    if enrollment is None and course.is_published:
        messages.info(request, _("Enroll to start the lessons; it is one click."))
        return redirect(course)
    progress = None
    status = None
    if enrollment is not None:
        learning.open_lesson(enrollment=enrollment, lesson=lesson)
        progress = selectors.progress_for(enrollment=enrollment, lessons=lessons)
        status = next((s for s in progress.lessons if s.lesson.pk == lesson.pk), None)
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    resume_at = lesson.media_start_seconds
    if status and status.progress and lesson.has_media:
        resume_at = status.progress.position_seconds
    response = render(
        request,
        "courses/lesson.html",
        {
            "course": course,
            "lesson": lesson,
            "lessons": lessons,
            "lesson_body": shown["body"],
            "transcript": shown["has_transcript"],
            "transcript_html": shown["transcript"],
            "player_html": shown["player"],
            "done": {s.lesson.pk for s in progress.lessons if s.is_complete} if progress else (),
            "enrollment": enrollment,
            "progress": progress,
            "status": status,
            "previous": lessons[index - 1] if index > 0 else None,
            "next": lessons[index + 1] if index + 1 < len(lessons) else None,
            "resume_at": resume_at,
            "preview": enrollment is None,
            # What the chapter player needs, also in a staff preview (which sends no beats).
            "player_data": {
                "start": lesson.media_start_seconds,
                "end": lesson.media_end_seconds,
                "resumeAt": resume_at,
                "complete": bool(status and status.is_complete),
                "speeds": [float(speed) for speed in PLAYBACK_SPEEDS],
            },
            "lesson_data": {
                "heartbeatUrl": reverse("courses:heartbeat", args=[course.slug, lesson.position]),
                # The CSRF cookie is HTTP-only, so the page hands its script the token.
                "csrfToken": get_token(request),
                "intervalSeconds": learning.heartbeat_interval(),
                "start": lesson.media_start_seconds,
                "end": lesson.media_end_seconds,
                "resumeAt": resume_at,
                "minimumEngagedMinutes": course.minimum_engaged_minutes,
            },
        },
    )
    response.kept_until = open_until(course)  # an archived training closes by itself
    return response


@login_required
@require_GET
def lesson_captions(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    """The lesson's captions track (WebVTT), to whoever may open the lesson."""
    course, lesson, _lessons, enrollment, _shown = _lesson_context(request, slug, position)
    if course.is_published and enrollment is None:
        # As the lesson page answers: enroll first.
        return redirect(course)
    track = captions.lesson_webvtt(course.episode, lesson)
    if track is None:
        raise Http404(_("This lesson has no captions."))
    return HttpResponse(track, content_type="text/vtt; charset=utf-8")


@login_required
@require_POST
def heartbeat(request: HttpRequest, slug: str, position: int) -> JsonResponse:
    # Only the learner's own enrollment in a course still open to them (published, or archived
    # within the grace period) that holds this lesson: anything else is 404. What the beat needs
    # of the course and the lesson is cached; the enrollment is read by the beat itself, in the
    # query that locks it, so a beat reads no row twice.
    course = selectors.beat_course(slug=slug)
    if course is None or not is_open_to_enrolled(course):
        raise Http404(_("You are not enrolled in this training."))
    lesson = course.lesson_at(position)
    if lesson is None:
        raise Http404(_("No such lesson."))
    try:
        # Past DATA_UPLOAD_MAX_MEMORY_SIZE, reading the body raises RequestDataTooBig.
        body = request.body
        if len(body) > MAX_HEARTBEAT_BYTES:
            raise ValueError
        payload = json.loads(body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError
        media_position = payload.get("position")
        if media_position is not None:
            # A number, not a boolean or a string that happens to parse.
            if isinstance(media_position, bool) or not isinstance(media_position, int | float):
                raise ValueError
            media_position = float(media_position)
            if not 0 <= media_position < 10**7:
                raise ValueError
        playing = payload.get("playing", False)
        if not isinstance(playing, bool):
            raise ValueError
    except (ValueError, TypeError, OverflowError, RecursionError, RequestDataTooBig):
        # RecursionError: deeply nested JSON exhausts the parser's stack before it fails.
        # OverflowError: an integer too large for a float.
        return JsonResponse(
            {"error": _('Send JSON like {"position": 12.5, "playing": true}.')}, status=400
        )
    try:
        beat = learning.record_heartbeat(
            user=request.user,
            course=course,
            lesson=lesson,
            position=media_position,
            playing=playing,
        )
    except Enrollment.DoesNotExist:
        raise Http404(_("You are not enrolled in this training.")) from None
    # The bar as the beat left it, from the beat's own reading of the progress rows.
    return JsonResponse(
        {
            "credited_seconds": beat.credited_seconds,
            "lesson_seconds": beat.lesson_seconds,
            "lesson_complete": beat.lesson_complete,
            "position": beat.position_seconds,
            "course_seconds": beat.course_seconds,
            "lessons_done": beat.lessons_done,
            "lessons_total": len(course.lessons),
            "percent": progress_percent(
                lessons_done=beat.lessons_done,
                lessons_total=len(course.lessons),
                engaged_seconds=beat.course_seconds,
                minimum_engaged_seconds=course.minimum_engaged_minutes * 60,
            ),
        }
    )


@login_required
@require_GET
@kept_per_learner
def my_trainings(request: HttpRequest) -> HttpResponse:
    enrollments = [
        assessment.note_steps_left(enrollment)
        for enrollment in selectors.my_enrollments(user=request.user)
    ]
    now = timezone.now()
    for enrollment in enrollments:
        # Archived trainings: open to finish until this moment, then closed.
        enrollment.open_until = open_until(enrollment.course)
        enrollment.closed = enrollment.open_until is not None and enrollment.open_until <= now
    response = render(request, "courses/my_trainings.html", {"enrollments": enrollments})
    # The page changes by itself when an archived training closes.
    response.kept_until = min(
        (e.open_until for e in enrollments if e.open_until is not None and e.open_until > now),
        default=None,
    )
    return response


@require_GET
def policy(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in PolicyKind.values:
        raise Http404
    # A policy not yet published still answers: a learner looking for it finds who to ask.
    published = Policy.objects.filter(kind=kind, is_published=True).first()
    return render(
        request,
        "courses/policy.html",
        {
            "policy": published,
            "kind": PolicyKind(kind),
            "provider": selectors.current_provider(),
        },
    )

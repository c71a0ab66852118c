"""Course pages for learners. Views read through selectors and write through services; a course
a learner may not see, and another learner's progress, answer 404."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from courses import selectors
from courses.forms import CatalogFilterForm
from courses.models import Course, Enrollment, Lesson, Policy, PolicyKind
from courses.selectors.catalog import courses_open_to
from courses.selectors.learning import lineage_credit, open_until
from courses.services import assessment, captions, learning

CATALOG_PAGE_SIZE = 12
# The lesson player's speeds: slower for careful listening, and no faster than the rate the
# server credits listening at (learning.MAX_PLAYBACK_RATE).
PLAYBACK_SPEEDS = ("0.75", "1", "1.25", "1.5", "1.75", "2")
# A beat is a position and a flag: anything much larger is not a beat.
MAX_HEARTBEAT_BYTES = 1024


@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    form = CatalogFilterForm(request.GET or None)
    filters = form.filters()
    # Filtered to what counts for the learner's licences: judged by their boards' rules, which
    # the page names with the dates they were checked.
    licences = (
        selectors.with_board_rules(request.user.licences.all())
        if filters.get("for_my_licences") and request.user.is_authenticated
        else None
    )
    courses = selectors.catalog(user=request.user, licences=licences, **filters)
    page = Paginator(courses, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    for course in page.object_list:
        course.professions = selectors.professions_served(course)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "courses/catalog.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filters": filters,
            "board_rules": [licence.board_rule for licence in licences or [] if licence.board_rule],
            "provider": selectors.current_provider(),
        },
    )


@require_GET
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        course = selectors.course_page(slug=slug, user=request.user)
    except Course.DoesNotExist:
        raise Http404(_("No such training.")) from None
    enrollment = selectors.enrollment_for(user=request.user, course=course)
    if enrollment is not None:
        enrollment.course = course
    licences = (
        selectors.with_board_rules(request.user.licences.all())
        if request.user.is_authenticated
        else []
    )
    lessons = list(course.lessons.all())
    progress = enrollment and selectors.progress_for(enrollment=enrollment, lessons=lessons)
    completion = enrollment and assessment.completion_of(enrollment=enrollment, progress=progress)
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
    provider = selectors.current_provider()
    for approval in course.current_approvals:
        approval.statement_text = approval.statement(provider)
    return render(
        request,
        "courses/course_detail.html",
        {
            "course": course,
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
            "provider": provider,
            "policies": Policy.objects.all(),
            # Staff see unpublished courses as a preview; enrolled learners finishing an
            # archived course see it as theirs.
            "preview": not course.is_published and enrollment is None,
        },
    )


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


def _lesson_context(request: HttpRequest, slug: str, position: int):
    # Archived courses stay open to the learners enrolled in them, for the grace period.
    course = get_object_or_404(
        courses_open_to(user=request.user).select_related("episode"), slug=slug
    )
    try:
        lesson, lessons = selectors.lesson_page(course=course, position=position)
    except Lesson.DoesNotExist:
        raise Http404(_("No such lesson.")) from None
    lesson.course = course
    return course, lesson, lessons


@login_required
@require_GET
def lesson(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    course, lesson, lessons = _lesson_context(request, slug, position)
    enrollment = selectors.enrollment_for(user=request.user, course=course)
    if enrollment is None and course.is_published:
        messages.info(request, _("Enroll to start the lessons; it is one click."))
        return redirect(course)
    progress = None
    status = None
    if enrollment is not None:
        enrollment.course = course
        learning.open_lesson(enrollment=enrollment, lesson=lesson)
        progress = selectors.progress_for(enrollment=enrollment, lessons=lessons)
        status = next((s for s in progress.lessons if s.lesson.pk == lesson.pk), None)
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    resume_at = lesson.media_start_seconds
    if status and status.progress and lesson.has_media:
        resume_at = status.progress.position_seconds
    transcript = captions.lesson_transcript(course.episode, lesson)
    return render(
        request,
        "courses/lesson.html",
        {
            "course": course,
            "lesson": lesson,
            "lessons": lessons,
            "enrollment": enrollment,
            "progress": progress,
            "status": status,
            "previous": lessons[index - 1] if index > 0 else None,
            "next": lessons[index + 1] if index + 1 < len(lessons) else None,
            "resume_at": resume_at,
            "preview": enrollment is None,
            "transcript": transcript,
            "speeds": [{"value": speed, "label": f"{speed}×"} for speed in PLAYBACK_SPEEDS],
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


@login_required
@require_GET
def lesson_captions(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    """The lesson's captions track (WebVTT), to whoever may open the lesson."""
    course, lesson, _lessons = _lesson_context(request, slug, position)
    if course.is_published and selectors.enrollment_for(user=request.user, course=course) is None:
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
    # within the grace period) that holds this lesson: anything else is 404.
    try:
        enrollment = selectors.learner_enrollment(user=request.user, slug=slug)
    except Enrollment.DoesNotExist:
        raise Http404(_("You are not enrolled in this training.")) from None
    lesson = get_object_or_404(Lesson, course=enrollment.course, position=position)
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
    beat = learning.record_heartbeat(
        enrollment=enrollment, lesson=lesson, position=media_position, playing=playing
    )
    enrollment.engaged_seconds = beat.course_seconds  # as the beat left it, for the bar
    progress = selectors.progress_for(enrollment=enrollment)
    return JsonResponse(
        {
            "credited_seconds": beat.credited_seconds,
            "lesson_seconds": beat.lesson_seconds,
            "lesson_complete": beat.lesson_complete,
            "position": beat.position_seconds,
            "course_seconds": beat.course_seconds,
            "lessons_done": progress.lessons_done,
            "lessons_total": progress.lessons_total,
            "percent": progress.percent,
        }
    )


@login_required
@require_GET
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
    return render(request, "courses/my_trainings.html", {"enrollments": enrollments})


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

"""The post-test, the evaluation and the attestation. Every page is looked up through the
learner's own enrollment, so another learner's attempt, or a forged id, answers 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from courses import selectors
from courses.forms import AttestationForm, EvaluationForm
from courses.models import Course, Enrollment, EvaluationResponse, QuizAttempt
from courses.selectors.assessment import attempts_standing
from courses.selectors.catalog import credit_for_learner
from courses.selectors.learning import finishing_enrollment, open_until
from courses.services import assessment


def _enrollment(request: HttpRequest, slug: str) -> Enrollment:
    try:
        return selectors.learner_enrollment(user=request.user, slug=slug)
    except Enrollment.DoesNotExist:
        raise Http404(_("You are not enrolled in this training.")) from None


def _post_test_url(slug: str) -> str:
    return reverse("courses:post_test", args=[slug])


@login_required
@require_http_methods(["GET"])
def post_test(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        enrollment = finishing_enrollment(user=request.user, slug=slug)
    except Enrollment.DoesNotExist:
        raise Http404(_("You are not enrolled in this training.")) from None
    enrollment.user = request.user
    course = enrollment.course
    progress = selectors.progress_for(enrollment=enrollment)
    attempts = selectors.attempts_of(enrollment=enrollment)
    blockers = assessment.post_test_blockers(
        enrollment=enrollment, progress=progress, bank_size=course.questions.count()
    )
    standing = attempts_standing(attempts, attempt_limit=course.attempt_limit)
    passed = standing.passed
    finishing = enrollment.completed_at is None
    ready = finishing and not assessment.missing_steps(
        lessons_done=progress.lessons_complete,
        time_done=progress.minimum_reached,
        passed=passed,
        evaluated=enrollment.evaluated,
        attested=enrollment.attested_at is not None,
    )
    # Before the test, per licence: where no approval serves it, the credit will not either.
    licence_credits = []
    if finishing:
        licences = selectors.with_board_rules(request.user.licences.all())
        licence_credits = credit_for_learner(course=course, licences=licences)
    return render(
        request,
        "courses/post_test.html",
        {
            "course": course,
            "enrollment": enrollment,
            "attempts": attempts,
            "blockers": blockers,
            "passed": passed,
            "open_attempt": standing.open_attempt,
            "attempts_left": standing.left,
            "out_of_attempts": not passed and standing.used_up,
            "evaluated": enrollment.evaluated,
            "attestation_form": AttestationForm(),
            "provider": selectors.current_provider(),
            "ready": ready,
            "hold": ready and assessment.completion_hold(enrollment=enrollment),
            "finishing": finishing,
            "licence_credits": licence_credits,
            "credit_for_none": not any(credit.approvals for credit in licence_credits),
            "open_until": open_until(course),
        },
    )


@login_required
@require_POST
def start_attempt(request: HttpRequest, slug: str) -> HttpResponse:
    enrollment = _enrollment(request, slug)
    try:
        attempt = assessment.start_attempt(enrollment=enrollment)
    except assessment.AssessmentError as refusal:
        messages.error(request, str(refusal))
        return redirect(_post_test_url(slug))
    return redirect("courses:attempt", slug=slug, pk=attempt.pk)


def _answers_from(request: HttpRequest, attempt: QuizAttempt) -> dict[int, list[int]]:
    answers = {}
    for question in attempt.questions:
        values = request.POST.getlist(f"q{question['id']}")
        # Anything that is not a choice id becomes one no question has, and is refused as such.
        answers[question["id"]] = [
            int(v) if v.isascii() and v.isdigit() and len(v) < 12 else -1 for v in values
        ]
    return answers


@login_required
@require_http_methods(["GET", "POST"])
def attempt(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    enrollment = _enrollment(request, slug)
    attempt = QuizAttempt.objects.filter(enrollment=enrollment, pk=pk).first()
    if attempt is None:
        raise Http404(_("No such attempt."))
    course = enrollment.course
    error = None
    flagged: list[int] = []  # the questions the error names, by their number on the page
    chosen: dict[int, list[int]] = {}
    if request.method == "POST":
        chosen = _answers_from(request, attempt)
        try:
            attempt = assessment.submit_attempt(attempt=attempt, answers=chosen)
        except assessment.AlreadySubmitted as refusal:
            messages.info(request, str(refusal))
            return redirect("courses:attempt", slug=slug, pk=pk)
        except assessment.AnswerError as refusal:
            error = str(refusal)
            flagged = refusal.questions
        else:
            return redirect("courses:attempt", slug=slug, pk=pk)
    if not attempt.is_submitted:
        return render(
            request,
            "courses/attempt_form.html",
            {
                "course": course,
                "attempt": attempt,
                "questions": selectors.questions_as_shown(attempt),
                "chosen": {str(qid): ids for qid, ids in chosen.items()},
                "error": error,
                "flagged": flagged,
            },
            status=400 if error else 200,
        )
    attempts = selectors.attempts_of(enrollment=enrollment)
    standing = attempts_standing(attempts, attempt_limit=course.attempt_limit)
    return render(
        request,
        "courses/attempt_result.html",
        {
            "course": course,
            "attempt": attempt,
            "feedback": selectors.attempt_feedback(
                attempt, attempts=attempts, attempt_limit=course.attempt_limit
            ),
            "passed_any": standing.passed,
            "attempts_left": standing.left,
            "provider": selectors.current_provider(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def evaluation(request: HttpRequest, slug: str) -> HttpResponse:
    enrollment = _enrollment(request, slug)
    course = enrollment.course
    existing = EvaluationResponse.objects.filter(enrollment=enrollment).first()
    objectives = list(course.objectives.order_by("position"))
    form = EvaluationForm(
        request.POST if request.method == "POST" and existing is None else None,
        objectives=objectives,
        presenter=course.presenter_name,
    )
    if form.is_bound and form.is_valid():
        try:
            assessment.record_evaluation(
                enrollment=enrollment,
                objective_ratings=form.objective_ratings(),
                learned_rating=form.cleaned_data["learned_rating"],
                usefulness_rating=form.cleaned_data["usefulness_rating"],
                presenter_rating=form.cleaned_data["presenter_rating"],
                comments=form.cleaned_data["comments"],
            )
        except assessment.AssessmentError as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("Thank you: your evaluation is recorded."))
        return redirect(_post_test_url(slug))
    return render(
        request,
        "courses/evaluation.html",
        {"course": course, "enrollment": enrollment, "form": form, "existing": existing},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def attest(request: HttpRequest, slug: str) -> HttpResponse:
    """Attest; once attested, the same POST is the "Finish and get my certificate" button of a
    training that waited (the daily cap), and needs no box ticked again."""
    enrollment = _enrollment(request, slug)
    attesting = enrollment.attested_at is None
    was_complete = enrollment.completed_at is not None
    if attesting:
        form = AttestationForm(request.POST)
        if not form.is_valid():
            messages.error(request, form.errors["confirm"][0])
            return redirect(_post_test_url(slug))
    try:
        enrollment = assessment.attest(enrollment=enrollment)
    except assessment.AssessmentError as refusal:
        messages.error(request, str(refusal))
    else:
        if attesting:
            messages.success(request, _("Thank you: your attestation is recorded."))
        if enrollment.completed_at is not None and not was_complete:
            messages.success(request, _("Training complete: your certificate is issued."))
    return redirect(_post_test_url(slug))


@login_required
@require_http_methods(["GET"])
def post_test_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The post-test exactly as a learner would see it, for staff previewing any course."""
    if not selectors.can_preview(request.user):
        raise Http404
    course = Course.objects.filter(slug=slug).first()
    if course is None:
        raise Http404
    preview = QuizAttempt(
        number=1, questions=assessment.snapshot_questions(course), pass_mark=course.pass_mark
    )
    return render(
        request,
        "courses/attempt_form.html",
        {
            "course": course,
            "attempt": preview,
            "questions": selectors.questions_as_shown(preview),
            "chosen": {},
            "preview": True,
        },
    )

"""The post-test, the evaluation and the attestation, and the completion they lead to. Grading
happens here, against the key snapshotted when the attempt started; nothing the browser sends
is trusted beyond which choices it ticked."""

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from courses.models import Certificate, Enrollment, EvaluationResponse, Question, QuizAttempt
from courses.selectors import Progress, progress_for
from courses.selectors.learning import LineageCredit, completions_since, lineage_credit
from courses.services import credentials

# APA recommends six to eight questions per credit hour.
QUESTIONS_PER_CE_HOUR = 6


class AssessmentError(Exception):
    """A step the rules do not allow yet (or any more); the message says why."""


class AnswerError(AssessmentError):
    """A submission that cannot be graded as it stands; nothing was stored."""

    def __init__(self, message: str, *, questions: list[int]):
        super().__init__(message)
        self.questions = questions


class AlreadySubmitted(AssessmentError):
    """The attempt was graded before; it is graded once."""


def required_questions(course) -> int:
    """Questions the bank needs before the post-test is offered: six per CE hour, rounded up."""
    return math.ceil(course.ce_hours * QUESTIONS_PER_CE_HOUR)


def post_test_blockers(*, enrollment: Enrollment, progress: Progress, bank_size: int) -> list[str]:
    """What still stands between the learner and the post-test, in words they can act on."""
    blockers = []
    if not progress.lessons_complete:
        left = progress.lessons_total - progress.lessons_done
        blockers.append(
            ngettext("Finish %(count)d more lesson.", "Finish %(count)d more lessons.", left)
            % {"count": left}
        )
    if not progress.minimum_reached:
        minutes = math.ceil((progress.minimum_engaged_seconds - progress.engaged_seconds) / 60)
        blockers.append(
            ngettext(
                "Spend %(count)d more minute in the lessons.",
                "Spend %(count)d more minutes in the lessons.",
                minutes,
            )
            % {"count": minutes}
        )
    if bank_size < required_questions(enrollment.course):
        blockers.append(_("This training's post-test is not ready yet; please check back soon."))
    return blockers


def _locked(enrollment: Enrollment) -> Enrollment:
    # The enrollment's row alone: its course comes along unlocked, or every learner's
    # submission in a course would queue behind the others.
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("course")
        .get(pk=enrollment.pk)
    )


def _require_test_open(enrollment: Enrollment) -> None:
    progress = progress_for(enrollment=enrollment)
    bank = Question.objects.filter(course_id=enrollment.course_id).count()
    blockers = post_test_blockers(enrollment=enrollment, progress=progress, bank_size=bank)
    if blockers:
        raise AssessmentError(" ".join(blockers))


def snapshot_questions(course) -> list[dict]:
    """The bank in a fresh random order, choices shuffled, with the key as it stands now."""
    rng = random.SystemRandom()
    questions = list(Question.objects.filter(course=course).prefetch_related("choices"))
    rng.shuffle(questions)
    shown = []
    for question in questions:
        choices = list(question.choices.all())
        rng.shuffle(choices)
        shown.append(
            {
                "id": question.pk,
                "kind": question.kind,
                "text": question.text,
                "explanation": question.explanation,
                "choices": [
                    {"id": choice.pk, "text": choice.text, "correct": choice.is_correct}
                    for choice in choices
                ],
            }
        )
    return shown


@transaction.atomic
def start_attempt(*, enrollment: Enrollment) -> QuizAttempt:
    """Open an attempt, or return the one already open so a reload shows the same test."""
    enrollment = _locked(enrollment)
    attempts = QuizAttempt.objects.filter(enrollment=enrollment)
    if attempts.filter(passed=True).exists():
        raise AssessmentError(_("You have passed the post-test; there is nothing more to earn."))
    open_attempt = attempts.filter(submitted_at__isnull=True).first()
    if open_attempt is not None:
        return open_attempt
    _require_test_open(enrollment)
    used = attempts.count()
    course = enrollment.course
    if used >= course.attempt_limit:
        raise AssessmentError(
            _("You have used all %(limit)d attempts at this post-test.") % {"limit": used}
        )
    return QuizAttempt.objects.create(
        enrollment=enrollment,
        number=used + 1,
        questions=snapshot_questions(course),
        pass_mark=course.pass_mark,
    )


def _validate(questions: list[dict], answers: dict[int, list[int]]) -> dict[str, list[int]]:
    unanswered, invalid = [], []
    clean: dict[str, list[int]] = {}
    for number, question in enumerate(questions, start=1):
        chosen = list(dict.fromkeys(answers.get(question["id"], [])))
        allowed = {choice["id"] for choice in question["choices"]}
        if not chosen:
            unanswered.append(number)
        elif not set(chosen) <= allowed or (question["kind"] == "single" and len(chosen) > 1):
            invalid.append(number)
        clean[str(question["id"])] = chosen
    if unanswered or invalid:
        parts = []
        if unanswered:
            parts.append(
                ngettext("Answer question %(list)s.", "Answer questions %(list)s.", len(unanswered))
                % {"list": ", ".join(map(str, unanswered))}
            )
        if invalid:
            parts.append(
                _("The answers to question %(list)s are not among its choices; choose again.")
                % {"list": ", ".join(map(str, invalid))}
            )
        raise AnswerError(" ".join(parts), questions=unanswered + invalid)
    return clean


@transaction.atomic
def submit_attempt(*, attempt: QuizAttempt, answers: dict[int, list[int]]) -> QuizAttempt:
    """Grade the attempt once, against its own snapshot of the key."""
    attempt = QuizAttempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.is_submitted:
        raise AlreadySubmitted(_("This attempt was already submitted and graded."))
    clean = _validate(attempt.questions, answers)
    correct = sum(
        set(clean[str(q["id"])]) == {c["id"] for c in q["choices"] if c["correct"]}
        for q in attempt.questions
    )
    attempt.answers = clean
    attempt.score = (Decimal(100) * correct / len(attempt.questions)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    attempt.passed = attempt.score >= attempt.pass_mark
    attempt.submitted_at = timezone.now()
    attempt.save(update_fields=["answers", "score", "passed", "submitted_at"])
    complete_if_ready(enrollment=attempt.enrollment)
    return attempt


@transaction.atomic
def record_evaluation(
    *,
    enrollment: Enrollment,
    objective_ratings: list[int],
    learned_rating: int,
    usefulness_rating: int,
    presenter_rating: int,
    comments: str = "",
) -> EvaluationResponse:
    """Keep the learner's evaluation; it is given once and never changed."""
    enrollment = _locked(enrollment)
    if EvaluationResponse.objects.filter(enrollment=enrollment).exists():
        raise AssessmentError(_("You have already evaluated this training. Thank you."))
    _require_test_open(enrollment)
    objectives = list(enrollment.course.objectives.order_by("position"))
    if len(objective_ratings) != len(objectives):
        raise AssessmentError(_("Rate every learning objective."))
    evaluation = EvaluationResponse.objects.create(
        enrollment=enrollment,
        objective_ratings=[
            {"objective": objective.text, "rating": rating}
            for objective, rating in zip(objectives, objective_ratings, strict=True)
        ],
        learned_rating=learned_rating,
        usefulness_rating=usefulness_rating,
        presenter_rating=presenter_rating,
        comments=comments.strip(),
    )
    complete_if_ready(enrollment=enrollment)
    return evaluation


@transaction.atomic
def attest(*, enrollment: Enrollment) -> Enrollment:
    """Record that the learner completed the training themselves; the first date stands."""
    enrollment = _locked(enrollment)
    if enrollment.attested_at is None:
        _require_test_open(enrollment)
        enrollment.attested_at = timezone.now()
        enrollment.save(update_fields=["attested_at"])
    # Again after attesting, this is the learner's "Finish" once the daily cap lets it complete.
    if complete_if_ready(enrollment=enrollment):
        enrollment.refresh_from_db(fields=["completed_at"])
    return enrollment


@dataclass
class Completion:
    """Each step of a training and whether it is done: what the learner sees as steps left."""

    lessons_done: bool
    time_done: bool
    passed: bool
    evaluated: bool
    attested: bool
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def missing_steps(
    *, lessons_done: bool, time_done: bool, passed: bool, evaluated: bool, attested: bool
) -> list[str]:
    """The steps of a training still to do, in the order a learner meets them."""
    return [
        label
        for done, label in [
            (lessons_done, _("the lessons")),
            (time_done, _("the engaged time")),
            (passed, _("a passed post-test")),
            (evaluated, _("the evaluation")),
            (attested, _("the attestation")),
        ]
        if not done
    ]


def completion_of(*, enrollment: Enrollment, progress: Progress | None = None) -> Completion:
    progress = progress or progress_for(enrollment=enrollment)
    status = Completion(
        lessons_done=progress.lessons_complete,
        time_done=progress.minimum_reached,
        passed=QuizAttempt.objects.filter(enrollment=enrollment, passed=True).exists(),
        evaluated=EvaluationResponse.objects.filter(enrollment=enrollment).exists(),
        attested=enrollment.attested_at is not None,
    )
    status.missing = missing_steps(
        lessons_done=status.lessons_done,
        time_done=status.time_done,
        passed=status.passed,
        evaluated=status.evaluated,
        attested=status.attested,
    )
    return status


def note_steps_left(enrollment: Enrollment) -> Enrollment:
    """Set `steps_left` and `post_test_open` on an enrollment from `selectors.my_enrollments`,
    whose annotations hold everything needed: no query."""
    lessons_done = enrollment.lessons_done >= enrollment.lessons_total
    time_done = enrollment.engaged_seconds >= enrollment.course.minimum_engaged_minutes * 60
    enrollment.post_test_open = lessons_done and time_done
    enrollment.steps_left = missing_steps(
        lessons_done=lessons_done,
        time_done=time_done,
        passed=enrollment.passed,
        evaluated=enrollment.evaluated,
        attested=enrollment.attested_at is not None,
    )
    return enrollment


# Completions count against the online cap for this long (NAADAC: eight hours a day).
CAP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class CompletionHold:
    """Why a training whose every step is done is not complete yet, in words for the learner.
    Nothing is lost while it holds: the attempts, evaluation and attestation all stand."""

    message: str
    # The daily cap: the moment this training's hours fit (shown to the minute, rounded up).
    available_at: datetime | None = None
    # Credit already earned from another edition of the course: the certificate the learner holds.
    certificate: Certificate | None = None


def already_earned(certificate: Certificate) -> str:
    """What a learner holding `certificate` from another edition of a course is told there."""
    return _(
        'You earned credit for this training on %(date)s from its edition "%(title)s" '
        "(certificate %(code)s). Another edition teaches the same content and earns no new credit."
    ) % {
        "date": format_date(timezone.localtime(certificate.enrollment.completed_at), "M j, Y"),
        "title": certificate.enrollment.course.title,
        "code": certificate.code,
    }


def daily_cap_opens_at(
    *, user_id: int, hours: Decimal, now: datetime
) -> tuple[datetime | None, Decimal]:
    """When `hours` more CE hours fit under CEU_MAX_ONLINE_HOURS_PER_DAY in the rolling 24
    hours (None: they fit now), and the hours the learner completed in the last 24 hours."""
    cap = Decimal(settings.CEU_MAX_ONLINE_HOURS_PER_DAY)
    recent = completions_since(user_id=user_id, since=now - CAP_WINDOW)
    completed = sum((ce_hours for _at, ce_hours in recent), Decimal(0))
    # A course longer than the cap on its own fits once the window is empty: its minimum
    # engaged time spans most of a day anyway.
    if hours + completed <= cap or not recent:
        return None, completed
    # The oldest completions leave the window first: the moment enough have left, it fits.
    remaining = completed
    opens_at = recent[-1][0] + CAP_WINDOW
    for completed_at, ce_hours in recent:
        remaining -= ce_hours
        if hours + remaining <= cap:
            opens_at = completed_at + CAP_WINDOW
            break
    return opens_at, completed


def _to_the_minute(moment: datetime) -> datetime:
    """Rounded up, so a learner who comes back at the time shown is never turned away."""
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return moment


def completion_hold(
    *,
    enrollment: Enrollment,
    lineage: LineageCredit | None = None,
    now: datetime | None = None,
) -> CompletionHold | None:
    """What keeps a training whose steps are all done from completing now, or None. The rules
    of credit, not of the steps: no second credit from one lineage, and the daily online cap.
    Pass `lineage` when the page already holds it, to save the query."""
    now = now or timezone.now()
    course = enrollment.course
    lineage = lineage or lineage_credit(user=enrollment.user, course=course)
    if lineage.elsewhere is not None:
        return CompletionHold(
            message=already_earned(lineage.elsewhere), certificate=lineage.elsewhere
        )
    opens_at, completed = daily_cap_opens_at(
        user_id=enrollment.user_id, hours=course.ce_hours, now=now
    )
    if opens_at is not None:
        opens_at = _to_the_minute(timezone.localtime(opens_at))
        return CompletionHold(
            message=_(
                "You have completed %(hours)s CE hours in the last 24 hours; boards allow "
                "%(cap)s a day online. You can finish this training from %(when)s."
            )
            % {
                "hours": f"{completed.normalize():f}",
                "cap": settings.CEU_MAX_ONLINE_HOURS_PER_DAY,
                "when": format_date(opens_at, "M j, Y, g:i A T"),
            },
            available_at=opens_at,
        )
    return None


@transaction.atomic
def complete_if_ready(*, enrollment: Enrollment) -> bool:
    """Mark the enrollment complete once every step holds and the rules of credit allow it; the
    moment a certificate is due. When they do not yet (`completion_hold`), nothing is stored and
    a later call (the learner's "Finish" click) completes it."""
    enrollment = _locked(enrollment)
    if enrollment.completed_at is not None:
        return True
    if not completion_of(enrollment=enrollment).complete:
        return False
    # One learner's completions queue on their user row, so two trainings finishing at the same
    # moment cannot both fit under the daily cap, or both pay out one lineage.
    list(User.objects.select_for_update().filter(pk=enrollment.user_id).values_list("pk"))
    if completion_hold(enrollment=enrollment) is not None:
        return False
    enrollment.completed_at = timezone.now()
    enrollment.save(update_fields=["completed_at"])
    # The certificate is written in the same transaction as the completion it records.
    credentials.issue_certificate(enrollment=enrollment)
    return True

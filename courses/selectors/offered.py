"""The materials as offered (CA BBS 1887.12: keep them four years or more): a course's content
and post-test exactly as they stood at a moment, read from their kept history, for an auditor
who asks what a certified learner was taught and tested on."""

from dataclasses import dataclass, field
from datetime import datetime

from courses.models import (
    Accreditor,
    Certificate,
    Choice,
    Course,
    CourseApproval,
    LearningObjective,
    Lesson,
    Question,
    QuizAttempt,
    Reference,
)


@dataclass
class OfferedQuestion:
    question: Question
    choices: list[Choice]


@dataclass
class OfferedContent:
    """A course as it stood at `at`. `from_history` is False when no kept state reaches back
    that far (content loaded before history was kept): then it shows the content as it stands,
    and `frozen_since` says from when certificates have held it unchanged."""

    at: datetime
    course: Course
    lessons: list[Lesson]
    objectives: list[LearningObjective]
    references: list[Reference]
    approvals: list[CourseApproval]
    questions: list[OfferedQuestion]
    from_history: bool = True
    frozen_since: datetime | None = None
    accreditors: dict[int, Accreditor] = field(default_factory=dict)


def _as_of(model, at: datetime, **filters) -> list:
    return list(model.history.as_of(at).filter(**filters))


def content_as_offered(*, course_id: int, at: datetime) -> OfferedContent:
    """Everything learners of this course were taught and tested on at `at`, in a fixed number
    of queries whatever the course's size."""
    course = Course.history.as_of(at).filter(pk=course_id).first()
    from_history = course is not None
    if from_history:
        lessons = _as_of(Lesson, at, course_id=course_id)
        objectives = _as_of(LearningObjective, at, course_id=course_id)
        references = _as_of(Reference, at, course_id=course_id)
        approvals = _as_of(CourseApproval, at, course_id=course_id)
        questions = _as_of(Question, at, course_id=course_id)
        choices = _as_of(Choice, at, question_id__in=[q.pk for q in questions])
    else:
        course = Course.objects.get(pk=course_id)
        lessons = list(Lesson.objects.filter(course_id=course_id))
        objectives = list(LearningObjective.objects.filter(course_id=course_id))
        references = list(Reference.objects.filter(course_id=course_id))
        approvals = list(CourseApproval.objects.filter(course_id=course_id))
        questions = list(Question.objects.filter(course_id=course_id))
        choices = list(Choice.objects.filter(question__course_id=course_id))
    by_question: dict[int, list[Choice]] = {}
    for choice in sorted(choices, key=lambda c: c.position):
        by_question.setdefault(choice.question_id, []).append(choice)
    accreditors = Accreditor.objects.in_bulk({a.accreditor_id for a in approvals})
    for approval in approvals:
        accreditor = accreditors.get(approval.accreditor_id)
        approval.accreditor_label = accreditor.short_name if accreditor else "?"
    first_certificate = (
        Certificate.objects.filter(enrollment__course_id=course_id)
        .order_by("issued_at")
        .values_list("issued_at", flat=True)
        .first()
    )
    return OfferedContent(
        at=at,
        course=course,
        lessons=sorted(lessons, key=lambda x: x.position),
        objectives=sorted(objectives, key=lambda x: x.position),
        references=sorted(references, key=lambda x: x.position),
        approvals=sorted(approvals, key=lambda a: a.accreditor_id),
        questions=[
            OfferedQuestion(question=q, choices=by_question.get(q.pk, []))
            for q in sorted(questions, key=lambda x: x.position)
        ],
        from_history=from_history,
        frozen_since=first_certificate,
        accreditors=accreditors,
    )


def attempts_for_audit(certificate: Certificate) -> list[dict]:
    """The certified learner's attempts, each with the questions and key it was graded on and
    the choices the learner made."""
    attempts = QuizAttempt.objects.filter(enrollment_id=certificate.enrollment_id)
    return [
        {
            "attempt": attempt,
            "questions": [
                {
                    "text": question["text"],
                    "choices": [
                        {
                            "text": choice["text"],
                            "correct": choice["correct"],
                            "chosen": choice["id"] in attempt.answers.get(str(question["id"]), []),
                        }
                        for choice in question["choices"]
                    ],
                }
                for question in attempt.questions
            ],
        }
        for attempt in attempts.order_by("number")
    ]

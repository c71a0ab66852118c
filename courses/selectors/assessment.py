"""Reads of the post-test: attempts, questions as shown (never the key), feedback."""

from collections.abc import Sequence
from dataclasses import dataclass

from courses.models import (
    Enrollment,
    QuizAttempt,
)


def attempts_of(*, enrollment: Enrollment) -> list[QuizAttempt]:
    return list(QuizAttempt.objects.filter(enrollment=enrollment).order_by("number"))


def questions_as_shown(attempt: QuizAttempt) -> list[dict]:
    """An attempt's questions for the page, without the key: the browser never receives it."""
    return [
        {
            "id": question["id"],
            "kind": question["kind"],
            "text": question["text"],
            "choices": [{"id": c["id"], "text": c["text"]} for c in question["choices"]],
        }
        for question in attempt.questions
    ]


@dataclass(frozen=True)
class AttemptFeedback:
    """What a graded attempt's result page may show."""

    questions: list[dict]
    # The right answers: only once passed. The explanations: once passed or once every attempt
    # is used. Before that either would give the next attempt away.
    key_shown: bool
    explanations_shown: bool


@dataclass(frozen=True)
class AttemptsStanding:
    """Where a learner stands with the post-test's attempts: the one rule for "passed", "an
    attempt is open" and "every attempt is used" (an open attempt is not yet used)."""

    passed: bool
    open_attempt: QuizAttempt | None
    used: int
    limit: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def used_up(self) -> bool:
        return self.open_attempt is None and self.used >= self.limit


def attempts_standing(attempts: Sequence[QuizAttempt], *, attempt_limit: int) -> AttemptsStanding:
    return AttemptsStanding(
        passed=any(a.passed for a in attempts),
        open_attempt=next((a for a in attempts if not a.is_submitted), None),
        used=len(attempts),
        limit=attempt_limit,
    )


def attempt_feedback(
    attempt: QuizAttempt, *, attempts: Sequence[QuizAttempt], attempt_limit: int
) -> AttemptFeedback:
    """Per question of a graded attempt: what was chosen and whether it was right; the
    explanation and the right answers only when nothing is left to answer (see AttemptFeedback).
    `attempts` are all of the enrollment's attempts, an open one included."""
    standing = attempts_standing(attempts, attempt_limit=attempt_limit)
    key_shown = standing.passed
    explanations_shown = standing.passed or standing.used_up
    questions = []
    for question in attempt.questions:
        chosen = set(attempt.answers.get(str(question["id"]), []))
        key = {c["id"] for c in question["choices"] if c["correct"]}
        questions.append(
            {
                "text": question["text"],
                "kind": question["kind"],
                "right": chosen == key,
                "explanation": question["explanation"] if explanations_shown else None,
                "choices": [
                    {
                        "text": c["text"],
                        "chosen": c["id"] in chosen,
                        "correct": c["correct"] if key_shown else None,
                    }
                    for c in question["choices"]
                ],
            }
        )
    return AttemptFeedback(
        questions=questions, key_shown=key_shown, explanations_shown=explanations_shown
    )

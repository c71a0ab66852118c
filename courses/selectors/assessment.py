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


def attempt_feedback(
    attempt: QuizAttempt, *, attempts: Sequence[QuizAttempt], attempt_limit: int
) -> AttemptFeedback:
    """Per question of a graded attempt: what was chosen and whether it was right; the
    explanation and the right answers only when nothing is left to answer (see AttemptFeedback).
    `attempts` are all of the enrollment's attempts, an open one included."""
    passed = any(a.passed for a in attempts)
    # An attempt still open counts as not yet used: its questions are still to be answered.
    attempts_used = len(attempts) >= attempt_limit and all(a.is_submitted for a in attempts)
    key_shown = passed
    explanations_shown = passed or attempts_used
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

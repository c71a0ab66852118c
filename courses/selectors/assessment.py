"""Reads of the post-test: attempts, questions as shown (never the key), feedback."""

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


def attempt_feedback(attempt: QuizAttempt, *, reveal_key: bool) -> list[dict]:
    """Per question of a graded attempt: what was chosen, whether it was right, the explanation,
    and the right answers only when the learner has passed."""
    feedback = []
    for question in attempt.questions:
        chosen = set(attempt.answers.get(str(question["id"]), []))
        key = {c["id"] for c in question["choices"] if c["correct"]}
        feedback.append(
            {
                "text": question["text"],
                "kind": question["kind"],
                "right": chosen == key,
                "explanation": question["explanation"],
                "choices": [
                    {
                        "text": c["text"],
                        "chosen": c["id"] in chosen,
                        "correct": c["correct"] if reveal_key else None,
                    }
                    for c in question["choices"]
                ],
            }
        )
    return feedback

"""Rules a course must meet before it can be offered: the credit calculation that supports its
hours, and what accreditors require it to carry."""

import re
from decimal import Decimal

from django.utils.translation import gettext as _

from courses.models import Course, Lesson
from courses.models.catalog import READING_WORDS_PER_MINUTE, supported_hours

__all__ = [
    "count_words",
    "credit_problems",
    "estimated_minutes",
    "media_minutes",
    "supported_hours",
]

_MARKUP = re.compile(r"[#>*_`|\[\]()-]")


def count_words(markdown_text: str) -> int:
    """Words of reading in a Markdown text, its markup left out."""
    return len(_MARKUP.sub(" ", markdown_text or "").split())


def media_minutes(lessons: list[Lesson]) -> Decimal:
    seconds = sum(lesson.media_seconds for lesson in lessons)
    return (Decimal(seconds) / 60).quantize(Decimal("0.01"))


def estimated_minutes(*, media_seconds: int, words: int) -> int:
    """A lesson's listening plus reading time, rounded up to the minute."""
    seconds = media_seconds + words * 60 / READING_WORDS_PER_MINUTE
    return max(1, -(-int(seconds) // 60))


def credit_problems(course: Course, lessons: list[Lesson]) -> list[str]:
    """Where the course's stated credit calculation disagrees with its lessons."""
    problems = []
    actual_media = media_minutes(lessons)
    if abs(actual_media - course.media_minutes) > Decimal("0.5"):
        problems.append(
            _("Media minutes say %(stated)s but the lessons' chapters run %(actual)s minutes.")
            % {"stated": course.media_minutes, "actual": actual_media}
        )
    words = sum(count_words(lesson.body) for lesson in lessons)
    if course.reading_word_count > words:
        problems.append(
            _("The reading word count says %(stated)s but the lessons hold %(actual)s words.")
            % {"stated": course.reading_word_count, "actual": words}
        )
    if course.ce_hours > supported_hours(course.instruction_minutes):
        problems.append(
            _("%(hours)s CE hours need more instruction than the media and reading provide.")
            % {"hours": course.ce_hours}
        )
    return problems

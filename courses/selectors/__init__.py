"""Reads the pages need, each with its joins, so a page's query count does not grow with the
catalog, the lessons or the learner's history. One module per sub-domain, as the models are."""

from .assessment import attempt_feedback, attempts_of, questions_as_shown
from .catalog import (
    HOURS_BUCKETS,
    LicenceCredit,
    can_preview,
    catalog,
    course_page,
    credit_for_licences,
    current_approvals,
    current_provider,
    professions_served,
    visible_courses,
)
from .credentials import (
    RENEWAL_CYCLE_YEARS,
    LicenceTotal,
    certificate_by_code,
    certificate_by_pdf_digest,
    certificates_of,
    public_record,
    transcript_of,
)
from .learning import (
    LessonStatus,
    Progress,
    enrollment_for,
    enrollments_of,
    learner_enrollment,
    lesson_page,
    my_enrollments,
    progress_for,
)

__all__ = [
    "HOURS_BUCKETS",
    "RENEWAL_CYCLE_YEARS",
    "LessonStatus",
    "LicenceCredit",
    "LicenceTotal",
    "Progress",
    "attempt_feedback",
    "attempts_of",
    "can_preview",
    "catalog",
    "certificate_by_code",
    "certificate_by_pdf_digest",
    "certificates_of",
    "course_page",
    "credit_for_licences",
    "current_approvals",
    "current_provider",
    "enrollment_for",
    "enrollments_of",
    "learner_enrollment",
    "lesson_page",
    "my_enrollments",
    "professions_served",
    "progress_for",
    "public_record",
    "questions_as_shown",
    "transcript_of",
    "visible_courses",
]

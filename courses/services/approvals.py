"""Approvals change what a course's certificates print, so every change is on the audit trail:
who added, changed or removed which approval, with the values before and after."""

from django.db import transaction

from accounts.models import User
from courses.models import Accreditor, Course, CourseApproval
from courses.services import audit

APPROVAL_FIELDS = [
    "accreditor_id",
    "hours",
    "credit_type",
    "approval_code",
    "ce_broker_course_number",
    "valid_from",
    "valid_until",
]
ACCREDITOR_FIELDS = ["provider_number", "statement_template", "approved_from", "approved_until"]


def _values(obj, fields: list[str]) -> dict:
    return {field: str(getattr(obj, field)) for field in fields}


@transaction.atomic
def record_approval_changes(
    *,
    course: Course,
    added: list[CourseApproval],
    changed: list[tuple[CourseApproval, list[str]]],
    removed: list[CourseApproval],
    acting_user: User,
) -> None:
    """Log the approvals a staff member just saved for a course (as the admin's inline saved
    them), one entry per approval."""
    for approval in added:
        audit.record(
            "course.approval_added",
            actor=acting_user,
            subject=course,
            data={"approval": _values(approval, APPROVAL_FIELDS)},
        )
    for approval, fields in changed:
        audit.record(
            "course.approval_changed",
            actor=acting_user,
            subject=course,
            data={"approval": _values(approval, APPROVAL_FIELDS), "changed": fields},
        )
    for approval in removed:
        audit.record(
            "course.approval_removed",
            actor=acting_user,
            subject=course,
            data={"approval": _values(approval, APPROVAL_FIELDS)},
        )


def record_accreditor_change(
    *, accreditor: Accreditor, changed: list[str], acting_user: User, created: bool
) -> None:
    """Log a change to a provider approval (numbers, statement, approval period)."""
    audit.record(
        "accreditor.added" if created else "accreditor.changed",
        actor=acting_user,
        subject=accreditor,
        data={"values": _values(accreditor, ACCREDITOR_FIELDS), "changed": changed},
    )


@transaction.atomic
def set_ce_broker_course_number(
    *, approval: CourseApproval, number: str, acting_user: User
) -> CourseApproval:
    """Record the course tracking number CE Broker issued for an approval. CE Broker often
    issues it after learners have completed (and certificates froze the course), and no
    certificate prints it, so it stays editable when the approval's content no longer is."""
    approval = CourseApproval.objects.select_for_update().get(pk=approval.pk)
    before = approval.ce_broker_course_number
    approval.ce_broker_course_number = number.strip()
    approval.full_clean(exclude=["course", "accreditor"], validate_unique=False)
    if approval.ce_broker_course_number == before:
        return approval
    approval.save(update_fields=["ce_broker_course_number"])
    audit.record(
        "course.approval_changed",
        actor=acting_user,
        subject=approval.course,
        data={
            "approval": _values(approval, APPROVAL_FIELDS),
            "changed": ["ce_broker_course_number"],
            "before": {"ce_broker_course_number": before},
        },
    )
    return approval

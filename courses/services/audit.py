"""Writing the audit trail. Every staff action's service calls `record` in its own transaction,
so the entry stands or falls with the change it describes."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from accounts.models import User
from courses.models import LogEntry


def record(
    action: str,
    *,
    actor: User | None,
    subject: models.Model | None = None,
    data: dict | None = None,
) -> LogEntry:
    """Log who did what to which object; `data` holds what a reader needs (a reason, a filter)."""
    entry = LogEntry(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        data=data or {},
    )
    if subject is not None:
        entry.content_type = ContentType.objects.get_for_model(subject, for_concrete_model=False)
        entry.object_id = str(subject.pk)
        entry.object_repr = str(subject)[:200]
    entry.save()
    return entry

"""Tasks that belong to the site as a whole rather than to one app."""

import socket

from celery import shared_task
from django.db import connection
from django.utils import timezone


@shared_task(name="ceu.health_check")
def health_check() -> dict:
    """Answer from a worker with its host and whether it reaches the database.

    Operators queue it to learn that a broker, a worker and the database all answer.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database_ok = cursor.fetchone() == (1,)
    return {
        "worker": socket.gethostname(),
        "database": database_ok,
        "at": timezone.now().isoformat(),
    }

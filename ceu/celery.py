"""The Celery application: configured from Django settings under the CELERY_ namespace.

A worker keeps its database connections from one task to the next as a web process keeps them
from one request to the next: each is closed after a task only when Django would close it after a
request (older than CONN_MAX_AGE, broken, or left in a transaction), which is what
`close_old_connections` decides. Celery's own Django fixup closes every connection before and
after every task, whatever CONN_MAX_AGE says, unless CELERY_DB_REUSE_MAX is set (base settings):
then it only closes them after that many tasks, and these handlers do the rest. A task run
in-process (eagerly) is part of its caller's request and leaves the connections alone."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ceu.settings.local")

app = Celery("ceu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def close_old_connections_around_tasks(sender=None, **kwargs) -> None:
    """Django's end-of-request hygiene, around each task a worker runs."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


task_prerun.connect(close_old_connections_around_tasks, weak=False)
task_postrun.connect(close_old_connections_around_tasks, weak=False)

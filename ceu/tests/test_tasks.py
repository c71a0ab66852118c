"""Background work: in-process by default, and through a real worker on Redis."""

import pytest

from ceu.tasks import health_check


@pytest.mark.django_db
def test_without_a_broker_tasks_run_in_process():
    result = health_check.delay()

    assert result.successful()
    assert result.get()["database"] is True


def test_a_task_sent_through_a_real_worker_on_redis_returns_its_result(celery_worker):
    result = health_check.delay()

    answer = result.get(timeout=30)

    assert answer["database"] is True
    assert answer["worker"]
    assert result.status == "SUCCESS"
    # It really went through the broker: the eager path would not know a worker's name.
    assert not result.__class__.__name__.startswith("Eager")


@pytest.fixture
def closes(monkeypatch):
    """The times the database connection is closed, by a worker about to run or done with a
    task (the handlers ceu.celery connects to Celery's task signals)."""
    from django.db import connection

    closed = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(True))
    connection.ensure_connection()
    return closed


def _run_in_a_worker(task, *, is_eager: bool = False) -> None:
    from celery.signals import task_postrun, task_prerun

    task.push_request(is_eager=is_eager)
    try:
        task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
        task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None)
    finally:
        task.pop_request()


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next(closes):
    """As a web process between requests: until it is older than CONN_MAX_AGE. Celery alone
    would open a new connection (and PostgreSQL a new backend) for every task."""
    import time

    from django.db import connection

    connection.close_at = time.monotonic() + 60  # connected with CONN_MAX_AGE = 60
    _run_in_a_worker(health_check)
    assert not closes

    connection.close_at = time.monotonic() - 1  # older than CONN_MAX_AGE
    _run_in_a_worker(health_check)
    assert closes


@pytest.mark.django_db(transaction=True)
def test_a_task_run_in_process_leaves_its_callers_connection_alone(closes):
    import time

    from django.db import connection

    connection.close_at = time.monotonic() - 1
    _run_in_a_worker(health_check, is_eager=True)
    assert not closes


def test_celery_closes_a_workers_connections_only_now_and_then():
    from ceu.celery import app

    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 100

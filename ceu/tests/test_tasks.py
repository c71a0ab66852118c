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

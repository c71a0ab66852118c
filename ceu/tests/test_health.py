"""The health endpoints: /health/live for load balancers, /health/ for monitors."""

from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from celery import Celery
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from ceu.health import Broker, Worker
from ceu.testing.services import free_port


@pytest.fixture
def client(client):
    """The test client, asking /health/ from a thread of its own, as a WSGI worker would. The
    health view is async; once a browser test ran in this process, Playwright's event loop is
    still running in the test's thread, and Django cannot call an async view from a thread with
    a running loop. /health/live is a plain view and stays in this thread, where its queries
    are counted."""
    get = client.get

    def get_from_a_worker_thread(path, *args, **kwargs):
        if path.startswith("/health/live"):
            return get(path, *args, **kwargs)
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(get, path, *args, **kwargs).result()

    client.get = get_from_a_worker_thread
    return client


def _database_down():
    return mock.patch.object(
        BaseDatabaseWrapper,
        "ensure_connection",
        side_effect=OperationalError("connection refused"),
    )


@pytest.mark.django_db
def test_live_answers_without_a_single_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-store" in response["Cache-Control"]


def test_live_answers_while_the_database_is_unreachable(client):
    with _database_down():
        live = client.get("/health/live")
        health = client.get("/health/?format=json")

    assert live.status_code == 200
    assert health.status_code == 500
    assert health.json()["database"] != "OK"


def test_live_is_never_rate_limited(client):
    answers = {client.get("/health/live").status_code for _ in range(150)}

    assert answers == {200}


@pytest.mark.django_db
def test_health_checks_database_cache_and_storage_and_names_no_host(client):
    response = client.get("/health/?format=json", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    # With no broker (tasks in-process) there is no broker or worker to check.
    assert response.json() == {"database": "OK", "cache": "OK", "storage": "OK"}
    assert "no-store" in response["Cache-Control"]
    for private in (b"127.0.0.1", b"localhost", b"@"):
        assert private not in response.content


@pytest.mark.django_db
def test_the_status_page_lists_each_service(client):
    response = client.get("/health/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    for service in ("database", "cache", "storage"):
        assert service in response.content.decode()


def test_a_broker_that_does_not_answer_fails_its_check():
    # Not the current app: the suite's tasks keep sending through the site's own.
    dead = Celery("dead", broker=f"redis://127.0.0.1:{free_port()}/0", set_as_current=False)

    with pytest.raises(Exception, match="the broker does not answer"):
        Broker(app=dead).run()


def test_a_broker_with_no_worker_fails_the_worker_check(redis_url):
    idle = Celery("idle", broker=f"{redis_url}/5", set_as_current=False)

    Broker(app=idle).run()  # the broker itself answers
    with pytest.raises(Exception, match="Celery workers unavailable"):
        Worker(app=idle).run()


# A live worker passing the check is seen on the real stack: ceu/tests/test_prod_stack.py.

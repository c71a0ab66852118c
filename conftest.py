import time
from collections.abc import Iterator

import pytest

from accounts.tests.factories import LicenceFactory, UserFactory
from ceu.testing.plugin import chromium_launch_args

# Playwright's assertions wait 5 s by default: too short for a page's fetch answered by the live
# server on a busy two-core machine. Waits end as soon as the page is right, so a slow machine
# costs time, never a false failure.
try:
    from playwright.sync_api import expect
except ImportError:  # the browser tests are not installed: nothing to set
    pass
else:
    expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return chromium_launch_args(browser_type_launch_args)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Playwright's own waits (wait_for_function, script tags it adds) evaluate strings in the
    page, which the Content-Security-Policy forbids. The policy itself is tested with it
    enforced, in courses/tests/test_browser_csp.py."""
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started only once the test database exists. Started before,
    it sees the settings' in-memory database and hands the test's own connection to its
    threads; after, it opens connections of its own to the test database's file
    (ceu/settings/test.py)."""
    return live_server


@pytest.fixture
def learner(db):
    return UserFactory(full_name="Dana Whitfield")


@pytest.fixture
def other_learner(db):
    return UserFactory(full_name="Sam Okafor")


@pytest.fixture
def licence(learner):
    return LicenceFactory(user=learner, number="LPC-00417")


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def page(page):
    """pytest-playwright's page, left on a blank page before the database is flushed: a lesson
    page sends one last heartbeat as it is hidden, and it must land while the test's data is
    still there, not during the flush that follows the test."""
    yield page
    if not page.is_closed():
        page.goto("about:blank")
        page.wait_for_timeout(500)


@pytest.fixture
def heartbeats_stopped_at_teardown(page) -> Iterator[None]:
    """A lesson page beats every second until it is closed: a beat landing while the database
    is flushed after the test would queue behind the flush on SQLite's lock, or write to rows
    half gone. At the end, let no further beat through and wait for those in flight."""
    in_flight: set = set()
    page.on("request", lambda r: in_flight.add(r) if r.url.endswith("/heartbeat/") else None)
    page.on("requestfinished", lambda r: in_flight.discard(r))
    page.on("requestfailed", lambda r: in_flight.discard(r))
    yield
    page.route("**/heartbeat/", lambda route: route.abort())
    page.goto("about:blank")
    deadline = time.monotonic() + 5
    while in_flight and time.monotonic() < deadline:
        page.wait_for_timeout(50)

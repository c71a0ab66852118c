import pytest

from accounts.tests.factories import LicenceFactory, UserFactory
from ceu.testing.plugin import chromium_launch_args


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return chromium_launch_args(browser_type_launch_args)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Playwright's own waits (wait_for_function, script tags it adds) evaluate strings in the
    page, which the Content-Security-Policy forbids. The policy itself is tested with it
    enforced, in courses/tests/test_browser_csp.py."""
    return {**browser_context_args, "bypass_csp": True}


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

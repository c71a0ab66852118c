"""The browser tests' live server works on the test database through connections of its own.

Sharing the test's connection with the server's threads (what Django does for an in-memory
SQLite database) lets a page's request run inside the test's transaction, and two threads
entering and leaving transactions on one connection can leave it outside autocommit for every
later test."""

import urllib.error
import urllib.request

import pytest
from django.db import connection, transaction

from courses.tests.factories import CourseFactory


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the live server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_the_live_server_sees_only_what_the_test_has_committed(live_server):
    with transaction.atomic():
        course = CourseFactory(slug="committed-later")
        url = f"{live_server.url}/courses/{course.slug}/"
        # Another connection cannot see a row this transaction has not committed yet.
        assert _status(url) == 404
    assert _status(url) == 200
    assert connection.get_autocommit()

"""The error pages a visitor can meet, with DEBUG off as in production: each is the site's own
page, in its layout, says what happened in plain words and offers a way back. The 500 page
renders even when the database is down."""

from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ceu import errors
from ceu import urls as site_urls
from courses.models import Course


def _forbidden(request):
    raise PermissionDenied


def _needs_the_database(request):
    Course.objects.count()
    raise AssertionError("the database answered")  # pragma: no cover


# The site's own addresses, plus two that fail on purpose; the site's handlers. Tests that need
# them run with @pytest.mark.urls(__name__).
urlpatterns = [
    path("test-only/forbidden/", _forbidden),
    path("test-only/needs-the-database/", _needs_the_database),
    *site_urls.urlpatterns,
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500

BRAND = 'class="navbar-brand brand-mark" href="/">CE Trainings</a>'


def in_the_sites_layout(page: str) -> None:
    assert BRAND in page
    assert '<main id="main"' in page
    assert "Verify a certificate" in page  # the footer
    assert 'href="/courses/"' in page  # a way back: the catalog
    assert "Home page" in page


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False


# --- 400 ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_for_another_host_gets_the_400_page(client):
    response = client.get("/", HTTP_HOST="attacker.example")

    page = response.content.decode()
    assert response.status_code == 400
    in_the_sites_layout(page)
    assert "<title>Bad request · CE Trainings</title>" in page
    assert "This request could not be understood" in page
    assert "attacker.example" not in page


# --- 403 ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_forbidden_page_gets_the_403_page_with_a_way_to_sign_in(client):
    response = client.get("/test-only/forbidden/")

    page = response.content.decode()
    assert response.status_code == 403
    in_the_sites_layout(page)
    assert "You do not have access to this page" in page
    assert f'href="{reverse("account_login")}?next=/test-only/forbidden/"' in page


@pytest.mark.django_db
def test_a_form_sent_without_its_security_token_explains_what_to_do(learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    client.get(reverse("courses:my_trainings"))  # the page, and its CSRF cookie

    response = client.post(
        reverse("account_logout"), HTTP_REFERER="http://testserver/my/trainings/"
    )

    page = response.content.decode()
    assert response.status_code == 403
    in_the_sites_layout(page)
    assert "The form could not be sent" in page
    assert "reload the page, and send the form again" in page
    assert 'href="http://testserver/my/trainings/">Back to the previous page</a>' in page
    assert "CSRF" not in page  # Django's words, not the learner's


@pytest.mark.django_db
def test_a_browser_that_refuses_cookies_is_told_to_allow_them():
    response = Client(enforce_csrf_checks=True).post(reverse("account_login"), {})

    assert response.status_code == 403
    assert "Allow cookies for this site" in response.content.decode()


# --- 404 ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_address_gets_the_404_page_with_a_way_back(learner_client):
    response = learner_client.get(
        "/courses/no-such-training/", HTTP_REFERER="http://testserver/courses/"
    )

    page = response.content.decode()
    assert response.status_code == 404
    in_the_sites_layout(page)
    assert "<title>Page not found · CE Trainings</title>" in page
    assert "We could not find that page" in page
    assert "/courses/no-such-training/" in page
    assert 'href="http://testserver/courses/">Back to the previous page</a>' in page
    assert 'href="/my/trainings/"' in page  # signed in: back to their trainings


@pytest.mark.django_db
def test_the_404_page_never_links_back_to_another_site(client):
    response = client.get("/no-such-page/", HTTP_REFERER="https://phishing.example/login")

    page = response.content.decode()
    assert response.status_code == 404
    assert "phishing.example" not in page
    assert "Back to the previous page" not in page


# --- 429 ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_too_many_certificate_lookups_get_the_429_page(client, settings):
    settings.CEU_RATE_LIMITS = {"verify": 1}
    url = reverse("courses:verify_code", args=["CEU-AAAA-BBBB-CCCC-DDDD"])
    with time_machine.travel(timezone.now().replace(second=30), tick=False):
        client.get(url)
        response = client.get(url)

    page = response.content.decode()
    assert response.status_code == 429
    in_the_sites_layout(page)
    assert "<title>Too many requests · CE Trainings</title>" in page
    assert "Too many lookups from your address: at most 1 a minute." in page
    assert response["Retry-After"] == "30"


@pytest.mark.django_db
def test_allauths_rate_limits_answer_with_the_same_429_page(client, mailoutbox):
    UserFactory(email="dana@example.com")
    url = reverse("account_reset_password")
    responses = [client.post(url, {"email": "dana@example.com"}) for _attempt in range(6)]

    response = responses[-1]
    page = response.content.decode()
    assert response.status_code == 429
    in_the_sites_layout(page)
    assert "You have sent too many requests in a short time." in page


# --- 500 ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_500_page_renders_while_the_database_is_down(learner):
    client = Client(raise_request_exception=False)
    client.force_login(learner)
    refused = OperationalError("could not connect to server: Connection refused")

    with mock.patch.object(connection, "ensure_connection", side_effect=refused) as database:
        response = client.get("/test-only/needs-the-database/")

    page = response.content.decode()
    assert database.called  # the view did try, and the database was not there
    assert response.status_code == 500
    in_the_sites_layout(page)
    assert "<title>Something went wrong · CE Trainings</title>" in page
    assert "Something went wrong on our side" in page
    assert learner.full_name not in page  # no user, no session: nothing from the database


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_site_pages_themselves_fail_over_to_the_500_page_when_the_database_is_down(learner):
    client = Client(raise_request_exception=False)
    client.force_login(learner)
    refused = OperationalError("could not connect to server: Connection refused")

    with mock.patch.object(connection, "ensure_connection", side_effect=refused):
        response = client.get(reverse("courses:my_trainings"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_a_500_page_that_cannot_render_still_answers_with_a_page(rf):
    with mock.patch.object(errors.loader, "get_template", side_effect=RuntimeError("broken")):
        response = errors.server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert 'href="/"' in response.content.decode()

"""The pages every visitor sees, and the static files they load."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_the_home_page_offers_sign_up_with_landmarks_and_a_skip_link(client):
    page = client.get(reverse("home")).content.decode()

    assert '<a class="skip-link" href="#main">Skip to main content</a>' in page
    assert '<main id="main"' in page
    assert "<nav " in page
    assert "<footer" in page
    assert reverse("account_signup") in page


@pytest.mark.django_db
def test_sign_up_page_uses_the_sites_layout_with_labelled_fields(client):
    page = client.get(reverse("account_signup")).content.decode()

    assert "skip-link" in page
    for field in ("id_full_name", "id_email", "id_password1", "id_password2"):
        assert f'for="{field}"' in page


def test_bootstrap_is_served_from_the_sites_own_static_files(client):
    response = client.get("/static/vendor/bootstrap/bootstrap.min.css")

    assert response.status_code == 200
    assert b"Bootstrap" in b"".join(response.streaming_content)[:200]


@pytest.mark.django_db
def test_no_page_loads_anything_from_another_host(client):
    page = client.get(reverse("home")).content.decode()

    assert "cdn." not in page
    assert 'src="http' not in page
    assert 'href="http' not in page


@pytest.mark.django_db
def test_an_unknown_address_answers_404(client):
    assert client.get("/no-such-page/").status_code == 404

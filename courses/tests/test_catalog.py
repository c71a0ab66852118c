"""The catalog: published courses only, searched and filtered as a learner would, with a fixed
number of queries however large it grows."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import LicenceFactory
from courses.models import CourseStatus
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

CATALOG = reverse("courses:catalog")


def titles(response) -> list[str]:
    return [course.title for course in response.context["page"].object_list]


def test_only_published_courses_are_listed(client):
    CourseFactory(title="Open to all")
    CourseFactory(title="Still a draft", status=CourseStatus.DRAFT)
    CourseFactory(title="Retired", status=CourseStatus.ARCHIVED)

    response = client.get(CATALOG)

    assert titles(response) == ["Open to all"]
    page = response.content.decode()
    assert "Still a draft" not in page
    assert "Retired" not in page


def test_cards_show_hours_format_level_and_professions(client):
    course = CourseFactory(title="Ruptures", ce_hours=Decimal("1.25"), level="advanced")
    ApprovalFactory(
        course=course,
        hours=Decimal("1.25"),
        accreditor=AccreditorFactory(
            short_name="NBCC", professions=["professional_counselor", "addiction_counselor"]
        ),
    )

    page = client.get(CATALOG).content.decode()

    assert "1.25 CE hours" in page
    assert "Home study: recorded audio" in page
    assert "Advanced" in page
    assert "Addiction counselor, Professional counselor" in page


def test_search_by_title(client):
    CourseFactory(title="Coaching versus therapy")
    CourseFactory(title="Emotional safety")

    assert titles(client.get(CATALOG, {"q": "coach"})) == ["Coaching versus therapy"]
    assert titles(client.get(CATALOG, {"q": "nothing like it"})) == []


def test_filter_by_topic(client):
    alliance = TopicFactory(name="Alliance", slug="alliance")
    with_topic = CourseFactory(title="With the topic")
    with_topic.topics.add(alliance)
    CourseFactory(title="Without it")

    assert titles(client.get(CATALOG, {"topic": "alliance"})) == ["With the topic"]


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("1", ["Half hour", "One hour"]),
        ("1-3", ["Three hours"]),
        ("3+", ["Six hours"]),
        ("", ["Half hour", "One hour", "Six hours", "Three hours"]),
    ],
)
def test_filter_by_hours(client, bucket, expected):
    for title, hours in [
        ("Half hour", "0.5"),
        ("One hour", "1"),
        ("Three hours", "3"),
        ("Six hours", "6"),
    ]:
        CourseFactory(title=title, ce_hours=Decimal(hours))

    assert sorted(titles(client.get(CATALOG, {"hours": bucket}))) == expected


def test_counts_for_my_licence_needs_a_current_approval_for_my_profession(learner_client, learner):
    LicenceFactory(user=learner, profession="clinical_social_worker", jurisdiction="NY")
    aswb = AccreditorFactory(short_name="ASWB", professions=["clinical_social_worker"])
    apa = AccreditorFactory(short_name="APA", professions=["psychologist"])
    lapsed = AccreditorFactory(
        short_name="OLD",
        professions=["clinical_social_worker"],
        approved_until=date.today() - timedelta(days=1),  # noqa: DTZ011
    )
    ApprovalFactory(course=CourseFactory(title="For social workers"), accreditor=aswb)
    ApprovalFactory(course=CourseFactory(title="For psychologists"), accreditor=apa)
    ApprovalFactory(
        course=CourseFactory(title="Approval expired"),
        accreditor=aswb,
        valid_from=date.today() - timedelta(days=400),  # noqa: DTZ011
        valid_until=date.today() - timedelta(days=1),  # noqa: DTZ011
    )
    ApprovalFactory(course=CourseFactory(title="Provider approval lapsed"), accreditor=lapsed)
    ApprovalFactory(
        course=CourseFactory(title="Not yet approved"),
        accreditor=aswb,
        valid_from=date.today() + timedelta(days=10),  # noqa: DTZ011
    )

    assert titles(learner_client.get(CATALOG, {"mine": "on"})) == ["For social workers"]
    assert len(titles(learner_client.get(CATALOG))) == 5


def test_bad_filters_are_answered_on_the_form_not_with_an_error(client):
    CourseFactory(title="Still listed")

    response = client.get(CATALOG, {"topic": "no-such-topic", "hours": "lots", "page": "abc"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice." in page
    assert titles(response) == ["Still listed"]


def test_the_catalog_is_paginated(client):
    CourseFactory.create_batch(30, lessons=0)

    first = client.get(CATALOG)
    third = client.get(CATALOG, {"page": 3})

    assert len(titles(first)) == 12
    assert len(titles(third)) == 6
    assert "Page 1 of 3" in first.content.decode()
    assert client.get(CATALOG, {"page": 999}).status_code == 200  # the last page, not an error


def _catalog_of(size: int) -> None:
    topic = TopicFactory(name="Alliance", slug="alliance")
    accreditor = AccreditorFactory(short_name="APA", professions=["psychologist", "other"])
    for _index in range(size):
        course = CourseFactory(lessons=0)
        course.topics.add(topic)
        ApprovalFactory(course=course, accreditor=accreditor)


@pytest.mark.parametrize("size", [3, 40])
def test_catalog_keeps_its_query_count(client, django_assert_num_queries, size):
    _catalog_of(size)

    # count, page of courses, their topics, their current approvals with accreditors, the
    # accreditors' professions, the topic filter's choices, and the provider (cached after the
    # first page): seven, whatever the catalog's size.
    with django_assert_num_queries(7):
        assert client.get(CATALOG).status_code == 200


@pytest.mark.parametrize("size", [3, 40])
def test_filtered_catalog_keeps_its_query_count(
    learner_client, learner, django_assert_num_queries, size
):
    _catalog_of(size)
    LicenceFactory(user=learner, profession="psychologist")

    # session and user, the chosen topic, the seven catalog queries, the learner's licences
    # (the form's list, and the filter's with their board rules: two more).
    with django_assert_num_queries(13):
        response = learner_client.get(CATALOG, {"mine": "on", "topic": "alliance", "q": "Course"})
    assert response.status_code == 200


def test_until_the_provider_is_configured_the_catalog_says_sample(client):
    from courses.models import Provider

    CourseFactory()
    assert "Sample: not valid for credit." in client.get(CATALOG).content.decode()

    Provider.objects.create(name="Real CE Co", email="ce@example.org", is_configured=True)
    assert "Sample: not valid for credit." not in client.get(CATALOG).content.decode()

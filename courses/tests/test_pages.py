"""The course page, enrolling, the lesson page and My trainings, as a learner meets them."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.tests.factories import LicenceFactory, UserFactory
from courses.models import CourseStatus, Enrollment, LessonProgress, Policy, Provider
from courses.tests.factories import (
    AccreditorFactory,
    ApprovalFactory,
    CourseFactory,
    EnrollmentFactory,
    LessonFactory,
    ObjectiveFactory,
    ReferenceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    course = CourseFactory(slug="ghosting", title="Ruptures and ghosting", lessons=3)
    for text in ["Identify withdrawal ruptures.", "Describe a repair.", "Apply a script."]:
        ObjectiveFactory(course=course, text=text)
    ReferenceFactory(course=course, citation="Hanevik, E. (2023). Client predictors.", doi="10.1/x")
    ApprovalFactory(
        course=course,
        accreditor=AccreditorFactory(short_name="ASWB", professions=["clinical_social_worker"]),
        credit_type="clinical",
    )
    for kind, title in [
        ("grievance", "Grievance policy"),
        ("refund", "Refund policy"),
        ("accommodation", "Accessibility and accommodations"),
    ]:
        Policy.objects.create(kind=kind, title=title, body=f"The {kind} text.")
    return course


def course_url(slug="ghosting"):
    return reverse("courses:course_detail", args=[slug])


def lesson_url(position, slug="ghosting"):
    return reverse("courses:lesson", args=[slug, position])


def test_course_page_shows_what_boards_require_in_reading_order(client, course):
    page = client.get(course_url()).content.decode()

    headings = [
        "What you will learn",
        "Hours and how they count for your licence",
        "Who presents",
        "Format and level",
        "Approvals",
        "References",
        "Disclosures",
        "Policies",
    ]
    positions = [page.index(f">{heading}</h2>") for heading in headings]
    assert positions == sorted(positions)
    for text in [
        "Identify withdrawal ruptures.",
        "Jordan Avery, PhD, LMFT",
        "Home study: recorded audio",
        "Intermediate",
        "Sample: not valid for credit.",
        "The provider is approved by this body, provider SAMPLE-1.",
        "Hanevik, E. (2023). Client predictors.",
        "https://doi.org/10.1/x",
        "Grievance policy",
        "Refund policy",
        "Accessibility and accommodations",
        "0.5 CE hours",
    ]:
        assert text in page, text


def test_course_page_says_how_it_counts_for_each_of_my_licences(learner_client, learner, course):
    LicenceFactory(
        user=learner, profession="clinical_social_worker", jurisdiction="NY", number="LCSW-1"
    )
    LicenceFactory(user=learner, profession="psychologist", jurisdiction="CA", number="PSY-2")

    page = learner_client.get(course_url()).content.decode()

    assert "0.5 clinical hours through ASWB" in page
    # The psychology licence, which none of the course's approvals serves:
    assert (
        "No CE credit for your California psychologist licence (PSY-2): the approvals of this "
        "training do not cover it." in page
    )


def test_a_configured_provider_drops_the_sample_notice(client, course):
    Provider.objects.create(name="Real CE Co", email="ce@example.org", is_configured=True)

    page = client.get(course_url()).content.decode()

    assert "Sample: not valid for credit." not in page
    assert "The provider is approved by this body" not in page  # the name filled in instead
    assert "Real CE Co is approved by this body" in page


@pytest.mark.parametrize("status", [CourseStatus.DRAFT, CourseStatus.ARCHIVED])
def test_unpublished_courses_answer_404_to_learners(learner_client, course, status):
    course.status = status
    course.save()

    assert learner_client.get(course_url()).status_code == 404
    assert learner_client.get(lesson_url(1)).status_code == 404
    assert learner_client.post(reverse("courses:enroll", args=["ghosting"])).status_code == 404
    assert not Enrollment.objects.exists()


def test_staff_who_author_courses_preview_drafts(client, course):
    course.status = CourseStatus.DRAFT
    course.save()
    author = UserFactory(is_staff=True)
    author.user_permissions.add(Permission.objects.get(codename="view_course"))
    client.force_login(author)

    page = client.get(course_url()).content.decode()
    assert "Staff preview." in page
    lesson = client.get(lesson_url(1)).content.decode()
    assert "Nothing is recorded while previewing." in lesson
    assert "lesson-data" not in lesson  # no heartbeats from a preview


@pytest.mark.parametrize(
    "path",
    [
        "/courses/no-such-course/",
        "/courses/ghosting/lessons/9/",
        "/courses/ghosting/lessons/0/",
        "/policies/no-such-policy/",
    ],
)
def test_unknown_addresses_answer_404(learner_client, learner, course, path):
    EnrollmentFactory(user=learner, course=course)
    assert learner_client.get(path).status_code == 404


def test_enrolling_twice_is_one_enrollment(learner_client, learner, course):
    url = reverse("courses:enroll", args=["ghosting"])

    first = learner_client.post(url)
    second = learner_client.post(url)

    assert Enrollment.objects.filter(user=learner, course=course).count() == 1
    assert first.url == lesson_url(1)
    assert second.status_code == 302


def test_a_completed_course_is_revisited_not_enrolled_again(learner_client, learner, course):
    from django.utils import timezone

    enrollment = EnrollmentFactory(user=learner, course=course, completed_at=timezone.now())

    learner_client.post(reverse("courses:enroll", args=["ghosting"]))

    assert list(Enrollment.objects.filter(user=learner)) == [enrollment]
    assert learner_client.get(lesson_url(2)).status_code == 200


def test_enrolling_needs_a_signed_in_learner_and_a_post(client, course):
    url = reverse("courses:enroll", args=["ghosting"])

    assert client.post(url).status_code == 302
    assert not Enrollment.objects.exists()
    client.force_login(UserFactory())
    assert client.get(url).status_code == 405


def test_lessons_ask_to_enroll_first(learner_client, course):
    response = learner_client.get(lesson_url(1), follow=True)

    assert response.redirect_chain[-1][0] == course_url()
    assert "Enroll to start the lessons" in response.content.decode()


def test_the_lesson_page_starts_the_chapter_and_resumes_where_left(learner_client, learner, course):
    enrollment = EnrollmentFactory(user=learner, course=course)
    page = learner_client.get(lesson_url(2)).content.decode()
    assert "courses/demo/why-therapy-clients-ghost.ogg#t=120,240" in page
    assert "2:00–4:00" in page  # the chapter list with its timestamps

    LessonProgress.objects.create(
        enrollment=enrollment, lesson=course.lessons.get(position=2), position_seconds=187
    )
    response = learner_client.get(lesson_url(2))
    data = json.loads(
        response.content.decode()
        .split('id="lesson-data" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert data["resumeAt"] == 187
    assert data["start"] == 120
    assert data["end"] == 240
    enrollment.refresh_from_db()
    assert enrollment.last_lesson.position == 2


def test_lesson_text_is_sanitised_markdown(learner_client, learner, course):
    EnrollmentFactory(user=learner, course=course)
    LessonFactory(
        course=course,
        position=4,
        body="## Repair\n\n<script>alert(1)</script>**bold** [x](javascript:alert(1))",
    )

    page = learner_client.get(lesson_url(4)).content.decode()

    assert "<h2>Repair</h2>" in page
    assert "<strong>bold</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "javascript:" not in page


def test_lesson_page_keeps_its_query_count(learner_client, learner, django_assert_num_queries):
    big = CourseFactory(slug="big", lessons=25)
    enrollment = EnrollmentFactory(user=learner, course=big)
    for lesson in big.lessons.all()[:10]:
        LessonProgress.objects.create(enrollment=enrollment, lesson=lesson)

    # The first visit reads what every learner sees of the course and the lesson (then cached).
    assert learner_client.get(lesson_url(3, slug="big")).status_code == 200
    Enrollment.objects.filter(pk=enrollment.pk).update(last_lesson=None)

    # session, user, enrollment, progress rows, and remembering the lesson for My trainings.
    with django_assert_num_queries(5):
        assert learner_client.get(lesson_url(3, slug="big")).status_code == 200


def test_course_page_keeps_its_query_count(learner_client, learner, django_assert_num_queries):
    big = CourseFactory(slug="big", lessons=25)
    for _index in range(6):
        ObjectiveFactory(course=big)
        ReferenceFactory(course=big)
        ApprovalFactory(course=big)
    LicenceFactory.create_batch(4, user=learner)
    EnrollmentFactory(user=learner, course=big)

    # The first visit: session, user, course, approvals, professions, what each approval
    # covers, topics, subjects, objectives, references, lessons (all cached for the next
    # visitor), provider, policies, enrollment (with passed? and evaluated?), its progress,
    # licences, the learner's certificates in the course's lineage (this edition's or
    # another's: no double credit).
    with django_assert_num_queries(18):
        assert learner_client.get(course_url("big")).status_code == 200
    # Then only what is the learner's own: session, user, enrollment, progress, licences,
    # certificates.
    with django_assert_num_queries(6):
        assert learner_client.get(course_url("big")).status_code == 200


def test_my_trainings_lists_only_mine_with_progress(learner_client, learner, course, other_learner):
    enrollment = EnrollmentFactory(user=learner, course=course, engaged_seconds=600)
    LessonProgress.objects.create(
        enrollment=enrollment,
        lesson=course.lessons.get(position=1),
        completed_at=enrollment.enrolled_at,
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(last_lesson=course.lessons.get(position=2))
    EnrollmentFactory(user=other_learner, course=CourseFactory(title="Someone else's"))

    page = learner_client.get(reverse("courses:my_trainings")).content.decode()

    assert "Ruptures and ghosting" in page
    assert "Someone else&#x27;s" not in page
    assert "1 of 3 lessons done" in page
    assert "10 of 25 minutes engaged" in page
    assert "Resume: Chapter 2" in page
    assert lesson_url(2) in page


def test_my_trainings_keeps_its_query_count(learner_client, learner, django_assert_num_queries):
    for _index in range(20):
        EnrollmentFactory(user=learner, course=CourseFactory(lessons=2))

    # session, user, enrollments with their courses, last lessons and counts, their certificates.
    with django_assert_num_queries(4):
        assert learner_client.get(reverse("courses:my_trainings")).status_code == 200


def test_policies_are_pages(client, course):
    page = client.get(reverse("courses:policy", args=["refund"])).content.decode()

    assert "Refund policy" in page
    assert "The refund text." in page


def test_catalog_hours_never_exceed_what_instruction_supports():
    from django.core.exceptions import ValidationError

    course = CourseFactory.build(
        ce_hours=Decimal("1"),
        media_minutes=Decimal("10"),
        reading_word_count=2000,
        minimum_engaged_minutes=50,
    )
    with pytest.raises(ValidationError) as error:
        course.full_clean(exclude=["episode", "slug"])
    assert "need at least 50" in str(error.value)


def test_staff_without_the_course_permission_do_not_see_drafts(client, course):
    course.status = CourseStatus.DRAFT
    course.save()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(course_url()).status_code == 404

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from courses.models import (
    Accreditor,
    AccreditorProfession,
    Choice,
    Course,
    CourseApproval,
    CourseStatus,
    Enrollment,
    Episode,
    LearningObjective,
    Lesson,
    LessonProgress,
    Question,
    Reference,
    Topic,
)


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    title = factory.Sequence(lambda n: f"Episode {n}")
    show = "A podcast for therapists"
    media_url = "/static/courses/demo/why-therapy-clients-ghost.ogg"
    media_mime_type = "audio/ogg"
    duration_seconds = 1515


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.LazyAttribute(lambda topic: topic.name.lower().replace(" ", "-"))


class AccreditorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Accreditor
        django_get_or_create = ["short_name"]
        skip_postgeneration_save = True

    name = factory.LazyAttribute(lambda a: f"{a.short_name} accreditor")
    short_name = factory.Sequence(lambda n: f"ACC{n}")
    provider_number = "SAMPLE-1"
    statement_template = "{provider} is approved by this body, provider {provider_number}."
    approved_from = factory.LazyFunction(lambda: date.today() - timedelta(days=365))  # noqa: DTZ011
    approved_until = factory.LazyFunction(lambda: date.today() + timedelta(days=365))  # noqa: DTZ011

    @factory.post_generation
    def professions(self, create: bool, extracted, **kwargs) -> None:
        if create:
            for profession in extracted or ["psychologist"]:
                AccreditorProfession.objects.get_or_create(accreditor=self, profession=profession)


class CourseFactory(factory.django.DjangoModelFactory):
    """A published half-hour audio course; `lessons=N` gives it N chapters of two minutes."""

    class Meta:
        model = Course
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    summary = "What this course offers."
    description = "A *Markdown* description."
    episode = factory.SubFactory(EpisodeFactory)
    presenter_name = "Jordan Avery"
    presenter_credentials = "PhD, LMFT"
    format = "home_study_audio"
    level = "intermediate"
    target_audience = "Licensed therapists"
    ce_hours = Decimal("0.50")
    media_minutes = Decimal("10")
    reading_word_count = 3000
    minimum_engaged_minutes = 25
    status = CourseStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def lessons(self, create: bool, extracted, **kwargs) -> None:
        if create:
            for position in range(1, (extracted if extracted is not None else 3) + 1):
                LessonFactory(course=self, position=position)


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory, lessons=0)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda lesson: f"Chapter {lesson.position}")
    media_start_seconds = factory.LazyAttribute(lambda lesson: (lesson.position - 1) * 120)
    media_end_seconds = factory.LazyAttribute(lambda lesson: lesson.position * 120)
    body = "## A heading\n\nSome lesson text."
    estimated_minutes = 5


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningObjective

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(lambda n: n + 1)
    text = "Describe something measurable."


class ReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reference

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(lambda n: n + 1)
    citation = "Author, A. (2024). A study. Journal, 1, 1–2."


class ApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseApproval

    course = factory.SubFactory(CourseFactory)
    accreditor = factory.SubFactory(AccreditorFactory)
    hours = Decimal("0.50")
    credit_type = "general"
    valid_from = factory.LazyFunction(lambda: date.today() - timedelta(days=30))  # noqa: DTZ011
    valid_until = factory.LazyFunction(lambda: date.today() + timedelta(days=300))  # noqa: DTZ011


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)


class QuestionFactory(factory.django.DjangoModelFactory):
    """A single-answer question with four choices, the first correct (`correct=[0, 2]` and
    kind="multiple" for several)."""

    class Meta:
        model = Question
        skip_postgeneration_save = True

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = "single"
    text = factory.Sequence(lambda n: f"Question {n}?")
    explanation = factory.LazyAttribute(lambda q: f"Because of reason {q.position}.")

    @factory.post_generation
    def correct(self, create: bool, extracted, **kwargs) -> None:
        if create:
            right = set(extracted if extracted is not None else [0])
            for index in range(4):
                Choice.objects.create(
                    question=self,
                    position=index + 1,
                    text=f"Choice {index + 1} of question {self.position}",
                    is_correct=index in right,
                )


def staff_in(group: str, **fields):
    """A staff member in one of the roles' groups (courses/roles.py: "Course authors",
    "Registrars"...)."""
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


def finish_lessons(enrollment: Enrollment) -> Enrollment:
    """The learner has done every lesson and spent the course's minimum time."""
    for lesson in enrollment.course.lessons.all():
        LessonProgress.objects.update_or_create(
            enrollment=enrollment, lesson=lesson, defaults={"completed_at": timezone.now()}
        )
    enrollment.engaged_seconds = enrollment.course.minimum_engaged_minutes * 60
    enrollment.save(update_fields=["engaged_seconds"])
    return enrollment


# --- Board rules ---------------------------------------------------------------------------------


class SubjectAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "courses.SubjectArea"
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"subject-{n}")
    name = factory.LazyAttribute(lambda subject: subject.slug.replace("-", " ").capitalize())


class BoardRuleFactory(factory.django.DjangoModelFactory):
    """A board's rule as the fixture records it: by default Florida's counselors on a 24-month
    cycle of 30 hours, with nothing else known. `accepted=["NBCC"]` lists the approval bodies
    the board accepts (and marks them known)."""

    class Meta:
        model = "courses.BoardRule"
        django_get_or_create = ["jurisdiction", "profession"]
        skip_postgeneration_save = True

    jurisdiction = "FL"
    profession = "professional_counselor"
    board = "Florida Board of Mental Health Counseling (test)"
    licence_titles = "LMHC"
    checked_on = date(2026, 11, 28)
    cycle_months = 24
    renewal_basis = "fixed_date"
    fixed_month = 3
    fixed_day = 31
    cycle_source = "https://example.org/board/renewal"
    hours_required = Decimal("30")
    hours_source = "https://example.org/board/ce"

    @factory.post_generation
    def accepted(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted is not None:
            for body in extracted:
                AcceptedApprovalFactory(rule=self, body=body)
            self.approvals_status = "known"
            self.save(update_fields=["approvals_status"])


class SubjectRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "courses.SubjectRequirement"

    rule = factory.SubFactory(BoardRuleFactory)
    subject = factory.SubFactory(SubjectAreaFactory)
    name = factory.LazyAttribute(lambda requirement: requirement.subject.name)
    hours = Decimal("3")
    every_n_cycles = 1
    source = "https://example.org/board/subjects"


class AcceptedApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "courses.AcceptedApproval"

    rule = factory.SubFactory(BoardRuleFactory)
    body = "NBCC"
    scope = "Approved providers"
    source = "https://example.org/board/providers"

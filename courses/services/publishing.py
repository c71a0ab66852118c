"""Publishing, archiving and new editions: a course goes before learners only when it carries
everything an accreditor would ask for, and once certificates print it, it changes only as a new
edition so every roster reflects what was offered."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from courses.models import (
    Choice,
    Course,
    CourseStatus,
    Lesson,
    Policy,
    PolicyKind,
    Question,
)
from courses.selectors import current_approvals
from courses.services import audit
from courses.services.assessment import required_questions
from courses.services.captions import caption_problems
from courses.services.catalog import credit_problems, media_problems

MINIMUM_OBJECTIVES = 3
# APA-approved sponsors ask for three to ten references, besides the citation of the source
# material the course is built from.
MINIMUM_REFERENCES = 3
MAXIMUM_REFERENCES = 10
PLACEHOLDERS = {"", "to be confirmed", "tbc", "tbd", "write this lesson."}


class PublishingError(Exception):
    """A step in a course's life that cannot be taken now; the message says why and what to do."""


class PublishError(PublishingError):
    """Publishing refused: `problems` is the checklist of what the course still lacks."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class NothingToChange(PublishingError):
    """The course is already where the step would take it."""


class Problem(str):
    """One line of the checklist, and what it is about (`topic`: "objectives", "question"...,
    with the question's `position`), so the admin can lead the author straight to it. It is the
    text itself everywhere else."""

    topic: str
    position: int | None

    def __new__(cls, text: str, topic: str, position: int | None = None):
        problem = super().__new__(cls, text)
        problem.topic = topic
        problem.position = position
        return problem


def _missing(text: str) -> bool:
    return text.strip().lower() in PLACEHOLDERS


def publish_checklist(course: Course) -> list[str]:
    """What the course still lacks before it may be published; empty when it is complete."""
    problems = []
    objectives = course.objectives.count()
    if objectives < MINIMUM_OBJECTIVES:
        problems.append(
            Problem(
                _("At least %(n)d measurable learning objectives (it has %(have)d).")
                % {"n": MINIMUM_OBJECTIVES, "have": objectives},
                "objectives",
            )
        )
    references = course.references.filter(is_source_material=False).count()
    if references < MINIMUM_REFERENCES:
        problems.append(
            Problem(
                _("At least %(n)d references besides the source material (it has %(have)d).")
                % {"n": MINIMUM_REFERENCES, "have": references},
                "references",
            )
        )
    elif references > MAXIMUM_REFERENCES:
        problems.append(
            Problem(
                _(
                    "At most %(n)d references besides the source material (it has %(have)d): "
                    "keep those learners need most."
                )
                % {"n": MAXIMUM_REFERENCES, "have": references},
                "references",
            )
        )
    if _missing(course.presenter_name) or _missing(course.presenter_credentials):
        problems.append(Problem(_("The presenter's name and credentials."), "presenter"))
    if _missing(course.test_author):
        problems.append(
            Problem(
                _("The name of the post-test's author (who wrote the answer key)."), "test_author"
            )
        )
    lessons = list(Lesson.objects.filter(course=course).order_by("position"))
    if not lessons:
        problems.append(Problem(_("At least one lesson."), "lessons"))
    unwritten = [lesson.position for lesson in lessons if _missing(lesson.body)]
    if unwritten:
        problems.append(
            Problem(
                _("Text for lesson %(list)s.") % {"list": ", ".join(map(str, unwritten))},
                "lessons",
                unwritten[0],
            )
        )
    if course.media_minutes <= 0 and course.reading_word_count <= 0:
        problems.append(
            Problem(_("The credit calculation: media minutes or a reading word count."), "credit")
        )
    problems.extend(Problem(text, "credit") for text in credit_problems(course, lessons))
    problems.extend(Problem(text, "media") for text in media_problems(course, lessons))
    problems.extend(Problem(text, "captions") for text in caption_problems(course, lessons))
    if course.pass_mark < settings.CEU_MIN_PASS_MARK:
        problems.append(
            Problem(
                _("A pass mark of at least %(floor)d %% (it is %(mark)d %%).")
                % {"floor": settings.CEU_MIN_PASS_MARK, "mark": course.pass_mark},
                "pass_mark",
            )
        )
    questions = list(Question.objects.filter(course=course).prefetch_related("choices"))
    needed = required_questions(course)
    if len(questions) < needed:
        problems.append(
            Problem(
                _("At least %(n)d post-test questions for %(hours)s CE hours (it has %(have)d).")
                % {"n": needed, "hours": course.ce_hours.normalize(), "have": len(questions)},
                "questions",
            )
        )
    for question in questions:
        if not question.explanation.strip():
            problems.append(
                Problem(
                    _("Question %(n)d needs an explanation for learners' feedback.")
                    % {"n": question.position},
                    "question",
                    question.position,
                )
            )
        correct = sum(choice.is_correct for choice in question.choices.all())
        if (
            question.choices.count() < 2
            or correct == 0
            or (question.kind == Question.Kind.SINGLE and correct != 1)
        ):
            problems.append(
                Problem(
                    _("Question %(n)d needs choices with the right number of correct answers.")
                    % {"n": question.position},
                    "question",
                    question.position,
                )
            )
    if not current_approvals(today=timezone.localdate()).filter(course=course).exists():
        problems.append(Problem(_("A current approval from an accreditor."), "approvals"))
    for approval in course.approvals.select_related("accreditor").filter(hours__gt=course.ce_hours):
        # Credit is never more than the hours the course's instruction supports.
        problems.append(
            Problem(
                _(
                    "The %(accreditor)s approval gives %(hours)s hours, more than the course's "
                    "%(ce_hours)s CE hours."
                )
                % {
                    "accreditor": approval.accreditor.short_name,
                    "hours": approval.hours.normalize(),
                    "ce_hours": course.ce_hours.normalize(),
                },
                "approvals",
            )
        )
    kinds = set(Policy.objects.values_list("kind", flat=True))
    missing_policies = [label for kind, label in PolicyKind.choices if kind not in kinds]
    if missing_policies:
        problems.append(
            Problem(
                _("The site's policies: %(list)s.")
                % {"list": ", ".join(map(str, missing_policies))},
                "policies",
            )
        )
    return problems


@transaction.atomic
def publish_course(*, course: Course, acting_user: User | None = None) -> Course:
    """Put the course in the catalog, or refuse with the checklist of what is missing."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status == CourseStatus.PUBLISHED:
        raise NothingToChange(_("“%(title)s” is already published.") % {"title": course.title})
    if course.status == CourseStatus.ARCHIVED:
        # Learners already enrolled finish an archived course; offering it again is a new
        # edition, so its approvals and content are checked as they are today.
        raise PublishingError(
            _(
                "“%(title)s” is archived and cannot be published again. To offer it again, copy "
                "it as a new edition."
            )
            % {"title": course.title}
        )
    problems = publish_checklist(course)
    if problems:
        raise PublishError(problems)
    course.status = CourseStatus.PUBLISHED
    course.published_at = course.published_at or timezone.now()
    course.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(
        "course.published",
        actor=acting_user,
        subject=course,
        data={"slug": course.slug, "ce_hours": course.ce_hours},
    )
    return course


@transaction.atomic
def archive_course(*, course: Course, acting_user: User | None = None) -> Course:
    """Take the course out of the catalog; its enrollments and certificates stay on record."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status == CourseStatus.ARCHIVED:
        raise NothingToChange(_("“%(title)s” was already archived.") % {"title": course.title})
    previous = course.status
    course.status = CourseStatus.ARCHIVED
    course.archived_at = course.archived_at or timezone.now()
    course.save(update_fields=["status", "archived_at", "updated_at"])
    audit.record(
        "course.archived",
        actor=acting_user,
        subject=course,
        data={"slug": course.slug, "previous_status": previous},
    )
    return course


def _free_slug(base: str) -> str:
    stem = slugify(base)[:100] or "course"
    slug, number = stem, 2
    while Course.objects.filter(slug=slug).exists():
        slug = f"{stem}-{number}"
        number += 1
    return slug


@transaction.atomic
def copy_as_new_edition(*, course: Course, acting_user: User | None = None) -> Course:
    """A draft copy of the course with its lessons, objectives, references, approvals and
    post-test, to change what certificates print without changing what was offered."""
    source = Course.objects.get(pk=course.pk)
    source_id, source_slug = source.pk, source.slug
    topics = list(source.topics.all())
    lessons = list(source.lessons.all())
    objectives = list(source.objectives.all())
    references = list(source.references.all())
    approvals = list(source.approvals.all())
    questions = list(source.questions.prefetch_related("choices"))

    edition = source
    edition.pk = None
    edition._state.adding = True
    edition.slug = _free_slug(f"{source.slug}-new-edition")
    edition.status = CourseStatus.DRAFT
    edition.published_at = None
    edition.archived_at = None
    # Same lineage: credit earned from either edition is credit earned from both.
    edition.previous_edition_id = source_id
    edition.save()
    edition.topics.set(topics)
    for rows in (lessons, objectives, references, approvals):
        for row in rows:
            row.pk = None
            row._state.adding = True
            row.course = edition
            row.save()
    for question in questions:
        choices = list(question.choices.all())
        question.pk = None
        question._state.adding = True
        question.course = edition
        question.save()
        for choice in choices:
            # One by one, not in bulk: each row's history starts with its creation.
            Choice.objects.create(
                question=question,
                position=choice.position,
                text=choice.text,
                is_correct=choice.is_correct,
            )
    audit.record(
        "course.edition_created",
        actor=acting_user,
        subject=edition,
        data={"source_id": source_id, "source_slug": source_slug, "slug": edition.slug},
    )
    return edition

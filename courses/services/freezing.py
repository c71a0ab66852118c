"""Content as offered stays as offered. Once a course has issued a certificate, everything its
learners were taught and tested on (the course's own text and credit, lessons, objectives,
references, approvals, questions and their choices, the episode it plays) is read-only: a
change needs a new edition. The guard sits on the models' save and delete signals, so every path
(services, the admin, a crafted POST, a script) meets the same rule; the admin shows the same
rule as read-only pages."""

from django.db.models import Model
from django.db.models.signals import pre_delete, pre_save
from django.utils.translation import gettext as _

from courses.models import (
    Certificate,
    Choice,
    Course,
    CourseApproval,
    Episode,
    LearningObjective,
    Lesson,
    Question,
    Reference,
)

# A course's own fields that are not content: its place in the catalog and its lifecycle.
COURSE_LIFECYCLE_FIELDS = {"status", "published_at", "archived_at", "updated_at", "created_at"}
# An approval's fields that no learner saw and no certificate prints: CE Broker issues its course
# number when the provider registers the course, often after the first completions.
APPROVAL_REPORTING_FIELDS = {"ce_broker_course_number"}
# What an episode contributes to the lessons learners heard, and read in their captions.
EPISODE_CONTENT_FIELDS = [
    "media_url",
    "media_type",
    "media_mime_type",
    "duration_seconds",
    "captions",
]


class FrozenContent(Exception):
    """Content that certificates were issued for cannot change; the message says what to do."""

    def __init__(self, course: Course | None = None):
        title = course.title if course is not None else _("this course")
        super().__init__(
            _(
                "“%(title)s” has issued certificates, so what its learners were taught and "
                "tested on is kept exactly as offered. Copy it as a new edition to change it."
            )
            % {"title": title}
        )


def is_frozen(course_id: int | None) -> bool:
    """Whether a certificate was ever issued for this course (revoked ones count: they were
    issued for what was offered)."""
    return (
        course_id is not None
        and Certificate.objects.filter(enrollment__course_id=course_id).exists()
    )


def is_frozen_for(obj: Model | None, course_id: int | None) -> bool:
    """`is_frozen`, remembered on `obj` for the rest of the request: the admin asks it for each
    inline and each permission of one page."""
    if obj is None:
        return False
    if not hasattr(obj, "_frozen_content"):
        obj._frozen_content = is_frozen(course_id)
    return obj._frozen_content


def episode_is_frozen(episode_id: int | None) -> bool:
    return (
        episode_id is not None
        and Certificate.objects.filter(enrollment__course__episode_id=episode_id).exists()
    )


def course_content_fields() -> list[str]:
    return [
        f.attname
        for f in Course._meta.concrete_fields
        if not f.primary_key and f.name not in COURSE_LIFECYCLE_FIELDS
    ]


def _course_ids(instance: Model) -> set[int]:
    """The course (or courses, when a row is being moved) a content row belongs to."""
    model = type(instance)
    if model is Choice:
        ids = {
            Question.objects.filter(pk=instance.question_id)
            .values_list("course_id", flat=True)
            .first()
        }
        if instance.pk:
            ids.add(
                Choice.objects.filter(pk=instance.pk)
                .values_list("question__course_id", flat=True)
                .first()
            )
        return {i for i in ids if i is not None}
    ids = {instance.course_id}
    if instance.pk:
        # A row moved from one course to another changes both: the old one loses it.
        ids.add(model.objects.filter(pk=instance.pk).values_list("course_id", flat=True).first())
    return {i for i in ids if i is not None}


def _only_reporting_fields(instance: CourseApproval, update_fields) -> bool:
    """Whether this save of an approval changes only what is reported to CE Broker."""
    if instance.pk is None:
        return False
    if update_fields is not None:
        return set(update_fields) <= APPROVAL_REPORTING_FIELDS
    content = [
        f.attname
        for f in CourseApproval._meta.concrete_fields
        if f.name not in APPROVAL_REPORTING_FIELDS
    ]
    stored = CourseApproval.objects.filter(pk=instance.pk).values(*content).first()
    return stored is not None and all(stored[f] == getattr(instance, f) for f in content)


def _guard_content(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:  # loading fixtures
        return
    if (
        sender is CourseApproval
        and kwargs.get("signal") is pre_save
        and _only_reporting_fields(instance, update_fields)
    ):
        return
    for course_id in _course_ids(instance):
        if is_frozen(course_id):
            raise FrozenContent(Course.objects.filter(pk=course_id).first())


def _guard_course(sender, instance: Course, raw: bool = False, **kwargs) -> None:
    if raw or instance.pk is None or not is_frozen(instance.pk):
        return
    fields = course_content_fields()
    stored = Course.objects.filter(pk=instance.pk).values(*fields).first()
    if stored is None:
        return
    if any(stored[field] != getattr(instance, field) for field in fields):
        raise FrozenContent(Course.objects.get(pk=instance.pk))


def _guard_course_delete(sender, instance: Course, **kwargs) -> None:
    if is_frozen(instance.pk):
        raise FrozenContent(instance)


def _guard_episode(sender, instance: Episode, raw: bool = False, **kwargs) -> None:
    if raw or instance.pk is None or not episode_is_frozen(instance.pk):
        return
    stored = Episode.objects.filter(pk=instance.pk).values(*EPISODE_CONTENT_FIELDS).first()
    if stored and any(stored[f] != getattr(instance, f) for f in EPISODE_CONTENT_FIELDS):
        raise FrozenContent()


CONTENT_MODELS = [Lesson, LearningObjective, Reference, CourseApproval, Question, Choice]


def connect() -> None:
    """Called once from the app's ready()."""
    for model in CONTENT_MODELS:
        pre_save.connect(_guard_content, sender=model, dispatch_uid=f"freeze-save-{model.__name__}")
        pre_delete.connect(
            _guard_content, sender=model, dispatch_uid=f"freeze-delete-{model.__name__}"
        )
    pre_save.connect(_guard_course, sender=Course, dispatch_uid="freeze-save-Course")
    pre_delete.connect(_guard_course_delete, sender=Course, dispatch_uid="freeze-delete-Course")
    pre_save.connect(_guard_episode, sender=Episode, dispatch_uid="freeze-save-Episode")

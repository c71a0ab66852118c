"""Reads of the catalog: the provider, courses a person may see, their current approvals and
how each counts for a learner's licences."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Licence, User
from courses.models import (
    Course,
    CourseApproval,
    CourseStatus,
    Enrollment,
    Lesson,
    Provider,
)
from courses.models.catalog import CONTENT_VERSION_KEY, PROVIDER_CACHE_KEY

from .boards import Acceptance, acceptance, accepted_bodies, with_board_rules
from .learning import is_open_to_enrolled, open_to_enrolled

# How long a cached copy of the catalog's content is kept; a change replaces the content version
# at once (courses.models.catalog.content_changed), so this only bounds what the cache holds.
FRAGMENT_SECONDS = 60 * 60
# Copies are this process's own: a deployed release never serves what an older one rendered.
_PROCESS = uuid.uuid4().hex[:12]


def _content_version(found: dict) -> str:
    version = found.get(CONTENT_VERSION_KEY)
    if version is None:
        fresh = uuid.uuid4().hex
        version = fresh if cache.add(CONTENT_VERSION_KEY, fresh, None) else None
        version = version or cache.get(CONTENT_VERSION_KEY) or fresh
    return version


Builder = Callable[[dict[str, Any]], Any]


def cached_content(
    entries: dict[str, tuple[str, Builder]], *, per_language: bool = True
) -> dict[str, Any]:
    """What every visitor sees of the catalog (never anything of one learner's): for each name,
    a (key, builder) pair; the value comes from the cache while the content version it was made
    under stands, else it is built and kept. One cache round trip when all are there. The
    version is read before anything is built, so a copy built from rows that changed meanwhile
    is kept under a version already replaced. Each builder gets the values before it (a page's
    fragments are built from its course). Values that hold no words of the site's own (model
    rows) are kept once for every language: `per_language=False`."""
    language = (translation.get_language() or "") if per_language else "-"
    keys = {name: f"catalog:{_PROCESS}:{language}:{key}" for name, (key, _b) in entries.items()}
    found = cache.get_many([CONTENT_VERSION_KEY, *keys.values()])
    version = _content_version(found)
    values: dict[str, Any] = {}
    fresh: dict[str, Any] = {}
    for name, key in keys.items():
        entry = found.get(key)
        if entry is not None and entry[0] == version:
            values[name] = entry[1]
        else:
            values[name] = entries[name][1](values)
            # Nothing is kept for what does not exist (a mistyped address): a name asked
            # for later is found at once, and no one fills the cache with misses.
            if values[name] is not None:
                fresh[key] = (version, values[name])
    if fresh:
        cache.set_many(fresh, FRAGMENT_SECONDS)
    return values


def current_provider() -> Provider | None:
    """The operator's provider details, cached: every course page and certificate shows them."""
    provider = cache.get(PROVIDER_CACHE_KEY)
    if provider is None:
        provider = Provider.objects.filter(pk=1).first() or False
        cache.set(PROVIDER_CACHE_KEY, provider, 300)
    return provider or None


def can_preview(user: User) -> bool:
    """Staff who author courses see drafts and archived courses as a learner would."""
    return bool(user.is_authenticated and user.is_staff and user.has_perm("courses.view_course"))


def visible_courses(*, user: User) -> QuerySet[Course]:
    """Courses this person may open: published ones, and every course for staff previewing."""
    courses = Course.objects.all()
    if not can_preview(user):
        courses = courses.filter(status=CourseStatus.PUBLISHED)
    return courses


def courses_open_to(*, user: User) -> QuerySet[Course]:
    """Courses this person may open: the visible ones, and archived ones they are enrolled in
    while the grace period lasts, so they can finish what they started."""
    courses = visible_courses(user=user)
    if user.is_authenticated and not can_preview(user):
        enrolled = Enrollment.objects.filter(user=user, course=OuterRef("pk"))
        courses = Course.objects.filter(
            Q(status=CourseStatus.PUBLISHED) | (open_to_enrolled() & Exists(enrolled))
        )
    return courses


def current_approvals(*, today: date) -> QuerySet[CourseApproval]:
    """Approvals that count today: the course's own period and the accreditor's provider period."""
    return CourseApproval.objects.filter(
        valid_from__lte=today,
        valid_until__gte=today,
    ).filter(
        Q(accreditor__approved_from__isnull=True) | Q(accreditor__approved_from__lte=today),
        Q(accreditor__approved_until__isnull=True) | Q(accreditor__approved_until__gte=today),
    )


def course_credit(course: Course, day: date) -> tuple[list[CourseApproval], frozenset[str]]:
    """The course's approvals current on `day` (accreditor, its professions and the subjects
    each covers at hand), in the order a certificate prints them, and the slugs of the subjects
    the course teaches: a board counts subject hours only where both the course teaches the
    subject and the approval covers it. The same for everyone who completes the course that
    day, so read from the catalog's cache while the content version stands: saving a course,
    approval, accreditor, profession or subject (or their links) replaces the version at once
    and again on commit, so a certificate never prints what was there before a change."""

    def build(_values) -> tuple[list[CourseApproval], frozenset[str]]:
        approvals = list(
            current_approvals(today=day)
            .filter(course=course)
            .select_related("accreditor")
            .prefetch_related("accreditor__professions", "subjects")
            .order_by("accreditor__short_name", "pk")
        )
        # Only credit carries subjects: a course without approvals needs no query for them.
        subjects = course.subjects.values_list("slug", flat=True) if approvals else ()
        return approvals, frozenset(subjects)

    key = f"issue-credit:{course.pk}:{day.isoformat()}"
    return cached_content({"credit": (key, build)}, per_language=False)["credit"]


def _with_current_approvals(
    courses: QuerySet[Course], *, today: date, also: tuple[str, ...] = ()
) -> QuerySet[Course]:
    return courses.prefetch_related(
        Prefetch(
            "approvals",
            queryset=current_approvals(today=today)
            .select_related("accreditor")
            .prefetch_related("accreditor__professions", *also),
            to_attr="current_approvals",
        )
    )


HOURS_BUCKETS = {
    "1": (Decimal("0"), Decimal("1")),
    "1-3": (Decimal("1.01"), Decimal("3")),
    "3+": (Decimal("3.01"), None),
}


def catalog(
    *,
    user: User,
    search: str = "",
    topic: str = "",
    hours: str = "",
    for_my_licences: bool = False,
    licences: list[Licence] | None = None,
    today: date | None = None,
) -> QuerySet[Course]:
    """Published courses matching the learner's filters, with what the catalog card shows.
    `licences` (from `with_board_rules`) saves looking them up when the page already has them."""
    today = today or timezone.localdate()
    courses = Course.objects.filter(status=CourseStatus.PUBLISHED)
    if search:
        courses = courses.filter(title__icontains=search)
    if topic:
        # Topic slugs are unique: the join matches a course at most once, no DISTINCT needed.
        courses = courses.filter(topics__slug=topic)
    if hours in HOURS_BUCKETS:
        low, high = HOURS_BUCKETS[hours]
        courses = courses.filter(ce_hours__gte=low)
        if high is not None:
            courses = courses.filter(ce_hours__lte=high)
    if for_my_licences and user.is_authenticated:
        if licences is None:
            licences = with_board_rules(Licence.objects.filter(user=user))
        courses = courses.filter(
            Exists(
                current_approvals(today=today).filter(counts_for(licences), course=OuterRef("pk"))
            )
        )
    courses = courses.order_by("-published_at", "title")
    return _with_current_approvals(courses.prefetch_related("topics"), today=today)


def professions_served(course: Course) -> list[str]:
    """The professions a course's current approvals count for, by display name."""
    names = {
        profession.get_profession_display()
        for approval in course.current_approvals
        for profession in approval.accreditor.professions.all()
    }
    return sorted(names)


def _course_with_content(slug: str, *, today: date) -> Course | None:
    """The course, whatever its status, with everything its pages show, in a fixed number of
    queries. The lessons come without their texts: a lesson page reads its own."""
    courses = _with_current_approvals(
        # The episode's captions are the lesson pages' to read, through their own cache.
        Course.objects.select_related("episode").defer("episode__captions"),
        today=today,
        # What each approval covers, for the subjects a licence's board requires.
        also=("subjects",),
    ).prefetch_related(
        "topics",
        "subjects",
        "objectives",
        "references",
        Prefetch(
            "lessons", queryset=Lesson.objects.defer("body", "body_html").order_by("position")
        ),
    )
    course = courses.filter(slug=slug).first()
    if course is not None:
        for lesson in course.lessons.all():
            # Kept with the lesson: pages link every chapter.
            lesson.page_url = reverse("courses:lesson", args=[course.slug, lesson.position])
    return course


def course_content(*, slug: str, today: date | None = None) -> Course | None:
    """`_course_with_content`, from the cache while the catalog's content is unchanged: the
    same for every visitor, so whether this visitor may see it is asked apart (`may_open`)."""
    today = today or timezone.localdate()
    return cached_content(course_entry(slug, today=today))["course"]


@dataclass(frozen=True)
class BeatLesson:
    """What a heartbeat needs of a lesson (`Lesson`'s names, read from it)."""

    id: int
    course_id: int
    position: int
    media_start_seconds: int | None
    media_end_seconds: int | None
    minimum_seconds: int
    has_media: bool


@dataclass(frozen=True)
class BeatCourse:
    """What a heartbeat needs of a course (`Course`'s names, read from it): whether it is open
    (`is_open_to_enrolled` asks `status` and `archived_at`), its credit cap and its lessons.
    Every open lesson page beats every few seconds, so this is kept apart from the course's
    whole content: a fraction of its size to read back from the cache."""

    id: int
    status: str
    archived_at: datetime | None
    credit_seconds_cap: int
    minimum_engaged_minutes: int
    lessons: tuple[BeatLesson, ...]

    def lesson_at(self, position: int) -> BeatLesson | None:
        return next((lesson for lesson in self.lessons if lesson.position == position), None)


def beat_course(*, slug: str) -> BeatCourse | None:
    """`BeatCourse` of the course with this slug (whatever its status), from the cache while the
    catalog's content is unchanged."""

    def build(_values) -> BeatCourse | None:
        course = course_content(slug=slug)
        if course is None:
            return None
        return BeatCourse(
            id=course.pk,
            status=course.status,
            archived_at=course.archived_at,
            credit_seconds_cap=course.credit_seconds_cap,
            minimum_engaged_minutes=course.minimum_engaged_minutes,
            lessons=tuple(
                BeatLesson(
                    id=lesson.pk,
                    course_id=lesson.course_id,
                    position=lesson.position,
                    media_start_seconds=lesson.media_start_seconds,
                    media_end_seconds=lesson.media_end_seconds,
                    minimum_seconds=lesson.minimum_seconds,
                    has_media=lesson.has_media,
                )
                for lesson in course.lessons.all()
            ),
        )

    return cached_content({"beat": (f"beat:{slug}", build)}, per_language=False)["beat"]


def course_entry(slug: str, *, today: date) -> dict[str, tuple[str, Builder]]:
    """The course's cached content as an entry of `cached_content`, under "course"; a page adds
    the fragments it renders from it."""
    return {
        "course": (f"course:{slug}:{today}", lambda _v: _course_with_content(slug, today=today))
    }


def may_open(course: Course, *, user: User, enrolled: bool) -> bool:
    """`courses_open_to` for one course already read: published courses, every course for
    staff previewing, and archived ones within the grace period for the learners enrolled."""
    if course.is_published or can_preview(user):
        return True
    return user.is_authenticated and enrolled and is_open_to_enrolled(course)


def course_page(*, slug: str, user: User, today: date | None = None) -> Course:
    """The course with everything its page shows; raises Course.DoesNotExist when not visible."""
    course = course_content(slug=slug, today=today)
    if course is None:
        raise Course.DoesNotExist
    if not course.is_published and not can_preview(user):
        enrolled = (
            user.is_authenticated
            and Enrollment.objects.filter(user=user, course_id=course.pk).exists()
        )
        if not may_open(course, user=user, enrolled=enrolled):
            raise Course.DoesNotExist
    return course


@dataclass
class LicenceCredit:
    """How a course counts for one of the learner's licences."""

    licence: Licence
    approvals: list[CourseApproval] = field(default_factory=list)


def serves(approval: CourseApproval, licence: Licence) -> bool:
    """Whether this approval's credit counts for this licence: the one rule for "it counts for
    you", used by the course page, the post-test page and the certificate. The accreditor must
    serve the licence's profession and, where the licence's board rule (`with_board_rules`)
    names the approvals it accepts, be one of them. Uses the prefetched
    `accreditor.professions`."""
    if not any(p.profession == licence.profession for p in approval.accreditor.professions.all()):
        return False
    rule = getattr(licence, "board_rule", None)
    return acceptance(rule, approval.accreditor.body) != Acceptance.NOT_ACCEPTED


def counts_for(licences: Iterable[Licence]) -> Q:
    """The same rule as `serves`, as a filter on approvals (for the catalog): an approval that
    counts for at least one of these licences (annotated by `with_board_rules`)."""
    condition = Q(pk__in=[])
    for licence in licences:
        serving = Q(accreditor__professions__profession=licence.profession)
        bodies = accepted_bodies(getattr(licence, "board_rule", None))
        if bodies is not None:
            serving &= Q(accreditor__body__in=bodies)
        condition |= serving
    return condition


def approvals_serving(
    approvals: Iterable[CourseApproval], licences: Iterable[Licence]
) -> list[CourseApproval]:
    """The approvals (already filtered to those current on the day in question) that serve at
    least one of the learner's licences. With no licence, none does: there is no credit."""
    licences = list(licences)
    return [a for a in approvals if any(serves(a, licence) for licence in licences)]


def credit_for_licences(*, course: Course, licences: list[Licence]) -> list[LicenceCredit]:
    """For each licence, the course's current approvals whose accreditor serves its profession."""
    return [
        LicenceCredit(
            licence=licence,
            approvals=[a for a in course.current_approvals if serves(a, licence)],
        )
        for licence in licences
    ]


def credit_for_learner(
    *, course: Course, licences: list[Licence], today: date | None = None
) -> list[LicenceCredit]:
    """`credit_for_licences` for a course fetched without its current approvals: two queries
    (approvals, their professions), none when the learner has no licence to ask about."""
    if not licences:
        return []
    if not hasattr(course, "current_approvals"):
        course.current_approvals = list(
            current_approvals(today=today or timezone.localdate())
            .filter(course=course)
            .select_related("accreditor")
            .prefetch_related("accreditor__professions")
        )
    return credit_for_licences(course=course, licences=licences)

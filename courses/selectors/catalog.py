"""Reads of the catalog: the provider, courses a person may see, their current approvals and
how each counts for a learner's licences."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Licence, User
from courses.models import (
    Course,
    CourseApproval,
    CourseStatus,
    Enrollment,
    Lesson,
    Provider,
)
from courses.models.catalog import PROVIDER_CACHE_KEY

from .boards import Acceptance, acceptance, accepted_bodies, with_board_rules
from .learning import open_to_enrolled


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


def course_page(*, slug: str, user: User, today: date | None = None) -> Course:
    """The course with everything its page shows; raises Course.DoesNotExist when not visible."""
    today = today or timezone.localdate()
    courses = _with_current_approvals(
        # The episode's captions are the lesson pages' to read; the course page leaves them.
        courses_open_to(user=user).select_related("episode").defer("episode__captions"),
        today=today,
        # What each approval covers, for the subjects a licence's board requires.
        also=("subjects",),
    ).prefetch_related(
        "topics",
        "subjects",
        "objectives",
        "references",
        Prefetch("lessons", queryset=Lesson.objects.defer("body").order_by("position")),
    )
    return courses.get(slug=slug)


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

"""Every page the project renders, swept by axe-core in real Chromium against WCAG 2.1 A and AA:
for a visitor, a learner at each stage of a training, and the staff roles in the admin pages whose
templates the project overrides. A serious or critical violation fails the page, naming the rule,
the elements and what is wrong with them.

Each role walks its pages in one browser session, so one run lists every failing page. To sweep
one more page, add one line to SCREENS: who looks at it, its address (with the World's names in
braces), and, for a state only a click reaches (a form's errors), what to do first and a text
that shows the state was reached."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from playwright.sync_api import Page

from accounts.models import User
from accounts.tests.factories import LicenceFactory, UserFactory
from ceu.testing.axe import axe_violations, describe
from courses.codes import new_code
from courses.models import Choice, Course, CourseStatus, Enrollment, QuizAttempt
from courses.reports.rosters import CompletionFilter
from courses.services import approvals, assessment, credentials, rosters
from courses.tests.factories import CourseFactory, finish_lessons

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
RUPTURES = "ruptures-ghosting-and-reengaging-stuck-clients"
EMOTIONAL_SAFETY = "emotional-safety-trust-and-open-communication"
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"

ANONYMOUS, LEARNER, AUTHOR, REGISTRAR, SUPERUSER = (
    "anonymous",
    "learner",
    "course author",
    "registrar",
    "superuser",
)


@dataclass(frozen=True)
class World:
    """What the screens' addresses are written with: a learner at every stage of a training,
    the certificates a board looks up, and what the staff pages show."""

    users: dict[str, User]
    not_enrolled: str  # the slug of a course the learner has not started
    enrolled: str  # lessons done, one attempt failed, the next one open
    completed: str  # passed, evaluated, attested, certified
    completed_course: int
    draft: str  # a course an author is still writing
    draft_course: int
    open_attempt: int
    failed_attempt: int
    passed_attempt: int
    valid_code: str
    revoked_code: str
    unknown_code: str  # well formed, never issued
    certificate_pdf: str  # the file the learner was given
    certificate: int
    licence: int
    roster: int
    policy: str = "accommodation"


def submit(button: str) -> Callable[[World, Page], None]:
    """Submit the page's form as it is, past the browser's own checks of required fields: the
    server's answer to an empty or bad form is the page swept."""

    def then(world: World, page: Page) -> None:
        page.locator("form").evaluate_all("forms => forms.forEach(f => (f.noValidate = true))")
        page.get_by_role("button", name=button, exact=True).click()

    return then


def sign_in_with_a_wrong_password(world: World, page: Page) -> None:
    page.locator("#id_login").fill("nobody@example.com")
    page.locator("#id_password").fill("not the password")
    page.get_by_role("button", name="Sign In").click()


def upload(name: str, content: bytes) -> Callable[[World, Page], None]:
    def then(world: World, page: Page) -> None:
        page.get_by_label("Certificate PDF").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": content}
        )
        page.get_by_role("button", name="Check the file").click()

    return then


def upload_the_certificate(world: World, page: Page) -> None:
    page.get_by_label("Certificate PDF").set_input_files(world.certificate_pdf)
    page.get_by_role("button", name="Check the file").click()


def ask_to_revoke_every_certificate(world: World, page: Page) -> None:
    """The certificate list's action: the page that asks for the reason, before anything changes."""
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("revoke_selected")
    page.get_by_role("button", name="Go").click()


def send_without_the_security_cookie(world: World, page: Page) -> None:
    """A form whose CSRF cookie is gone (cookies cleared, a session ended elsewhere): the 403
    page that explains it."""
    page.context.clear_cookies()
    page.locator("#id_login").fill("nobody@example.com")
    page.locator("#id_password").fill("not the password")
    page.get_by_role("button", name="Sign In").click()


def show_the_server_error_page(world: World, page: Page) -> None:
    """The static 500 page, served as the site serves it when a view fails: no view raises on
    purpose, so the browser is handed the page the error handler renders."""
    from ceu.errors import server_error

    body = server_error(None).content
    origin = page.url.split("/", 3)[:3]
    failing = "/".join(origin) + "/a-page-that-failed/"
    page.route(
        failing,
        lambda route: route.fulfill(status=500, body=body, content_type="text/html"),
    )
    page.goto(failing)


def play_for_a_moment(world: World, page: Page) -> None:
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(1200)


@dataclass(frozen=True)
class Screen:
    who: str
    path: str  # formatted with the World's fields
    then: Callable[[World, Page], None] | None = None  # a click that leads to the state swept
    shows: str = ""  # text that tells the state swept is the one reached
    settings: dict = field(default_factory=dict)  # overridden while the page is swept
    navigates: bool = True  # whether `then` leads to another page (a form sent, a link)


# One line per page and state. The id reads as "who: page, state".
SCREENS: dict[str, Screen] = {
    # --- Anyone ---
    "home": Screen(ANONYMOUS, "/"),
    "catalog": Screen(ANONYMOUS, "/courses/"),
    "catalog, filtered": Screen(ANONYMOUS, "/courses/?q=clients&hours=1&mine=on"),
    "catalog, bad filter": Screen(ANONYMOUS, "/courses/?hours=many", shows="Select a valid choice"),
    "course page": Screen(ANONYMOUS, "/courses/{not_enrolled}/"),
    "policy": Screen(ANONYMOUS, "/policies/{policy}/"),
    "verify, form": Screen(ANONYMOUS, "/verify/"),
    "verify, valid": Screen(ANONYMOUS, "/verify/{valid_code}/"),
    "verify, revoked": Screen(ANONYMOUS, "/verify/{revoked_code}/"),
    "verify, not a code": Screen(
        ANONYMOUS, "/verify/?code=CEU-1234", shows="not a certificate code"
    ),
    "verify, code with a typo": Screen(
        ANONYMOUS, "/verify/CEU-2345-6789-ABCD-EFGH/", shows="This code has a typo"
    ),
    "verify, unknown code": Screen(
        ANONYMOUS, "/verify/{unknown_code}/", shows="No certificate with this code"
    ),
    "verify PDF, form": Screen(ANONYMOUS, "/verify/pdf/"),
    "verify PDF, no file": Screen(
        ANONYMOUS, "/verify/pdf/", submit("Check the file"), shows="This field is required"
    ),
    "verify PDF, not a PDF": Screen(
        ANONYMOUS, "/verify/pdf/", upload("scan.pdf", b"a photograph"), shows="Not a PDF."
    ),
    "verify PDF, altered": Screen(
        ANONYMOUS, "/verify/pdf/", upload("edited.pdf", b"%PDF-1.7 edited"), shows="Altered"
    ),
    "verify PDF, original": Screen(
        ANONYMOUS, "/verify/pdf/", upload_the_certificate, shows="{valid_code}"
    ),
    "rate limited": Screen(
        ANONYMOUS, "/verify/", shows="Too many", settings={"CEU_RATE_LIMITS": {"verify": 0}}
    ),
    "page not found": Screen(ANONYMOUS, "/courses/no-such-training/"),
    "server error": Screen(
        ANONYMOUS, "/", show_the_server_error_page, shows="Something went wrong on our side"
    ),
    "form sent without its security cookie": Screen(
        ANONYMOUS,
        "/accounts/login/",
        send_without_the_security_cookie,
        shows="The form could not be sent",
    ),
    "sign in": Screen(ANONYMOUS, "/accounts/login/"),
    "sign in, wrong password": Screen(
        ANONYMOUS, "/accounts/login/", sign_in_with_a_wrong_password, shows="not correct"
    ),
    "sign up": Screen(ANONYMOUS, "/accounts/signup/"),
    "sign up, empty": Screen(
        ANONYMOUS, "/accounts/signup/", submit("Sign Up"), shows="This field is required"
    ),
    "password reset": Screen(ANONYMOUS, "/accounts/password/reset/"),
    # --- A learner ---
    "learner home": Screen(LEARNER, "/"),
    "learner catalog, for my licences": Screen(LEARNER, "/courses/?mine=on"),
    "course page, not enrolled": Screen(LEARNER, "/courses/{not_enrolled}/"),
    "course page, enrolled": Screen(LEARNER, "/courses/{enrolled}/"),
    "course page, completed": Screen(LEARNER, "/courses/{completed}/"),
    "lesson": Screen(LEARNER, "/courses/{enrolled}/lessons/1/"),
    "lesson, playing": Screen(
        LEARNER,
        "/courses/{enrolled}/lessons/1/",
        play_for_a_moment,
        shows="Pause",
        navigates=False,
    ),
    "post-test, attempt open": Screen(LEARNER, "/courses/{enrolled}/post-test/"),
    "post-test, completed": Screen(LEARNER, "/courses/{completed}/post-test/"),
    "post-test attempt": Screen(LEARNER, "/courses/{enrolled}/post-test/attempts/{open_attempt}/"),
    "post-test attempt, submitted empty": Screen(
        LEARNER,
        "/courses/{enrolled}/post-test/attempts/{open_attempt}/",
        submit("Submit answers"),
        shows="Answer questions",
    ),
    "attempt result, failed": Screen(
        LEARNER, "/courses/{enrolled}/post-test/attempts/{failed_attempt}/"
    ),
    "attempt result, passed": Screen(
        LEARNER, "/courses/{completed}/post-test/attempts/{passed_attempt}/"
    ),
    "evaluation": Screen(LEARNER, "/courses/{enrolled}/evaluation/"),
    "evaluation, submitted empty": Screen(
        LEARNER, "/courses/{enrolled}/evaluation/", submit("Submit evaluation"), shows="Rate"
    ),
    "evaluation, given": Screen(LEARNER, "/courses/{completed}/evaluation/"),
    "my trainings": Screen(LEARNER, "/my/trainings/"),
    "CE transcript": Screen(LEARNER, "/my/transcript/"),
    "licences": Screen(LEARNER, "/accounts/licences/"),
    "licence": Screen(LEARNER, "/accounts/licences/{licence}/"),
    "licence, add": Screen(LEARNER, "/accounts/licences/add/"),
    "licence, add with errors": Screen(
        LEARNER, "/accounts/licences/add/", submit("Add licence"), shows="This field is required"
    ),
    "licence, edit": Screen(LEARNER, "/accounts/licences/{licence}/edit/"),
    "licence, delete": Screen(LEARNER, "/accounts/licences/{licence}/delete/"),
    "profile": Screen(LEARNER, "/accounts/profile/"),
    "e-mail addresses": Screen(LEARNER, "/accounts/email/"),
    "password change": Screen(LEARNER, "/accounts/password/change/"),
    "two-factor authentication": Screen(LEARNER, "/accounts/2fa/"),
    "learner: page not found": Screen(LEARNER, "/my/no-such-page/"),
    "learner: the admin": Screen(LEARNER, "/admin/login/?next=/admin/", shows="for staff"),
    # --- Staff: the site as they see it, and the admin pages the project overrides ---
    "author: course preview": Screen(AUTHOR, "/courses/{draft}/"),
    "author: post-test preview": Screen(AUTHOR, "/courses/{draft}/post-test/preview/"),
    "author: admin index": Screen(AUTHOR, "/admin/"),
    "author: course list": Screen(AUTHOR, "/admin/courses/course/"),
    "author: course form": Screen(AUTHOR, "/admin/courses/course/{draft_course}/change/"),
    "author: course form, publish refused": Screen(
        AUTHOR,
        "/admin/courses/course/{draft_course}/change/",
        submit("Publish"),
        shows="cannot be published yet",
    ),
    "author: import": Screen(AUTHOR, "/admin/courses/course/import/"),
    "author: import, empty": Screen(
        AUTHOR,
        "/admin/courses/course/import/",
        submit("Import as a draft"),
        shows="could not be imported",
    ),
    "registrar: admin index": Screen(REGISTRAR, "/admin/"),
    "registrar: home": Screen(REGISTRAR, "/"),
    "registrar: course list": Screen(REGISTRAR, "/admin/courses/course/"),
    "registrar: course, read-only": Screen(
        REGISTRAR, "/admin/courses/course/{draft_course}/change/"
    ),
    "registrar: course report": Screen(
        REGISTRAR, "/admin/courses/course/{completed_course}/report/"
    ),
    "registrar: certificate list": Screen(REGISTRAR, "/admin/courses/certificate/"),
    "registrar: certificate": Screen(REGISTRAR, "/admin/courses/certificate/{certificate}/change/"),
    "registrar: revoke, reason": Screen(
        REGISTRAR,
        "/admin/courses/certificate/",
        ask_to_revoke_every_certificate,
        shows="Reason (shown",
    ),
    "registrar: content as offered": Screen(
        REGISTRAR, "/admin/courses/course/as-offered/{valid_code}/"
    ),
    "registrar: CE Broker roster, new": Screen(REGISTRAR, "/admin/courses/cebrokerroster/add/"),
    "registrar: CE Broker roster, nothing to report": Screen(
        REGISTRAR,
        "/admin/courses/cebrokerroster/add/?state=GA",
        submit("Generate roster"),
        shows="No completion in Georgia",
    ),
    "registrar: CE Broker roster": Screen(
        REGISTRAR, "/admin/courses/cebrokerroster/{roster}/change/"
    ),
    "registrar: CE Broker rosters": Screen(REGISTRAR, "/admin/courses/cebrokerroster/"),
    "registrar: course approvals": Screen(REGISTRAR, "/admin/courses/courseapproval/"),
    "author: episodes": Screen(AUTHOR, "/admin/courses/episode/"),
    "superuser: admin index": Screen(SUPERUSER, "/admin/"),
    "superuser: course, certified": Screen(
        SUPERUSER, "/admin/courses/course/{completed_course}/change/"
    ),
}


def staff(role: str, **fields) -> User:
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


def answer(attempt: QuizAttempt, *, right: bool) -> QuizAttempt:
    """Submit the attempt with every answer right, or every answer wrong."""
    answers = {}
    for question in attempt.questions:
        choices = Choice.objects.filter(question_id=question["id"])
        answers[question["id"]] = list(
            choices.filter(is_correct=right).values_list("pk", flat=True)[: None if right else 1]
        )
    return assessment.submit_attempt(attempt=attempt, answers=answers)


def complete(enrollment: Enrollment) -> QuizAttempt:
    """Take the enrollment through the post-test, the evaluation and the attestation."""
    finish_lessons(enrollment)
    passed = answer(assessment.start_attempt(enrollment=enrollment), right=True)
    objectives = enrollment.course.objectives.count()
    assessment.record_evaluation(
        enrollment=enrollment,
        objective_ratings=[4] * objectives,
        learned_rating=4,
        usefulness_rating=5,
        presenter_rating=4,
        comments="Clear and practical.",
    )
    assessment.attest(enrollment=enrollment)
    return passed


@pytest.fixture
def world(settings) -> World:
    # The admin asks staff without a second factor to set one up; these pages are the subject.
    settings.CEU_REQUIRE_STAFF_MFA = False
    settings.CEU_CE_BROKER_PROVIDER_NUMBER = "50-1234"
    call_command("loaddata", FIXTURE, verbosity=0)
    learner = UserFactory(full_name="Dana Whitfield")
    licence = LicenceFactory(
        user=learner,
        profession="professional_counselor",
        jurisdiction="FL",
        number="MH 12345",
        renewal_date=timezone.localdate().replace(year=timezone.localdate().year + 1),
        hours_required=30,
    )
    LicenceFactory(
        user=learner, profession="clinical_social_worker", jurisdiction="NY", number="LCSW-0417"
    )
    registrar = staff("Registrars", full_name="Rae Registrar")
    users = {
        LEARNER: learner,
        AUTHOR: staff("Course authors", full_name="Avery Author"),
        REGISTRAR: registrar,
        SUPERUSER: UserFactory(is_staff=True, is_superuser=True, full_name="Sol Operator"),
    }

    enrolled = finish_lessons(
        Enrollment.objects.create(user=learner, course=Course.objects.get(slug=RUPTURES))
    )
    failed = answer(assessment.start_attempt(enrollment=enrolled), right=False)
    still_open = assessment.start_attempt(enrollment=enrolled)

    course = Course.objects.get(slug=EMOTIONAL_SAFETY)
    # CE Broker numbers an approval after learners complete; the roster reports under it.
    approvals.set_ce_broker_course_number(
        approval=course.approvals.get(accreditor__short_name="NBCC"),
        number="20-123456",
        acting_user=registrar,
    )
    completed = Enrollment.objects.create(user=learner, course=course)
    passed = complete(completed)
    certificate = completed.certificates.get()
    # A psychologist in Florida: CE Broker has no code for the profession, so the roster names
    # the completion it could not report.
    other = UserFactory(full_name="Sam Okafor")
    LicenceFactory(user=other, profession="psychologist", jurisdiction="FL", number="PY 4521")
    other_enrollment = Enrollment.objects.create(user=other, course=course)
    complete(other_enrollment)
    revoked = credentials.revoke_certificate(
        certificate=other_enrollment.certificates.get(),
        reason="Attendance could not be confirmed.",
        acting_user=registrar,
    )
    roster = rosters.generate_ce_broker_roster(
        state="FL", filters=CompletionFilter(), acting_user=registrar
    )
    draft = CourseFactory(
        slug="repairing-ruptures-draft",
        title="Repairing ruptures",
        status=CourseStatus.DRAFT,
        published_at=None,
    )
    return World(
        users=users,
        not_enrolled=COACHING,
        enrolled=RUPTURES,
        completed=EMOTIONAL_SAFETY,
        completed_course=course.pk,
        draft=draft.slug,
        draft_course=draft.pk,
        open_attempt=still_open.pk,
        failed_attempt=failed.pk,
        passed_attempt=passed.pk,
        valid_code=certificate.code,
        revoked_code=revoked.code,
        unknown_code=new_code(),
        certificate_pdf=certificate.pdf.path,
        certificate=certificate.pk,
        licence=licence.pk,
        roster=roster.pk,
    )


def sign_in(page: Page, live_server, user: User) -> None:
    """Signed in as the user, through a session the test client opened (the sign-in page itself
    is swept as a page of its own)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def sweep(page: Page, live_server, world: World, name: str, screen: Screen) -> str:
    """The page's serious and critical violations in words; empty when there are none."""
    url = live_server.url + screen.path.format_map(vars(world))
    with override_settings(**screen.settings):
        response = page.goto(url)
        # The page itself, not a sign-in page or a server error it was sent to.
        if page.url != url:
            return f"{name}: {url} went to {page.url}"
        if response is None or response.status >= 500:
            return f"{name}: {url} answered {response and response.status}"
        if screen.then is not None and screen.navigates:
            with page.expect_navigation():
                screen.then(world, page)
        elif screen.then is not None:
            screen.then(world, page)
        shows = screen.shows.format_map(vars(world))
        if shows not in page.locator("body").inner_text():
            return f"{name}: {page.url} does not show {shows!r}, the state to sweep"
        violations = axe_violations(page)
    if not violations:
        return ""
    return f"{name} ({page.url}):\n{describe(violations)}"


@pytest.mark.parametrize("who", [ANONYMOUS, LEARNER, AUTHOR, REGISTRAR, SUPERUSER])
def test_every_page_has_no_serious_or_critical_violations(
    page: Page, live_server, world: World, who: str
):
    """One browser session per role walks all its screens, so one run lists every page that
    fails, each with its violations."""
    if who != ANONYMOUS:
        sign_in(page, live_server, world.users[who])
    screens = {name: screen for name, screen in SCREENS.items() if screen.who == who}
    assert screens, f"no screen is swept for {who}"
    failures = [sweep(page, live_server, world, name, screen) for name, screen in screens.items()]
    failures = [failure for failure in failures if failure]
    assert not failures, (
        f"{len(failures)} of {len(screens)} page(s) fail WCAG 2.1 AA for {who}:\n"
        + "\n".join(failures)
    )

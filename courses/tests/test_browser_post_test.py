"""The end of a training in real Chromium: a learner who has done the lessons fails the post-test,
sees why without being handed the key, passes on the next attempt, evaluates the training,
attests, and finds it completed in My trainings."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from courses.models import (
    Choice,
    Course,
    Enrollment,
    EvaluationResponse,
    LessonProgress,
    Question,
    QuizAttempt,
)

FIXTURE = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
EMOTIONAL_SAFETY = "emotional-safety-trust-and-open-communication"


def question_inputs(fieldset: Locator) -> tuple[int, list[int]]:
    """The question a fieldset asks (from its inputs' name, q<id>) and its choice ids as shown."""
    inputs = fieldset.locator("input")
    names = {inputs.nth(i).get_attribute("name") for i in range(inputs.count())}
    assert len(names) == 1, f"one question per fieldset, got {names}"
    (name,) = names
    assert re.fullmatch(r"q\d+", name), name
    values = [int(inputs.nth(i).get_attribute("value")) for i in range(inputs.count())]
    return int(name[1:]), values


def assert_key_not_in_page(page: Page, correct_ids: set[int], all_ids: set[int]) -> None:
    """Nothing in the attempt page tells a right choice from a wrong one: each choice id appears
    only in its input's value and id and its label's for, every input of a question carries the
    same attributes but for its id, and the word 'correct' appears nowhere."""
    html = page.content()
    assert "correct" not in html.lower()
    assert "data-" not in page.locator("main form").inner_html()
    assert page.locator("main script").count() == 0
    # The CSRF token is random letters and digits: leave it out of the search for ids.
    rest = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    for choice_id in all_ids:
        rest = re.sub(rf'(value="{choice_id}"|id="c{choice_id}"|for="c{choice_id}")', "", rest)
    for choice_id in correct_ids:
        assert not re.search(rf"(?<!\d){choice_id}(?!\d)", rest), choice_id
    # Right and wrong inputs look alike once their own id is masked.
    for fieldset in page.locator("main form fieldset").all():
        shapes = fieldset.locator("input").evaluate_all(
            """inputs => inputs.map(input => {
                const label = document.querySelector(`label[for="${input.id}"]`);
                const mask = text => text.split(input.value).join("ID");
                return JSON.stringify([
                    [...input.attributes].map(a => [a.name, mask(a.value)]),
                    [...label.attributes].map(a => [a.name, mask(a.value)]),
                ]);
            })"""
        )
        assert len(set(shapes)) == 1, shapes


def answer_every_question(page: Page, *, right: bool) -> int:
    """Tick, for each question on the attempt page, all its right choices (right=True) or a
    single wrong one; returns how many questions were answered."""
    fieldsets = page.locator("main form fieldset")
    count = fieldsets.count()
    for index in range(count):
        fieldset = fieldsets.nth(index)
        question_id, shown = question_inputs(fieldset)
        key = dict(Choice.objects.filter(question_id=question_id).values_list("pk", "is_correct"))
        # The page shows exactly this question's choices, each once.
        assert sorted(shown) == sorted(key), (question_id, shown)
        if right:
            to_tick = [pk for pk in shown if key[pk]]
        else:
            to_tick = [next(pk for pk in shown if not key[pk])]
        for pk in to_tick:
            fieldset.locator(f'input[value="{pk}"]').check()
        assert fieldset.locator("input:checked").count() == len(to_tick)
    return count


@pytest.mark.django_db(transaction=True)
def test_fail_then_pass_the_post_test_evaluate_attest_and_complete(page: Page, live_server):
    """A learner who has done the lessons and the time opens the post-test from the course page,
    answers every question wrong without the page revealing the key, and sees 0%, Wrong on each
    question with its explanation but no right answers, and the attempts left; tries again and
    answers everything right, and now sees 100% with the right answers marked; submits the
    evaluation (an empty one is refused and stores nothing) and the attestation (refused until
    the box is ticked, by Chromium and, when a browser lets it through, by the server); the
    training is then complete, and My trainings says Completed."""
    call_command("loaddata", FIXTURE, verbosity=0)
    course = Course.objects.get(slug=EMOTIONAL_SAFETY)
    questions = list(Question.objects.filter(course=course))
    choices = Choice.objects.filter(question__course=course)
    correct_ids = set(choices.filter(is_correct=True).values_list("pk", flat=True))
    all_ids = set(choices.values_list("pk", flat=True))
    learner = UserFactory(full_name="Dana Whitfield")
    enrollment = Enrollment.objects.create(
        user=learner, course=course, engaged_seconds=course.minimum_engaged_minutes * 60
    )
    lessons = list(course.lessons.order_by("position"))
    for lesson in lessons:
        LessonProgress.objects.create(
            enrollment=enrollment,
            lesson=lesson,
            engaged_seconds=lesson.minimum_seconds,
            completed_at=timezone.now(),
        )

    # Sign in through the real login page.
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_login").fill(learner.email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1, name="My trainings")).to_be_visible()

    # The course page: lessons and time are done, and the next step is to finish.
    page.goto(f"{live_server.url}{course.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1, name=course.title)).to_be_visible()
    expect(page.get_by_text(f"{len(lessons)} of {len(lessons)} lessons done")).to_be_visible()
    steps = page.get_by_role("list", name="Steps to complete")
    for step in ("Lessons", "Engaged time"):
        expect(steps.get_by_role("listitem").filter(has_text=step)).to_contain_text("✓ done")
    for step in ("Post-test", "Evaluation", "Attestation"):
        expect(steps.get_by_role("listitem").filter(has_text=step)).to_contain_text("to do")
    page.get_by_role("link", name="Finish: post-test, evaluation, attestation").click()
    expect(page.get_by_role("heading", name="Finish the training")).to_be_visible()
    expect(page.get_by_text("3 attempts left")).to_be_visible()

    # Attempt 1: every question answered wrong, on a page that does not give the key away.
    page.get_by_role("button", name="Start the post-test").click()
    expect(page.get_by_role("heading", name="Post-test, attempt 1")).to_be_visible()
    assert_key_not_in_page(page, correct_ids, all_ids)
    assert answer_every_question(page, right=False) == len(questions)
    page.get_by_role("button", name="Submit answers").click()

    result = page.locator("#attempt-result")
    expect(page.get_by_role("heading", name="Result of attempt 1")).to_be_visible()
    expect(result).to_contain_text("You scored 0%.")
    expect(result).to_contain_text("Not passed")
    expect(result).to_contain_text("You have 2 more attempts.")
    expect(page.get_by_text("Wrong", exact=True)).to_have_count(len(questions))
    expect(page.get_by_text("Right", exact=True)).to_have_count(0)
    # What was missed, but nothing that gives the answer away while attempts are left.
    expect(page.get_by_text("Why:", exact=True)).to_have_count(0)
    for question in questions:
        expect(page.get_by_text(question.explanation)).to_have_count(0)
    expect(page.get_by_text("correct answer")).to_have_count(0)
    first = QuizAttempt.objects.get(enrollment=enrollment, number=1)
    assert (first.score, first.passed) == (0, False)

    # Attempt 2: everything right; now the right answers are marked.
    page.get_by_role("link", name="Back to the post-test").click()
    expect(page.get_by_text("2 attempts left")).to_be_visible()
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("heading", name="Post-test, attempt 2")).to_be_visible()
    assert_key_not_in_page(page, correct_ids, all_ids)
    assert answer_every_question(page, right=True) == len(questions)
    page.get_by_role("button", name="Submit answers").click()

    expect(page.get_by_role("heading", name="Result of attempt 2")).to_be_visible()
    expect(result).to_contain_text("You scored 100%.")
    expect(result).to_contain_text("You passed.")
    expect(page.get_by_text("Right", exact=True)).to_have_count(len(questions))
    expect(page.get_by_text("Wrong", exact=True)).to_have_count(0)
    expect(page.get_by_text("correct answer", exact=True)).to_have_count(len(correct_ids))
    # Passed: now the explanations are shown.
    for question in questions:
        expect(page.get_by_text(question.explanation)).to_be_visible()
    second = QuizAttempt.objects.get(enrollment=enrollment, number=2)
    assert (second.score, second.passed) == (100, True)

    # The evaluation: an empty one is refused and nothing is stored.
    page.get_by_role("link", name="Back to the post-test").click()
    expect(page.get_by_text("You passed the post-test.")).to_be_visible()
    page.get_by_role("link", name="Evaluate the training").click()
    expect(page.get_by_role("heading", name="Evaluate this training")).to_be_visible()
    page.get_by_role("button", name="Submit evaluation").click()
    expect(page.get_by_role("alert")).to_contain_text("Rate every item below")
    assert EvaluationResponse.objects.count() == 0

    # Rated throughout, with a comment, it is recorded.
    groups = page.locator("main form fieldset")
    expect(groups).to_have_count(course.objectives.count() + 3)
    for group in groups.all():
        group.get_by_label("4", exact=True).check()
    page.get_by_label("Comments (optional)").fill("Clear and practical.")
    page.get_by_role("button", name="Submit evaluation").click()
    expect(page.get_by_role("heading", name="Finish the training")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Thank you: your evaluation is recorded.")
    expect(page.get_by_text("Evaluation submitted. Thank you.")).to_be_visible()
    evaluation = EvaluationResponse.objects.get(enrollment=enrollment)
    assert [item["rating"] for item in evaluation.objective_ratings] == [4] * 4
    assert evaluation.comments == "Clear and practical."

    # The attestation is refused until the box is ticked, with the server's own words.
    box = page.get_by_label("I completed this training myself.")
    page.get_by_role("button", name="Attest").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Tick the box to attest that you did the work yourself."
    )
    enrollment.refresh_from_db()
    assert enrollment.attested_at is None
    assert enrollment.completed_at is None
    box.check()
    page.get_by_role("button", name="Attest").click()
    expect(page.get_by_text("Training complete.")).to_be_visible()
    enrollment.refresh_from_db()
    assert enrollment.attested_at is not None
    assert enrollment.completed_at is not None

    # My trainings lists it as completed.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My trainings", exact=True
    ).click()
    expect(page.get_by_role("heading", name="My trainings")).to_be_visible()
    training = page.get_by_role("listitem").filter(has_text=course.title)
    expect(training).to_contain_text("Completed")
    expect(training).to_contain_text("Every step is done.")

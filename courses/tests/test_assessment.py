"""The post-test, evaluation and attestation: answers never reach the browser before grading,
tampered and doubled submissions are refused cleanly, a stored grade survives an edit of the
question, and completion needs every step."""

import re

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from courses.models import Choice, Enrollment, EvaluationResponse, Question, QuizAttempt
from courses.services import assessment
from courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ObjectiveFactory,
    QuestionFactory,
    finish_lessons,
)

pytestmark = pytest.mark.django_db

SLUG = "ghosting"


@pytest.fixture
def course():
    course = CourseFactory(slug=SLUG, lessons=2)  # half an hour: three questions needed
    QuestionFactory(course=course, position=1)
    QuestionFactory(course=course, position=2)
    QuestionFactory(course=course, position=3)
    QuestionFactory(course=course, position=4, kind="multiple", correct=[0, 2])
    for text in ["Identify a rupture.", "Describe a repair.", "Apply a check-in."]:
        ObjectiveFactory(course=course, text=text)
    return course


@pytest.fixture
def enrollment(learner, course):
    return finish_lessons(EnrollmentFactory(user=learner, course=course))


def url(name: str, *args) -> str:
    return reverse(f"courses:{name}", args=[SLUG, *args])


def start(client) -> QuizAttempt:
    client.post(url("start_attempt"))
    return QuizAttempt.objects.order_by("-pk").first()


def answers_for(attempt: QuizAttempt, *, right: set[int] | None = None) -> dict:
    """POST data answering the questions whose bank position is in `right` correctly and the
    rest wrongly (all correctly when `right` is None)."""
    data = {}
    for question in attempt.questions:
        position = Question.objects.get(pk=question["id"]).position
        correct = [c["id"] for c in question["choices"] if c["correct"]]
        wrong = [c["id"] for c in question["choices"] if not c["correct"]]
        data[f"q{question['id']}"] = correct if right is None or position in right else wrong[:1]
    return data


# --- Opening the post-test ----------------------------------------------------------------------


def test_the_post_test_waits_for_the_lessons_and_the_time(learner_client, learner, course):
    EnrollmentFactory(user=learner, course=course, engaged_seconds=60)

    page = learner_client.get(url("post_test")).content.decode()
    assert "Finish 2 more lessons." in page
    assert "Spend 24 more minutes in the lessons." in page

    response = learner_client.post(url("start_attempt"), follow=True)
    assert "Finish 2 more lessons." in response.content.decode()
    assert not QuizAttempt.objects.exists()


def test_a_bank_below_six_questions_an_hour_is_not_offered(learner_client, enrollment, course):
    Question.objects.filter(position__gte=3).delete()  # two left; half an hour needs three

    page = learner_client.get(url("post_test")).content.decode()

    assert "post-test is not ready yet" in page
    learner_client.post(url("start_attempt"))
    assert not QuizAttempt.objects.exists()


def test_a_reload_shows_the_same_attempt_in_the_same_order(learner_client, enrollment):
    attempt = start(learner_client)
    first = learner_client.get(url("attempt", attempt.pk)).content.decode()

    assert start(learner_client) == attempt  # starting again returns the open attempt
    second = learner_client.get(url("attempt", attempt.pk)).content.decode()
    assert re.findall(r'name="q(\d+)"', first) == re.findall(r'name="q(\d+)"', second)
    assert re.findall(r'value="(\d+)"', first) == re.findall(r'value="(\d+)"', second)
    assert QuizAttempt.objects.count() == 1


def test_attempts_shuffle_questions_and_choices(course):
    orders = set()
    for _index in range(6):
        enrollment = finish_lessons(EnrollmentFactory(course=course))
        attempt = assessment.start_attempt(enrollment=enrollment)
        orders.add(tuple(c["id"] for q in attempt.questions for c in q["choices"]))
    assert len(orders) > 1


def test_the_attempt_page_never_contains_the_answers(learner_client, enrollment):
    attempt = start(learner_client)

    page = learner_client.get(url("attempt", attempt.pk)).content.decode()

    form = page[page.index('<form method="post" novalidate>') :]
    form = form[: form.index("</form>")]
    assert "correct" not in form.lower()
    assert "explanation" not in form.lower()
    assert "Because of reason" not in page
    # A right choice's input is marked up exactly like a wrong one's, ids and text aside.
    shapes = set()
    for question in attempt.questions:
        for choice in question["choices"]:
            markup = re.search(rf'<input[^>]*value="{choice["id"]}"[^>]*>', form).group(0)
            shapes.add(re.sub(r'(name="q|id="c|value=")\d+"', r'\1N"', markup))
    assert len(shapes) == 2  # one shape for radio buttons, one for checkboxes


# --- Grading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("right", "score", "passed"),
    [
        (None, "100.00", True),
        ({1, 2, 3}, "75.00", True),  # exactly the pass mark passes
        ({1, 2}, "50.00", False),
        (set(), "0.00", False),
    ],
)
def test_grades_on_the_server(learner_client, enrollment, right, score, passed):
    attempt = start(learner_client)

    response = learner_client.post(url("attempt", attempt.pk), answers_for(attempt, right=right))

    assert response.status_code == 302
    attempt.refresh_from_db()
    assert str(attempt.score) == score
    assert attempt.passed is passed
    page = learner_client.get(url("attempt", attempt.pk)).content.decode()
    assert f"You scored {score.rstrip('0').rstrip('.')}%." in page


def test_a_multiple_answer_question_needs_exactly_its_answers(learner_client, enrollment):
    attempt = start(learner_client)
    data = answers_for(attempt)
    multiple = next(q for q in attempt.questions if q["kind"] == "multiple")
    data[f"q{multiple['id']}"] = data[f"q{multiple['id']}"][:1]  # one of the two right ones

    learner_client.post(url("attempt", attempt.pk), data)

    attempt.refresh_from_db()
    assert str(attempt.score) == "75.00"


def test_unanswered_questions_are_answered_on_the_page_and_nothing_is_lost(
    learner_client, enrollment
):
    attempt = start(learner_client)
    data = answers_for(attempt)
    skipped = attempt.questions[1]["id"]
    del data[f"q{skipped}"]
    kept = data[f"q{attempt.questions[0]['id']}"][0]

    response = learner_client.post(url("attempt", attempt.pk), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Answer question 2." in page
    assert re.search(rf'value="{kept}"\s+checked', page)  # the answers given are still ticked
    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    assert attempt.score is None


@pytest.mark.parametrize(
    "tamper", ["other_question", "other_course", "two_for_single", "text", "superscript"]
)
def test_tampered_answers_are_refused_and_nothing_is_stored(learner_client, enrollment, tamper):
    attempt = start(learner_client)
    data = answers_for(attempt)
    single = next(q for q in attempt.questions if q["kind"] == "single")
    key = f"q{single['id']}"
    if tamper == "other_question":
        other = next(q for q in attempt.questions if q["id"] != single["id"])
        data[key] = [other["choices"][0]["id"]]
    elif tamper == "other_course":
        foreign = QuestionFactory(course=CourseFactory(slug="elsewhere", lessons=0))
        data[key] = [foreign.choices.first().pk]
    elif tamper == "two_for_single":
        data[key] = [c["id"] for c in single["choices"][:2]]
    elif tamper == "superscript":
        data[key] = ["²"]  # a digit to str.isdigit, not to int()
    else:
        data[key] = ["<script>"]

    response = learner_client.post(url("attempt", attempt.pk), data)

    assert response.status_code == 400
    assert "are not among its choices; choose again." in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_a_second_submission_is_graded_once(learner_client, enrollment):
    attempt = start(learner_client)
    learner_client.post(url("attempt", attempt.pk), answers_for(attempt, right=set()))

    response = learner_client.post(url("attempt", attempt.pk), answers_for(attempt), follow=True)

    assert "This attempt was already submitted and graded." in response.content.decode()
    attempt.refresh_from_db()
    assert str(attempt.score) == "0.00"


def test_a_stored_grade_survives_an_edit_of_the_question(learner_client, enrollment, course):
    attempt = start(learner_client)
    data = answers_for(attempt)
    # The author changes the key of question 1 while the attempt is open, and again after.
    question = course.questions.get(position=1)
    question.choices.update(is_correct=False)
    Choice.objects.filter(question=question, position=4).update(is_correct=True)
    question.text = "Reworded after the attempt began"
    question.save()

    learner_client.post(url("attempt", attempt.pk), data)

    attempt.refresh_from_db()
    assert str(attempt.score) == "100.00"  # graded against the key the learner was shown
    Choice.objects.filter(question=question).update(is_correct=True)
    attempt.refresh_from_db()
    assert str(attempt.score) == "100.00"
    page = learner_client.get(url("attempt", attempt.pk)).content.decode()
    assert "Reworded after the attempt began" not in page


def test_a_failed_attempt_shows_what_was_missed_but_nothing_that_gives_the_answer_away(
    learner_client, enrollment
):
    failed = start(learner_client)
    learner_client.post(url("attempt", failed.pk), answers_for(failed, right={1}))

    page = learner_client.get(url("attempt", failed.pk)).content.decode()
    assert "Not passed: 75% is needed." in page
    assert page.count(">Wrong<") == 3
    assert page.count(">Right<") == 1
    assert "You have 2 more attempts." in page
    # Neither the key nor the explanations, which would pass the next attempt for the learner.
    assert "correct answer" not in page
    assert "Why:" not in page
    assert "Because of reason" not in page
    assert "The questions you missed are marked." in page


def test_passing_shows_the_key_and_the_explanations_of_every_attempt(learner_client, enrollment):
    failed = start(learner_client)
    learner_client.post(url("attempt", failed.pk), answers_for(failed, right={1}))
    passed = start(learner_client)
    learner_client.post(url("attempt", passed.pk), answers_for(passed))

    for attempt in (failed, passed):
        page = learner_client.get(url("attempt", attempt.pk)).content.decode()
        assert page.count("correct answer</span>") == 5  # one per single answer, two for multiple
        assert page.count("Why:") == 4
        for position in range(1, 5):
            assert f"Because of reason {position}." in page


def test_the_last_attempt_used_shows_the_explanations_but_not_the_key(learner_client, enrollment):
    for _index in range(3):
        attempt = start(learner_client)
        learner_client.post(url("attempt", attempt.pk), answers_for(attempt, right={2}))

    first = QuizAttempt.objects.get(number=1)
    for shown in (attempt, first):
        page = learner_client.get(url("attempt", shown.pk)).content.decode()
        assert page.count("Why:") == 4
        assert "Because of reason 3." in page
        assert "correct answer" not in page
        assert page.count(">Wrong<") == 3


def test_explanations_stay_hidden_while_the_last_attempt_is_open(learner_client, enrollment):
    for _index in range(2):
        attempt = start(learner_client)
        learner_client.post(url("attempt", attempt.pk), answers_for(attempt, right=set()))
    last = start(learner_client)  # the third and last, not yet answered

    page = learner_client.get(url("attempt", attempt.pk)).content.decode()
    assert "Because of reason" not in page
    assert "correct answer" not in page

    learner_client.post(url("attempt", last.pk), answers_for(last, right=set()))
    page = learner_client.get(url("attempt", attempt.pk)).content.decode()
    assert "Because of reason 1." in page


def test_after_the_last_failed_attempt_the_page_says_so_and_where_to_get_help(
    learner_client, enrollment
):
    for _index in range(3):
        attempt = start(learner_client)
        learner_client.post(url("attempt", attempt.pk), answers_for(attempt, right=set()))

    result = learner_client.get(url("attempt", attempt.pk)).content.decode()
    assert "That was your last attempt." in result
    page = learner_client.get(url("post_test")).content.decode()
    assert "You have used all your attempts." in page
    assert reverse("courses:policy", args=["grievance"]) in page

    response = learner_client.post(url("start_attempt"), follow=True)
    assert "You have used all 3 attempts at this post-test." in response.content.decode()
    assert QuizAttempt.objects.count() == 3


def test_a_forged_or_foreign_attempt_answers_404(client, learner_client, enrollment, course):
    attempt = start(learner_client)
    stranger = UserFactory()
    finish_lessons(EnrollmentFactory(user=stranger, course=course))
    client.force_login(stranger)

    assert client.get(url("attempt", attempt.pk)).status_code == 404
    assert client.post(url("attempt", attempt.pk), answers_for(attempt)).status_code == 404
    assert learner_client.get(url("attempt", 999999)).status_code == 404
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


@pytest.mark.parametrize("name", ["post_test", "evaluation"])
def test_pages_of_a_course_one_is_not_enrolled_in_answer_404(client, course, name):
    client.force_login(UserFactory())

    assert client.get(url(name)).status_code == 404
    assert client.post(url("attest"), {"confirm": "on"}).status_code == 404
    assert client.post(url("start_attempt")).status_code == 404


def test_post_test_and_result_pages_keep_their_query_counts(
    learner_client, enrollment, course, django_assert_num_queries
):
    for position in range(5, 25):
        QuestionFactory(course=course, position=position)
    attempt = start(learner_client)
    learner_client.post(url("attempt", attempt.pk), answers_for(attempt, right=set()))
    second = start(learner_client)

    # session, user, enrollment, lessons, progress, attempts, bank size, evaluation?, provider.
    with django_assert_num_queries(9):
        assert learner_client.get(url("post_test")).status_code == 200
    # session, user, enrollment, the attempt.
    with django_assert_num_queries(4):
        assert learner_client.get(url("attempt", second.pk)).status_code == 200
    # session, user, enrollment, the attempt, all attempts (has one passed?).
    with django_assert_num_queries(5):
        assert learner_client.get(url("attempt", attempt.pk)).status_code == 200


# --- Evaluation, attestation, completion --------------------------------------------------------

EVALUATION = {
    "objective_1": "5",
    "objective_2": "4",
    "objective_3": "4",
    "learned_rating": "4",
    "usefulness_rating": "5",
    "presenter_rating": "3",
    "comments": "  Clear and practical.  ",
}


def test_the_evaluation_asks_the_standard_items(learner_client, enrollment):
    page = learner_client.get(url("evaluation")).content.decode()

    assert "I can now identify a rupture." in page
    assert "How much did you learn as a result of this CE program?" in page
    assert (
        "How useful was the content of this CE program for your practice or other professional "
        "development?" in page
    )
    assert "How effective was the presenter, Jordan Avery?" in page


def test_the_evaluation_is_kept_once_and_unchanged(learner_client, enrollment, course):
    learner_client.post(url("evaluation"), EVALUATION)
    course.objectives.filter(position=1).update(text="Reworded later.")

    response = learner_client.post(url("evaluation"), {**EVALUATION, "learned_rating": "1"})

    assert "You evaluated this training on" in response.content.decode()
    evaluation = EvaluationResponse.objects.get()
    assert evaluation.learned_rating == 4
    assert evaluation.comments == "Clear and practical."
    assert evaluation.objective_ratings[0] == {"objective": "Identify a rupture.", "rating": 5}


@pytest.mark.parametrize(
    "change", [{"learned_rating": ""}, {"objective_2": "6"}, {"presenter_rating": "x"}]
)
def test_an_incomplete_evaluation_is_answered_on_the_form(learner_client, enrollment, change):
    response = learner_client.post(url("evaluation"), {**EVALUATION, **change})

    assert response.status_code == 400
    assert "Rate every item below" in response.content.decode()
    assert not EvaluationResponse.objects.exists()


def test_evaluation_and_attestation_wait_for_the_post_test_to_open(learner_client, learner, course):
    EnrollmentFactory(user=learner, course=course)

    learner_client.post(url("evaluation"), EVALUATION)
    learner_client.post(url("attest"), {"confirm": "on"})

    assert not EvaluationResponse.objects.exists()
    assert Enrollment.objects.get().attested_at is None


def test_attesting_needs_the_box_ticked_and_keeps_the_first_date(learner_client, enrollment):
    response = learner_client.post(url("attest"), {}, follow=True)
    assert "Tick the box to attest that you did the work yourself." in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.attested_at is None

    learner_client.post(url("attest"), {"confirm": "on"})
    enrollment.refresh_from_db()
    first = enrollment.attested_at
    learner_client.post(url("attest"), {"confirm": "on"})
    enrollment.refresh_from_db()
    assert enrollment.attested_at == first


@pytest.mark.parametrize(
    "order",
    [
        ("test", "evaluate", "attest"),
        ("attest", "evaluate", "test"),
        ("evaluate", "attest", "test"),
    ],
)
def test_completion_needs_every_step_in_any_order(learner_client, enrollment, order):
    def step(name):
        if name == "test":
            attempt = start(learner_client)
            learner_client.post(url("attempt", attempt.pk), answers_for(attempt))
        elif name == "evaluate":
            learner_client.post(url("evaluation"), EVALUATION)
        else:
            learner_client.post(url("attest"), {"confirm": "on"})

    for name in order[:2]:
        step(name)
        enrollment.refresh_from_db()
        assert enrollment.completed_at is None
    step(order[2])

    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert "Training complete." in learner_client.get(url("post_test")).content.decode()


def test_a_completed_training_earns_nothing_new(learner_client, enrollment):
    attempt = start(learner_client)
    learner_client.post(url("attempt", attempt.pk), answers_for(attempt))
    learner_client.post(url("evaluation"), EVALUATION)
    learner_client.post(url("attest"), {"confirm": "on"})
    enrollment.refresh_from_db()
    completed = enrollment.completed_at

    response = learner_client.post(url("start_attempt"), follow=True)
    learner_client.post(reverse("courses:enroll", args=[SLUG]))

    assert "You have passed the post-test; there is nothing more to earn." in (
        response.content.decode()
    )
    assert QuizAttempt.objects.count() == 1
    assert Enrollment.objects.count() == 1
    enrollment.refresh_from_db()
    assert enrollment.completed_at == completed


def test_the_course_page_and_my_trainings_show_the_steps_left(learner_client, enrollment):
    attempt = start(learner_client)
    learner_client.post(url("attempt", attempt.pk), answers_for(attempt))

    course_page = learner_client.get(reverse("courses:course_detail", args=[SLUG])).content
    mine = learner_client.get(reverse("courses:my_trainings")).content.decode()

    assert "Finish: post-test, evaluation, attestation" in course_page.decode()
    assert "✓ passed" in course_page.decode()
    assert "Steps left:" in mine
    assert "evaluation" in mine
    assert "attestation" in mine
    assert url("post_test") in mine

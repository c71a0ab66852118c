"""Authoring in the admin without losing work: Publish saves what was typed on the course page
before it publishes (and keeps it when publishing is refused); the checklist's lines lead to
what is missing, saving first when they leave the page; and a course's post-test is written on
one page, each question with its choices, in one submission."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from courses.models import Choice, Course, CourseStatus, Question
from courses.services import credentials, publishing
from courses.services.assessment import required_questions

from .adminforms import form_data
from .factories import EnrollmentFactory, staff_in

pytestmark = pytest.mark.django_db

DEMO = Path(django_settings.BASE_DIR, "fixtures", "demo_trainings.json")
COACHING = "coaching-versus-therapy-for-growth-oriented-clients"
PRESENTER = "Riley Okonkwo"


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.CEU_REQUIRE_STAFF_MFA = False


@pytest.fixture
def author_client(client):
    client.force_login(staff_in("Course authors"))
    return client


@pytest.fixture
def draft(db) -> Course:
    """A demo training taken back to draft: complete, so only what a test changes decides."""
    call_command("loaddata", DEMO, verbosity=0)
    Course.objects.filter(slug=COACHING).update(status=CourseStatus.DRAFT, published_at=None)
    course = Course.objects.get(slug=COACHING)
    assert publishing.publish_checklist(course) == []
    return course


@pytest.fixture
def without_post_test(draft) -> Course:
    draft.questions.all().delete()
    return draft


def change_url(course: Course) -> str:
    return reverse("admin:courses_course_change", args=[course.pk])


def editor_url(course: Course) -> str:
    return reverse("admin:courses_course_post_test", args=[course.pk])


def course_form(client, course: Course) -> dict:
    """What the author's browser posts from the course page as shown."""
    return form_data(client.get(change_url(course)).content.decode(), "course_form")


def shown_messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


# --- Publish saves first -----------------------------------------------------------------------


def test_the_publish_button_submits_the_course_form_itself(author_client, draft):
    html = author_client.get(change_url(draft)).content.decode()

    form = html[html.index('id="course_form"') :]
    form = form[: form.index("</form>")]
    assert re.search(r'<input type="submit" value="Publish"[^>]*name="_publish"', form)
    # Not a form of its own beside the course form, which would leave typed edits behind.
    assert 'form="publish-form"' not in html


def test_publish_saves_what_was_typed_then_publishes(author_client, draft):
    data = {**course_form(author_client, draft), "presenter_name": PRESENTER, "_publish": "Publish"}

    response = author_client.post(change_url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == change_url(draft)
    draft.refresh_from_db()
    assert draft.presenter_name == PRESENTER
    assert draft.status == CourseStatus.PUBLISHED
    assert shown_messages(response) == [
        ("info", f"“{draft.title}” was saved."),
        ("success", f"“{draft.title}” is published."),
    ]


def test_a_refused_publish_keeps_the_typed_edits_and_says_what_is_missing(author_client, draft):
    for objective in draft.objectives.order_by("position")[2:]:
        objective.delete()
    data = {**course_form(author_client, draft), "presenter_name": PRESENTER, "_publish": "Publish"}

    response = author_client.post(change_url(draft), data, follow=True)

    draft.refresh_from_db()
    assert draft.status == CourseStatus.DRAFT
    assert draft.presenter_name == PRESENTER
    page = response.content.decode()
    assert f"“{draft.title}” was saved." in page
    assert f"“{draft.title}” cannot be published yet. Missing:" in page
    assert "At least 3 measurable learning objectives (it has 2)." in page
    assert "is published" not in page


def test_an_invalid_form_publishes_nothing_and_keeps_what_was_typed(author_client, draft):
    data = {
        **course_form(author_client, draft),
        "presenter_name": PRESENTER,
        "pass_mark": "",
        "_publish": "Publish",
    }

    response = author_client.post(change_url(draft), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not published, and nothing saved yet" in page
    assert f'value="{PRESENTER}"' in page  # still in the form, to correct and press again
    draft.refresh_from_db()
    assert draft.status == CourseStatus.DRAFT
    assert draft.presenter_name != PRESENTER


def test_registrars_get_no_publish_button(client, draft):
    client.force_login(staff_in("Registrars"))

    page = client.get(change_url(draft)).content.decode()

    assert 'name="_publish"' not in page


# --- The checklist leads to what is missing ----------------------------------------------------


def test_the_checklist_links_lead_straight_to_what_is_missing(author_client, without_post_test):
    course = without_post_test
    for objective in course.objectives.order_by("position")[2:]:
        objective.delete()
    course.test_author = ""
    course.save()

    page = author_client.get(change_url(course)).content.decode()

    checklist = page[page.index('id="publish-checklist"') :]
    checklist = checklist[: checklist.index("</fieldset>")]
    assert (
        '<a href="#objectives-group">At least 3 measurable learning objectives (it has 2).</a>'
        in checklist
    )
    assert (
        '<a href="#id_test_author">The name of the post-test&#x27;s author (who wrote the '
        "answer key).</a>" in checklist
    )
    assert (
        f'<a href="{editor_url(course)}" data-save-and-go="post_test">At least 3 post-test '
        "questions for 0.5 CE hours (it has 0).</a>" in checklist
    )


def test_a_question_on_the_checklist_leads_to_that_question(author_client, draft):
    question = draft.questions.order_by("position").last()
    question.choices.update(is_correct=True)  # one answer asked, every choice marked correct

    page = author_client.get(change_url(draft)).content.decode()

    n = question.position
    assert (
        f'<a href="{editor_url(draft)}#question-{n}" data-save-and-go="post_test:{n}">'
        f"Question {n} needs choices with the right number of correct answers.</a>" in page
    )


def test_unwritten_lesson_text_leads_to_the_first_such_lesson(author_client, draft):
    lessons = list(draft.lessons.order_by("position"))
    for lesson in lessons[1:3]:
        lesson.body = "Write this lesson."
        lesson.save()

    page = author_client.get(change_url(draft)).content.decode()

    first, second = lessons[1].position, lessons[2].position
    # The lessons inline numbers its forms from 0 in the order of their positions.
    assert f'<a href="#lessons-1">Text for lesson {first}, {second}.</a>' in page
    assert 'id="lessons-1"' in page


def test_leaving_by_a_checklist_link_saves_what_was_typed_first(author_client, without_post_test):
    course = without_post_test
    data = {**course_form(author_client, course), "presenter_name": PRESENTER}

    response = author_client.post(change_url(course), {**data, "_save_and_go": "post_test:2"})

    assert response.status_code == 302
    assert response["Location"] == f"{editor_url(course)}#question-2"
    course.refresh_from_db()
    assert course.presenter_name == PRESENTER


def test_an_unknown_destination_is_an_ordinary_save(author_client, draft):
    data = {**course_form(author_client, draft), "_save_and_go": "https://elsewhere.example/"}

    response = author_client.post(change_url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:courses_course_changelist")


# --- The post-test on one page -----------------------------------------------------------------


def question_rows(start: int, count: int) -> dict:
    """What the page's "Add another question" adds: blank question rows with four choices."""
    data = {}
    for index in range(start, start + count):
        prefix = f"questions-{index}"
        data |= {
            f"{prefix}-id": "",
            f"{prefix}-kind": "single",
            f"{prefix}-text": "",
            f"{prefix}-explanation": "",
            f"{prefix}-choices-TOTAL_FORMS": "4",
            f"{prefix}-choices-INITIAL_FORMS": "0",
            f"{prefix}-choices-MIN_NUM_FORMS": "0",
            f"{prefix}-choices-MAX_NUM_FORMS": "1000",
        }
    return data


def written(index: int, *, correct: int = 0, choices: int = 4) -> dict:
    prefix = f"questions-{index}"
    data = {
        f"{prefix}-text": f"Question number {index + 1}: which is right?",
        f"{prefix}-explanation": f"Because answer {correct + 1} is what the lesson taught.",
    }
    for place in range(choices):
        data[f"{prefix}-choices-{place}-text"] = f"Answer {place + 1} to question {index + 1}"
        if place == correct:
            data[f"{prefix}-choices-{place}-is_correct"] = "on"
    return data


def test_the_editor_offers_a_blank_question_for_each_one_missing(author_client, without_post_test):
    course = without_post_test

    page = author_client.get(editor_url(course)).content.decode()

    needed = required_questions(course)
    assert needed == 3
    assert page.count('class="module aligned post-test-question"') == needed + 1  # + the copy
    assert 'id="add-question"' in page
    assert 'name="questions-0-choices-3-text"' in page
    assert "At least 3 post-test questions for 0.5 CE hours (it has 0)." in page


def test_six_questions_with_their_choices_are_written_in_one_submission(
    author_client, without_post_test
):
    course = without_post_test
    data = form_data(author_client.get(editor_url(course)).content.decode(), "post_test_form")
    data |= question_rows(3, 3)
    data["questions-TOTAL_FORMS"] = "6"
    for index in range(6):
        data |= written(index, correct=index % 4)

    response = author_client.post(editor_url(course), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"{change_url(course)}#post-test"
    questions = list(course.questions.order_by("position"))
    assert [q.position for q in questions] == [1, 2, 3, 4, 5, 6]
    assert questions[4].text == "Question number 5: which is right?"
    for index, question in enumerate(questions):
        choices = list(question.choices.order_by("position"))
        assert [c.position for c in choices] == [1, 2, 3, 4]
        assert [c.is_correct for c in choices] == [place == index % 4 for place in range(4)]
    assert publishing.publish_checklist(course) == []
    assert shown_messages(response) == [
        ("success", f"The post-test of “{course.title}” is saved: 6 questions.")
    ]


def test_blank_questions_are_left_out(author_client, without_post_test):
    course = without_post_test
    data = form_data(author_client.get(editor_url(course)).content.decode(), "post_test_form")
    data |= written(1)

    response = author_client.post(editor_url(course), data)

    assert course.questions.count() == 1
    assert course.questions.get().choices.count() == 4
    assert shown_messages(response) == [
        ("success", f"The post-test of “{course.title}” is saved: 1 question.")
    ]


def test_choices_without_their_question_are_refused_and_kept_on_the_page(
    author_client, without_post_test
):
    course = without_post_test
    data = form_data(author_client.get(editor_url(course)).content.decode(), "post_test_form")
    data |= written(0)
    data["questions-1-choices-0-text"] = "A choice typed before its question"

    response = author_client.post(editor_url(course), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Write the question these choices answer." in page
    assert "Nothing was saved yet" in page
    assert 'value="A choice typed before its question"' in page
    assert course.questions.count() == 0


def test_questions_and_choices_are_changed_added_and_deleted_together(author_client, draft):
    first, second, third = draft.questions.order_by("position")[:3]
    data = form_data(author_client.get(editor_url(draft)).content.decode(), "post_test_form")
    data["questions-0-text"] = "A clearer first question?"
    data["questions-0-choices-1-DELETE"] = "on"  # the first question's second choice
    data["questions-0-choices-4-text"] = "A fifth answer, added"  # its blank row
    data["questions-2-DELETE"] = "on"

    response = author_client.post(editor_url(draft), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    first.refresh_from_db()
    assert first.text == "A clearer first question?"
    choices = list(first.choices.order_by("position").values_list("position", "text"))
    assert len(choices) == 4
    assert choices[-1] == (5, "A fifth answer, added")
    assert not Question.objects.filter(pk=third.pk).exists()
    assert not Choice.objects.filter(question_id=third.pk).exists()
    assert second.choices.count() == 4


def test_the_rules_for_correct_answers_stay_with_the_checklist(author_client, without_post_test):
    """The editor stores what was typed; the publishing checklist (one place) says what is
    wrong, beside the question on the editor and as a link on the course page."""
    course = without_post_test
    data = form_data(author_client.get(editor_url(course)).content.decode(), "post_test_form")
    data |= written(0)
    data["questions-0-choices-2-is_correct"] = "on"  # a second correct answer to a single one

    author_client.post(editor_url(course), data)

    question = course.questions.get()
    assert question.choices.filter(is_correct=True).count() == 2
    problem = (
        f"Question {question.position} needs choices with the right number of correct answers."
    )
    assert problem in publishing.publish_checklist(course)
    editor = author_client.get(editor_url(course)).content.decode()
    block = editor[editor.index(f'id="question-{question.position}"') :]
    assert block.index(problem) < block.index("</fieldset>")


def test_the_course_page_lists_the_post_test_and_leads_to_its_editor(author_client, draft):
    page = author_client.get(change_url(draft)).content.decode()

    section = page[page.index('id="post-test"') :]
    section = section[: section.index("</fieldset>")]
    for question in draft.questions.all():
        assert f'<li value="{question.position}">' in section
    assert "(4 choices, 1 correct)" in section
    assert f'href="{editor_url(draft)}" data-save-and-go="post_test"' in section
    # Edited there, not in an inline of the course form as well.
    assert 'name="questions-0-text"' not in page


def test_registrars_neither_see_nor_open_the_editor(client, draft):
    client.force_login(staff_in("Registrars"))

    assert "Edit the post-test" not in client.get(change_url(draft)).content.decode()
    assert client.get(editor_url(draft)).status_code == 403
    assert client.post(editor_url(draft), {}).status_code == 403


def test_a_certified_post_test_is_not_offered_for_editing(author_client, draft):
    Course.objects.filter(pk=draft.pk).update(status=CourseStatus.PUBLISHED)
    enrollment = EnrollmentFactory(course=draft, completed_at=timezone.now())
    credentials.issue_certificate(enrollment=enrollment)

    assert "Edit the post-test" not in author_client.get(change_url(draft)).content.decode()
    assert author_client.get(editor_url(draft)).status_code == 403


def test_the_editor_saves_and_stays_when_asked(author_client, draft):
    data = form_data(author_client.get(editor_url(draft)).content.decode(), "post_test_form")
    data["_continue"] = "Save and keep editing"

    response = author_client.post(editor_url(draft), data)

    assert response.status_code == 302
    assert response["Location"] == editor_url(draft)


def test_saving_a_question_on_its_own_page_returns_to_the_course(author_client, draft):
    question = draft.questions.order_by("position").first()
    url = reverse("admin:courses_question_change", args=[question.pk])
    data = form_data(author_client.get(url).content.decode(), "question_form")
    data["text"] = "A question reworded on its own page?"

    response = author_client.post(url, {**data, "_save": "Save"})

    assert response.status_code == 302
    assert response["Location"] == f"{change_url(draft)}#post-test"
    question.refresh_from_db()
    assert question.text == "A question reworded on its own page?"
    stays = author_client.post(url, {**data, "_continue": "Save and continue editing"})
    assert stays["Location"] == url


def test_objectives_and_references_added_without_a_position_go_after_the_others(
    author_client, draft
):
    data = course_form(author_client, draft)
    objectives = int(data["objectives-TOTAL_FORMS"])
    references = int(data["references-TOTAL_FORMS"])
    last_objective = draft.objectives.order_by("position").last().position
    last_reference = draft.references.order_by("position").last().position
    for prefix, count, fields in (
        ("objectives", objectives, {"text": ["Name two signs of a rupture.", "Plan a repair."]}),
        (
            "references",
            references,
            {"citation": ["Safran, J. D. (2000). Negotiating the alliance."]},
        ),
    ):
        ((name, texts),) = fields.items()
        for offset, text in enumerate(texts):
            data[f"{prefix}-{count + offset}-{name}"] = text
            data[f"{prefix}-{count + offset}-position"] = ""
            data[f"{prefix}-{count + offset}-course"] = str(draft.pk)
        data[f"{prefix}-TOTAL_FORMS"] = str(count + len(texts))

    response = author_client.post(change_url(draft), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    added = list(draft.objectives.order_by("position").values_list("position", "text"))[-2:]
    assert added == [
        (last_objective + 1, "Name two signs of a rupture."),
        (last_objective + 2, "Plan a repair."),
    ]
    reference = draft.references.order_by("position").last()
    assert (reference.position, reference.citation) == (
        last_reference + 1,
        "Safran, J. D. (2000). Negotiating the alliance.",
    )

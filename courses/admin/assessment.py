"""The post-test bank, attempts and evaluations in the admin. Attempts and evaluations are
records: kept as given, never added or deleted here.

A course's post-test is written on one page (`post_test_editor`): every question with its
choices, blank ones ready for what is still missing, saved in one go. Whether a question has the
right number of correct choices is the publishing checklist's to say (services/publishing.py);
this page shows what it says beside each question."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.forms import inlineformset_factory, modelformset_factory
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from courses.models import Certificate, Choice, Course, EvaluationResponse, Question, QuizAttempt
from courses.services import freezing, publishing
from courses.services.assessment import required_questions


def _question_frozen(question: Question | None) -> bool:
    return freezing.is_frozen_for(question, question.course_id if question else None)


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    ordering = ["position"]

    def has_add_permission(self, request, obj=None) -> bool:
        return not _question_frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not _question_frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not _question_frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "course", "kind"]
    list_filter = ["course", "kind"]
    search_fields = ["text", "course__title"]
    list_select_related = ["course"]
    inlines = [ChoiceInline]

    def get_readonly_fields(self, request, obj=None):
        # A question belongs to the post-test it was written for; it never moves to another.
        return ["course"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "course":
            # New questions only for post-tests that have not certified anyone yet.
            kwargs["queryset"] = Course.objects.exclude(
                Exists(Certificate.objects.filter(enrollment__course=OuterRef("pk")))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return not _question_frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not _question_frozen(obj) and super().has_delete_permission(request, obj)

    # "Save" on a question returns to its course's post-test, where the author came from.
    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        return self._to_the_course(request, obj) or response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        return self._to_the_course(request, obj) or response

    def _to_the_course(self, request, question: Question) -> HttpResponse | None:
        others = {"_continue", "_addanother", "_saveasnew", "_popup"}
        if others & set(request.POST) or not request.user.has_perm("courses.view_course"):
            return None
        change = reverse("admin:courses_course_change", args=[quote(question.course_id)])
        return HttpResponseRedirect(f"{change}#post-test")


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "number", "score", "passed", "submitted_at"]
    list_filter = ["passed", "enrollment__course"]
    list_select_related = ["enrollment__user", "enrollment__course"]
    search_fields = ["enrollment__user__email", "enrollment__user__full_name"]
    readonly_fields = [
        "enrollment",
        "number",
        "started_at",
        "questions",
        "answers",
        "submitted_at",
        "score",
        "pass_mark",
        "passed",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Every attempt is kept, with the key it was graded against.
        return False


@admin.register(EvaluationResponse)
class EvaluationResponseAdmin(admin.ModelAdmin):
    list_display = [
        "enrollment",
        "learned_rating",
        "usefulness_rating",
        "presenter_rating",
        "submitted_at",
    ]
    list_select_related = ["enrollment__user", "enrollment__course"]
    readonly_fields = [
        "enrollment",
        "objective_ratings",
        "learned_rating",
        "usefulness_rating",
        "presenter_rating",
        "comments",
        "submitted_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- One course's post-test on one page ---------------------------------------------------------

# Choices a new question is given to fill in (four is the usual multiple-choice item); a question
# that has choices gets at least one blank one more.
BLANK_CHOICES = 4
POST_TEST_PERMISSIONS = [
    f"courses.{action}_{model}"
    for model in ("question", "choice")
    for action in ("add", "change", "delete")
]


class PostTestQuestionForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ["kind", "text", "explanation"]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 2}),
            "explanation": forms.Textarea(attrs={"rows": 2}),
        }


class PostTestChoiceForm(forms.ModelForm):
    class Meta:
        model = Choice
        fields = ["text", "is_correct"]


def can_edit_post_test(request: HttpRequest, course: Course | None) -> bool:
    """Course authors (and operators), while nothing has been certified from this post-test."""
    return (
        course is not None
        and request.user.has_perms(POST_TEST_PERMISSIONS)
        and not freezing.is_frozen_for(course, course.pk)
    )


class PostTestForms:
    """The questions formset, and under each question form the formset of its choices; `empty`
    is a blank question for the page's "Add another question" to copy."""

    prefix = "questions"

    def __init__(self, course: Course, data=None):
        self.course = course
        existing = course.questions.order_by("position").prefetch_related("choices")
        blank = max(required_questions(course) - existing.count(), 1)
        questions = modelformset_factory(
            Question,
            form=PostTestQuestionForm,
            extra=blank,
            can_delete=True,
            can_delete_extra=False,
        )
        self.questions = questions(data, queryset=existing, prefix=self.prefix)
        self.rows = [
            self._row(form, data, number=index + 1)
            for index, form in enumerate(self.questions.forms)
        ]
        # Numbered by the script that copies it (courses/js/post_test.js).
        self.empty = self._row(self.questions.empty_form, None, number="__number__")

    @staticmethod
    def _row(form, data, *, number) -> dict:
        had = len(form.instance.choices.all()) if form.instance.pk else 0
        choices = inlineformset_factory(
            Question,
            Choice,
            form=PostTestChoiceForm,
            extra=max(BLANK_CHOICES - had, 1),
            can_delete=True,
            can_delete_extra=False,
        )(
            data,
            instance=form.instance if form.instance.pk else Question(),
            prefix=f"{form.prefix}-choices",
            queryset=Choice.objects.order_by("position"),
        )
        position = form.instance.position if form.instance.pk else None
        label = _("Question %(n)s") % {"n": position or number}
        for place, choice in enumerate(choices.forms, start=1):
            names = {"q": label, "n": place}
            choice.fields["text"].widget.attrs["aria-label"] = _("%(q)s, choice %(n)d") % names
            choice.fields["is_correct"].widget.attrs["aria-label"] = (
                _("%(q)s, choice %(n)d is correct") % names
            )
            if "DELETE" in choice.fields:
                choice.fields["DELETE"].widget.attrs["aria-label"] = (
                    _("Delete %(q)s, choice %(n)d") % names
                )
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Delete this question")
        return {"form": form, "choices": choices, "label": label, "number": position}

    def is_valid(self) -> bool:
        valid = self.questions.is_valid()
        for row in self.rows:
            form, choices = row["form"], row["choices"]
            if self._dropped(form):
                continue
            if not (form.instance.pk or form.has_changed()):
                # A blank question: its choices would be lost without it.
                if any(choice.has_changed() for choice in choices.forms):
                    form.add_error("text", _("Write the question these choices answer."))
                    valid = False
                continue
            valid = choices.is_valid() and valid
        return valid and not any(row["form"].errors for row in self.rows)

    @staticmethod
    def _dropped(form) -> bool:
        # Only a question already saved has the box (can_delete_extra=False).
        return bool(getattr(form, "cleaned_data", {}).get("DELETE"))

    @transaction.atomic
    def save(self) -> int:
        """Store the page; returns how many questions the post-test has now. New questions and
        choices go after the ones already there, in the order they are on the page."""
        # One author's save at a time per course: positions are handed out below.
        Course.objects.select_for_update().filter(pk=self.course.pk).first()
        for row in self.rows:
            form = row["form"]
            if form.instance.pk and self._dropped(form):
                form.instance.delete()
        next_question = self._after(Question.objects.filter(course=self.course))
        for row in self.rows:
            form, choices = row["form"], row["choices"]
            if self._dropped(form) or not (form.instance.pk or form.has_changed()):
                continue
            question = form.save(commit=False)
            if question.pk is None:
                question.course = self.course
                question.position = next_question
                next_question += 1
            question.save()
            choices.instance = question
            kept = choices.save(commit=False)
            for choice in choices.deleted_objects:
                choice.delete()
            next_choice = self._after(Choice.objects.filter(question=question))
            for choice in kept:
                if choice.pk is None:
                    choice.question = question
                    choice.position = next_choice
                    next_choice += 1
                choice.save()
        return Question.objects.filter(course=self.course).count()

    @staticmethod
    def _after(rows) -> int:
        return (rows.aggregate(last=Max("position"))["last"] or 0) + 1


def post_test_editor(request: HttpRequest, object_id: str, *, course_admin) -> HttpResponse:
    """Every question of the course's post-test with its choices, on one page. Saving returns to
    the course (or stays, for "Save and keep editing")."""
    course = course_admin.get_object(request, object_id)
    if course is None:
        raise Http404
    if not (
        course_admin.has_change_permission(request, course) and can_edit_post_test(request, course)
    ):
        raise PermissionDenied
    editor = PostTestForms(course, request.POST if request.method == "POST" else None)
    if request.method == "POST" and editor.is_valid():
        count = editor.save()
        course_admin.log_change(request, course, _("Changed the post-test."))
        course_admin.message_user(
            request,
            ngettext(
                "The post-test of “%(title)s” is saved: %(count)d question.",
                "The post-test of “%(title)s” is saved: %(count)d questions.",
                count,
            )
            % {"title": course.title, "count": count},
            messages.SUCCESS,
        )
        if "_continue" in request.POST:
            return HttpResponseRedirect(request.path)
        change = reverse("admin:courses_course_change", args=[quote(course.pk)])
        return HttpResponseRedirect(f"{change}#post-test")
    problems = [
        problem
        for problem in publishing.publish_checklist(course)
        if getattr(problem, "topic", "") in {"questions", "question"}
    ]
    for row in editor.rows:
        row["problems"] = [
            problem
            for problem in problems
            if row["number"] is not None and getattr(problem, "position", None) == row["number"]
        ]
    opts = Course._meta
    return TemplateResponse(
        request,
        "admin/courses/course/post_test.html",
        {
            **course_admin.admin_site.each_context(request),
            "title": _("Post-test: %(title)s") % {"title": course.title},
            "opts": opts,
            "original": course,
            "editor": editor,
            "bank_problems": [p for p in problems if getattr(p, "position", None) is None],
            "required": required_questions(course),
            "errors": request.method == "POST",
            "media": course_admin.media + editor.questions.media,
        },
    )

"""The post-test bank, attempts and evaluations in the admin. Attempts and evaluations are
records: kept as given, never added or deleted here."""

from django.contrib import admin
from django.db.models import Exists, OuterRef

from courses.models import Certificate, Choice, Course, EvaluationResponse, Question, QuizAttempt
from courses.services import freezing


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

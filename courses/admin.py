"""The catalog in the admin. Authoring tools (import from an episode, publish checklist, reports)
build on these registrations."""

from django.contrib import admin

from .models import (
    Accreditor,
    AccreditorProfession,
    Choice,
    Course,
    CourseApproval,
    Enrollment,
    Episode,
    EvaluationResponse,
    LearningObjective,
    Lesson,
    LessonProgress,
    Policy,
    Provider,
    Question,
    QuizAttempt,
    Reference,
    Topic,
)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "is_configured"]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not Provider.objects.exists()


class AccreditorProfessionInline(admin.TabularInline):
    model = AccreditorProfession
    extra = 0


@admin.register(Accreditor)
class AccreditorAdmin(admin.ModelAdmin):
    list_display = ["short_name", "name", "provider_number", "approved_from", "approved_until"]
    search_fields = ["name", "short_name", "provider_number"]
    inlines = [AccreditorProfessionInline]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["title", "show", "published_on", "duration_seconds"]
    search_fields = ["title", "show"]


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0
    ordering = ["position"]


class ObjectiveInline(admin.TabularInline):
    model = LearningObjective
    extra = 0
    ordering = ["position"]


class ReferenceInline(admin.TabularInline):
    model = Reference
    extra = 0
    ordering = ["position"]


class ApprovalInline(admin.TabularInline):
    model = CourseApproval
    extra = 0
    autocomplete_fields = ["accreditor"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "ce_hours", "format", "level", "published_at"]
    list_filter = ["status", "format", "level", "topics"]
    search_fields = ["title", "slug", "presenter_name"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["topics"]
    autocomplete_fields = ["episode"]
    inlines = [ObjectiveInline, LessonInline, ReferenceInline, ApprovalInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "published_at", "summary", "description"]}),
        ("Audience", {"fields": ["topics", "target_audience", "level", "format", "episode"]}),
        (
            "Presenter",
            {"fields": ["presenter_name", "presenter_credentials", "presenter_bio", "test_author"]},
        ),
        (
            "Credit",
            {
                "fields": [
                    "ce_hours",
                    "media_minutes",
                    "reading_word_count",
                    "minimum_engaged_minutes",
                    "pass_mark",
                    "attempt_limit",
                ]
            },
        ),
        ("Disclosures", {"fields": ["conflicts_of_interest", "commercial_support"]}),
    ]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "updated_at"]


class LessonProgressInline(admin.TabularInline):
    model = LessonProgress
    extra = 0
    can_delete = False
    readonly_fields = [
        "lesson",
        "engaged_seconds",
        "position_seconds",
        "furthest_seconds",
        "completed_at",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "enrolled_at", "engaged_seconds", "completed_at"]
    list_filter = ["course", "completed_at"]
    search_fields = ["user__email", "user__full_name", "course__title"]
    list_select_related = ["user", "course"]
    readonly_fields = [
        "user",
        "course",
        "enrolled_at",
        "engaged_seconds",
        "last_beat_at",
        "last_lesson",
        "completed_at",
    ]
    inlines = [LessonProgressInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Enrollments are the audit record of who took what: kept, never deleted.
        return False


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    ordering = ["position"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "course", "kind"]
    list_filter = ["course", "kind"]
    search_fields = ["text", "course__title"]
    list_select_related = ["course"]
    inlines = [ChoiceInline]


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

"""Learners' enrollments in the admin: read-only records of who took what."""

from django.contrib import admin

from courses.models import Enrollment, LessonProgress


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
        "last_lesson",
        "completed_at",
    ]
    inlines = [LessonProgressInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Enrollments are the audit record of who took what: kept, never deleted.
        return False

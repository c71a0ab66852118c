"""The audit trail in the admin: registrars read who did what and when; nobody edits or deletes
an entry."""

from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html

from courses.models import LogEntry


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_repr", "summary"]
    list_filter = ["action", "at"]
    search_fields = ["object_repr", "action", "actor__email", "actor__full_name", "data"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    fields = ["at", "actor", "action", "content_type", "object_id", "object_repr", "data"]
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        years = settings.CEU_RETENTION_YEARS
        extra_context = {
            **(extra_context or {}),
            "subtitle": f"Kept for at least {years} years; nothing here is deleted automatically.",
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description="detail")
    def summary(self, entry: LogEntry) -> str:
        return format_html(
            "{}", "; ".join(f"{key}: {value}" for key, value in sorted(entry.data.items()))[:200]
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Kept for the retention period (settings.CEU_RETENTION_YEARS); never purged from here.
        return False

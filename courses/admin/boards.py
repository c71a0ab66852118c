"""Board rules in the admin: each fact beside the page it comes from, and the date it was checked.
Registrars keep them current; course authors read them and name the subjects courses teach."""

from django.contrib import admin

from courses.models import AcceptedApproval, BoardRule, SubjectArea, SubjectRequirement

from .catalog import HTTPS_URLS


@admin.register(SubjectArea)
class SubjectAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class SubjectRequirementInline(admin.TabularInline):
    formfield_overrides = HTTPS_URLS
    model = SubjectRequirement
    extra = 0
    autocomplete_fields = ["subject"]
    fields = [
        "subject",
        "name",
        "hours",
        "every_n_cycles",
        "one_time",
        "source",
        "checked_on",
    ]


class AcceptedApprovalInline(admin.TabularInline):
    formfield_overrides = HTTPS_URLS
    model = AcceptedApproval
    extra = 0
    fields = ["body", "scope", "source", "checked_on"]


@admin.register(BoardRule)
class BoardRuleAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = [
        "jurisdiction",
        "profession",
        "board",
        "cycle_months",
        "hours_required",
        "self_study_status",
        "checked_on",
    ]
    list_filter = ["jurisdiction", "profession", "renewal_basis", "self_study_status"]
    search_fields = ["board", "licence_titles"]
    inlines = [SubjectRequirementInline, AcceptedApprovalInline]
    fieldsets = [
        (None, {"fields": ["jurisdiction", "profession", "board", "licence_titles", "checked_on"]}),
        (
            "Renewal cycle",
            {
                "fields": [
                    "cycle_months",
                    "renewal_basis",
                    "fixed_month",
                    "fixed_day",
                    "cycle_note",
                    ("cycle_source", "cycle_checked_on"),
                ]
            },
        ),
        (
            "Hours",
            {
                "fields": [
                    "hours_required",
                    "first_cycle_hours",
                    "first_cycle_note",
                    ("hours_source", "hours_checked_on"),
                ]
            },
        ),
        (
            "Self-study cap",
            {
                "fields": [
                    "self_study_status",
                    "self_study_cap_hours",
                    "self_study_kind",
                    ("self_study_source", "self_study_checked_on"),
                ]
            },
        ),
        ("Approvals and what is unknown", {"fields": ["approvals_status", "unknown_notes"]}),
    ]

"""The catalog in the admin: provider, accreditors, episodes and courses with their lessons,
objectives, references, approvals and post-test. Authoring tools (import, publish checklist,
reports) build on these registrations."""

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from courses.models import (
    Accreditor,
    AccreditorProfession,
    Course,
    CourseApproval,
    Episode,
    LearningObjective,
    Lesson,
    Policy,
    Provider,
    Reference,
    Topic,
)
from courses.services import approvals, freezing, publishing

from .assessment import can_edit_post_test, post_test_editor
from .captions import EpisodeCaptionsAdminMixin
from .importing import import_episode_view, import_feed_view
from .offered import content_as_offered_view
from .reports import REPORT_PERMISSION, ce_broker_csv, completion_roster_csv, course_report_view

# An address typed without its scheme is taken as https (Django 6's default already).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["name", "email", "is_configured"]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not Provider.objects.exists()


class AccreditorProfessionInline(admin.TabularInline):
    model = AccreditorProfession
    extra = 0


@admin.register(Accreditor)
class AccreditorAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = [
        "short_name",
        "name",
        "body",
        "provider_number",
        "approved_from",
        "approved_until",
    ]
    search_fields = ["name", "short_name", "provider_number"]
    inlines = [AccreditorProfessionInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.changed_data or not change:
            approvals.record_accreditor_change(
                accreditor=obj,
                changed=form.changed_data,
                acting_user=request.user,
                created=not change,
            )


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Episode)
class EpisodeAdmin(EpisodeCaptionsAdminMixin, admin.ModelAdmin):
    formfield_overrides = HTTPS_URLS
    list_display = ["title", "show", "published_on", "duration_seconds"]
    search_fields = ["title", "show"]

    def has_change_permission(self, request, obj=None) -> bool:
        # The media that certified lessons played stays as it was.
        frozen = obj is not None and freezing.episode_is_frozen(obj.pk)
        return not frozen and super().has_change_permission(request, obj)


def _frozen(course: Course | None) -> bool:
    return freezing.is_frozen_for(course, course.pk if course else None)


class FrozenInlineMixin:
    """Once certificates were issued for the course, what its learners were taught and tested
    on is shown read-only: change it in a new edition. (The models refuse it too.)"""

    def has_add_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_delete_permission(request, obj)


class NumberedFormSet(BaseInlineFormSet):
    """Rows whose order is a number (objectives, references): a row added without one goes after
    the others, so an author adds three objectives without counting."""

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "position" in form.fields:
            form.fields["position"].required = False
            form.fields["position"].help_text = _("Empty: after the others.")

    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not self._should_delete_form(form)
        ]
        after = max((form.cleaned_data.get("position") or 0 for form in kept), default=0)
        for form in kept:
            if form.cleaned_data.get("position") is None and form.has_changed():
                after += 1
                form.cleaned_data["position"] = form.instance.position = after


class LessonInline(FrozenInlineMixin, admin.StackedInline):
    model = Lesson
    extra = 0
    ordering = ["position"]


class ObjectiveInline(FrozenInlineMixin, admin.TabularInline):
    formset = NumberedFormSet
    model = LearningObjective
    extra = 0
    ordering = ["position"]


class ReferenceInline(FrozenInlineMixin, admin.TabularInline):
    formset = NumberedFormSet
    formfield_overrides = HTTPS_URLS
    model = Reference
    extra = 0
    ordering = ["position"]


class ApprovalInline(FrozenInlineMixin, admin.TabularInline):
    model = CourseApproval
    extra = 0
    autocomplete_fields = ["accreditor"]


# Where each kind of checklist problem (publishing.Problem.topic) is put right. On the course
# page itself: a link to the place. Elsewhere: a page the course form is saved before going to
# (`CourseAdmin._destination`), so a click on the checklist never throws typed edits away.
ON_THE_COURSE_PAGE = {
    "objectives": "#objectives-group",
    "references": "#references-group",
    "presenter": "#id_presenter_name",
    "test_author": "#id_test_author",
    "lessons": "#lessons-group",
    "credit": "#id_ce_hours",
    "pass_mark": "#id_pass_mark",
    "approvals": "#approvals-group",
}
ELSEWHERE = {
    "questions": "post_test",
    "question": "post_test",
    "media": "episode",
    "captions": "episode",
    "policies": "policies",
}


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "ce_hours", "format", "level", "published_at"]
    list_filter = ["status", "format", "level", "topics"]
    search_fields = ["title", "slug", "presenter_name"]
    filter_horizontal = ["topics", "subjects"]
    autocomplete_fields = ["episode"]
    # The post-test is edited on a page of its own, each question with its choices
    # (admin/assessment.py); the course page lists it and leads there.
    inlines = [
        ObjectiveInline,
        LessonInline,
        ReferenceInline,
        ApprovalInline,
    ]

    def get_prepopulated_fields(self, request, obj=None):
        # The slug follows the title while a course is being created; after that it is its
        # address, and its title may be fixed by issued certificates.
        return {"slug": ["title"]} if obj is None else {}

    actions = ["publish_selected", "archive_selected", "copy_as_new_edition"]
    change_form_template = "admin/courses/course/change_form.html"
    change_list_template = "admin/courses/course/change_list.html"
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "published_at", "summary", "description"]}),
        (
            "Audience",
            {"fields": ["topics", "subjects", "target_audience", "level", "format", "episode"]},
        ),
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

    def get_readonly_fields(self, request, obj=None):
        # Status changes only through Publish (which checks the course) and Archive.
        return ["status", "published_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        # A course that issued certificates is shown read-only; a crafted POST is refused.
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is CourseApproval:
            approvals.record_approval_changes(
                course=form.instance,
                added=formset.new_objects,
                changed=formset.changed_objects,
                removed=formset.deleted_objects,
                acting_user=request.user,
            )

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Courses are archived, never deleted: enrollments and certificates refer to them.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.enrollments.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        # Staff tools beside the course list; each view takes the admin site for its context.
        tools = [
            ("roster.csv", completion_roster_csv, "roster"),
            ("ce-broker.csv", ce_broker_csv, "ce_broker"),
            ("<path:object_id>/report/", course_report_view, "report"),
            ("as-offered/<str:code>/", content_as_offered_view, "as_offered"),
        ]
        return [
            *(
                path(route, view(partial(tool, admin_site=self.admin_site)), name=f"{info}_{name}")
                for route, tool, name in tools
            ),
            # The import pages answer a post too large to read on their own form (importing.py).
            path("import/", view(import_episode_view(self.admin_site)), name=f"{info}_import"),
            path(
                "import/feed/",
                view(import_feed_view(self.admin_site)),
                name=f"{info}_import_feed",
            ),
            path("<path:object_id>/publish/", view(self.publish_view), name=f"{info}_publish"),
            path(
                "<path:object_id>/post-test/",
                view(partial(post_test_editor, course_admin=self)),
                name=f"{info}_post_test",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        course = self.get_object(request, object_id)
        editable = course is not None and self.has_change_permission(request, course)
        extra_context = {
            **(extra_context or {}),
            "publish_checklist": self._checklist(request, course) if course else [],
            "frozen": _frozen(course),
            "can_view_report": request.user.has_perm(REPORT_PERMISSION),
            "can_edit_post_test": editable and can_edit_post_test(request, course),
            "post_test": (
                course.questions.order_by("position").annotate(
                    choice_count=Count("choices"),
                    correct_count=Count("choices", filter=Q(choices__is_correct=True)),
                )
                if course
                else []
            ),
            # A Publish that found the form invalid saved nothing and published nothing.
            "publish_held": request.method == "POST" and "_publish" in request.POST,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _checklist(self, request, course: Course) -> list[dict]:
        """The publishing checklist, each line leading to where it is put right: `href` on this
        page, or `go` for a page the course form is saved before going to."""
        lines = []
        for problem in publishing.publish_checklist(course):
            topic = getattr(problem, "topic", "")
            line = {"text": str(problem), "href": ON_THE_COURSE_PAGE.get(topic), "go": None}
            go = ELSEWHERE.get(topic)
            if topic == "media" and course.episode_id is None:
                line["href"] = "#id_episode"
            elif topic == "lessons" and getattr(problem, "position", None):
                # The first lesson named, as the lessons inline numbers its forms (by position).
                positions = list(
                    course.lessons.order_by("position").values_list("position", flat=True)
                )
                if problem.position in positions:
                    line["href"] = f"#lessons-{positions.index(problem.position)}"
            elif go == "post_test" and getattr(problem, "position", None):
                line["go"] = f"post_test:{problem.position}"
            elif go:
                line["go"] = go
            if line["go"]:
                line["href"] = self._destination(request, course, line["go"])
            lines.append(line)
        return lines

    def _destination(self, request, course: Course, go: str) -> str | None:
        """The address a save-and-go key leads to, if this user may go there; None otherwise."""
        key, _sep, position = go.partition(":")
        if key == "post_test" and can_edit_post_test(request, course):
            url = reverse("admin:courses_course_post_test", args=[quote(course.pk)])
            return f"{url}#question-{int(position)}" if position.isdigit() else url
        if (
            key == "episode"
            and course.episode_id is not None
            and request.user.has_perm("courses.change_episode")
        ):
            return reverse("admin:courses_episode_change", args=[course.episode_id])
        if key == "policies" and request.user.has_perm("courses.view_policy"):
            return reverse("admin:courses_policy_changelist")
        if key == "preview":
            return reverse("courses:course_detail", args=[course.slug])
        if key == "post_test_preview":
            return reverse("courses:post_test_preview", args=[course.slug])
        return None

    def response_change(self, request, obj):
        # The course form was valid and is saved: what the author typed is kept whatever follows,
        # and they are told so before the outcome of Publish (or on the page they went to).
        if "_publish" in request.POST:
            self.message_user(request, _("“%s” was saved.") % obj.title, messages.INFO)
            self._publish(request, obj)
            return redirect("admin:courses_course_change", obj.pk)
        go = request.POST.get("_save_and_go", "")
        destination = self._destination(request, obj, go) if go else None
        if destination:
            self.message_user(request, _("“%s” was saved.") % obj.title, messages.INFO)
            return HttpResponseRedirect(destination)
        return super().response_change(request, obj)

    def publish_view(self, request, object_id):
        course = self.get_object(request, object_id)
        if course is None:
            raise Http404
        # Publishing changes the status, not the content: asked of the model, not this course.
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        self._publish(request, course)
        return redirect("admin:courses_course_change", course.pk)

    def _publish(self, request, course: Course) -> None:
        try:
            publishing.publish_course(course=course, acting_user=request.user)
        except publishing.PublishError as refusal:
            # Nothing changed: a warning with what to do, never a success.
            self.message_user(
                request,
                format_html(
                    "“{}” cannot be published yet. Missing: {}",
                    course.title,
                    format_html_join("", "<br>• {}", ((p,) for p in refusal.problems)),
                ),
                messages.WARNING,
            )
        except publishing.PublishingError as refusal:
            self.message_user(request, str(refusal), messages.WARNING)
        else:
            self.message_user(request, f"“{course.title}” is published.", messages.SUCCESS)

    @admin.action(
        description="Publish the selected courses (checks each first)", permissions=["change"]
    )
    def publish_selected(self, request, queryset):
        for course in queryset:
            self._publish(request, course)

    @admin.action(description="Archive the selected courses", permissions=["change"])
    def archive_selected(self, request, queryset):
        archived = 0
        for course in queryset:
            try:
                publishing.archive_course(course=course, acting_user=request.user)
            except publishing.PublishingError as refusal:
                self.message_user(request, str(refusal), messages.WARNING)
            else:
                archived += 1
        # Only what changed is reported as done.
        if archived:
            self.message_user(request, f"Archived {archived} course(s).", messages.SUCCESS)

    @admin.action(description="Copy as a new edition (draft)", permissions=["add"])
    def copy_as_new_edition(self, request, queryset):
        for course in queryset:
            edition = publishing.copy_as_new_edition(course=course, acting_user=request.user)
            self.message_user(
                request,
                format_html(
                    'New draft edition of “{}”: <a href="{}">{}</a>. Credit earned from one '
                    "edition is not earned again from the other.",
                    course.title,
                    reverse("admin:courses_course_change", args=[edition.pk]),
                    edition.slug,
                ),
                messages.SUCCESS,
            )


@admin.register(CourseApproval)
class CourseApprovalAdmin(admin.ModelAdmin):
    """Approvals across courses, where a registrar records the course number CE Broker issued.
    That number is all that changes here: the approval itself is authored on its course, and
    stays as offered once certificates were issued; the number is reported, never printed."""

    list_display = [
        "course",
        "accreditor",
        "hours",
        "credit_type",
        "valid_from",
        "valid_until",
        "ce_broker_course_number",
    ]
    list_filter = ["accreditor"]
    list_select_related = ["course", "accreditor"]
    search_fields = ["course__title", "course__slug", "approval_code", "ce_broker_course_number"]
    fields = [
        "course",
        "accreditor",
        "hours",
        "credit_type",
        "approval_code",
        "valid_from",
        "valid_until",
        "ce_broker_course_number",
    ]
    readonly_fields = [f for f in fields if f != "ce_broker_course_number"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        approvals.set_ce_broker_course_number(
            approval=obj,
            number=form.cleaned_data["ce_broker_course_number"],
            acting_user=request.user,
        )


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "is_published", "updated_at"]

"""Optional mail in the admin: the nudge days (one row of settings), a preview of every message
text as a learner would read it, the messages sent, and the addresses suppressed after a bounce
or a complaint (deleting one lets optional mail go to it again)."""

from datetime import timedelta
from decimal import Decimal
from functools import partial
from types import SimpleNamespace

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Licence, User
from courses.models import (
    Course,
    Enrollment,
    Lesson,
    MailSuppression,
    MessageKind,
    ReengagementSettings,
    SentMessage,
)
from courses.services import messaging
from courses.services.reengagement import Nudge


def _sample_nudge(stage: int, *, steps_only: bool = False) -> Nudge:
    course = Course(slug="sample-training", title="Why clients ghost: ruptures and repair")
    lesson = Lesson(course=course, position=2, title="Emotional safety and trust")
    enrollment = Enrollment(course=course, engaged_seconds=900)
    return Nudge(
        enrollment=enrollment,
        stage=stage,
        lesson=lesson,
        position_seconds=754,
        lessons_done=3 if steps_only else 1,
        lessons_total=3,
        minutes_left=0 if steps_only else 12,
        steps_left=["the evaluation", "the attestation"] if steps_only else ["the post-test"],
        resume_url=messaging.site_url("/courses/sample-training/lessons/2/"),
    )


def _sample_reminder(*, covered: bool) -> SimpleNamespace:
    subject = SimpleNamespace(
        requirement=SimpleNamespace(name="Laws and rules"),
        hours_stated=True,
        missing=Decimal("2"),
        when="every cycle",
    )
    return SimpleNamespace(
        renewal_date=timezone.localdate() + timedelta(days=30),
        days_left=30,
        hours_known=True,
        hours_missing=None if covered else Decimal("7.5"),
        subjects_missing=[] if covered else [subject],
        total=SimpleNamespace(
            required=Decimal("30"),
            current=SimpleNamespace(
                counted=Decimal("30") if covered else Decimal("22.5"), subjects=[subject]
            ),
        ),
        suggestions=[]
        if covered
        else [Course(slug="sample-training", title="Why clients ghost", ce_hours=Decimal("1.5"))],
        calendar_url=messaging.site_url("/messages/renewal/sample.ics"),
    )


def _licence() -> Licence:
    return Licence(
        profession="professional_counselor",
        jurisdiction="FL",
        number="MH-00417",
        renewal_date=timezone.localdate(),
    )


# name: (title, kind, template, sample context)
PREVIEWS = {
    "nudge-3": (
        _("Nudge after 3 days"),
        MessageKind.NUDGE,
        "nudge",
        lambda: {"nudge": (n := _sample_nudge(3)), "course": n.enrollment.course, "stage": 3},
    ),
    "nudge-30": (
        _("Nudge after 30 days"),
        MessageKind.NUDGE,
        "nudge",
        lambda: {"nudge": (n := _sample_nudge(30)), "course": n.enrollment.course, "stage": 30},
    ),
    "nudge-steps": (
        _("Nudge when only the steps after the lessons are left"),
        MessageKind.NUDGE,
        "nudge",
        lambda: {
            "nudge": (n := _sample_nudge(10, steps_only=True)),
            "course": n.enrollment.course,
            "stage": 10,
        },
    ),
    "renewal": (
        _("Renewal reminder"),
        MessageKind.RENEWAL,
        "renewal",
        lambda: {"reminder": _sample_reminder(covered=False), "licence": _licence()},
    ),
    "renewal-covered": (
        _("Renewal: you're covered"),
        MessageKind.RENEWAL,
        "renewal_covered",
        lambda: {"reminder": _sample_reminder(covered=True), "licence": _licence()},
    ),
}


def preview_view(request: HttpRequest, name: str, admin_site) -> TemplateResponse:
    """One message rendered from its templates with a sample learner, as it would be sent."""
    if not request.user.has_perm("courses.view_reengagementsettings"):
        raise PermissionDenied
    if name not in PREVIEWS:
        raise Http404("No such message.")
    title, kind, template, sample = PREVIEWS[name]
    learner = User(pk=0, email="learner@example.com", full_name="Dana Whitfield")
    letter = messaging.compose(user=learner, kind=kind, template=template, context=sample())
    subject, body = letter.render()
    return TemplateResponse(
        request,
        "admin/courses/message_preview.html",
        {
            **admin_site.each_context(request),
            "title": _("Preview: %(title)s") % {"title": title},
            "opts": ReengagementSettings._meta,
            "subject": subject,
            "body": body,
            "headers": messaging.list_unsubscribe_headers(letter.context["unsubscribe_url"]),
            "templates": [f"emails/{template}_subject.txt", f"emails/{template}_message.txt"],
            "previews": [(key, value[0]) for key, value in PREVIEWS.items()],
            "current": name,
        },
    )


@admin.register(ReengagementSettings)
class ReengagementSettingsAdmin(admin.ModelAdmin):
    fields = ["nudge_days", "send_hour"]
    change_form_template = "admin/courses/reengagementsettings/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None) -> HttpResponse:
        # One row for the site: the list opens it, made with the defaults on first visit.
        ReengagementSettings.objects.get_or_create(pk=1)
        return redirect(reverse("admin:courses_reengagementsettings_change", args=[1]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "previews": [(key, value[0]) for key, value in PREVIEWS.items()],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view(partial(preview_view, admin_site=self.admin_site))
        return [
            path("preview/<slug:name>/", view, name="courses_message_preview"),
            *super().get_urls(),
        ]


@admin.register(SentMessage)
class SentMessageAdmin(admin.ModelAdmin):
    list_display = [
        "kind",
        "stage",
        "email",
        "claimed_at",
        "sent_at",
        "resumed_at",
        "unsubscribed_at",
    ]
    list_filter = ["kind", "stage", "sent_at"]
    search_fields = ["email", "user__full_name", "enrollment__course__title"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in SentMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MailSuppression)
class MailSuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "provider", "created_at"]
    list_filter = ["reason", "provider"]
    search_fields = ["email"]
    readonly_fields = ["created_at"]

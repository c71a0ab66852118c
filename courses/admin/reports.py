"""Staff reports in the admin: a course's report page, the CSV roster auditors take, and CE
Broker's rosters. The course views are wired under CourseAdmin and wrapped by the admin site's
`admin_view` (signed-in, active staff who passed the two-factor step); each checks its own
permission.

- `course_report_view`: `courses/course/<id>/report/`, name "courses_course_report";
  needs `courses.view_enrollment`.
- `completion_roster_csv`: `courses/course/roster.csv`, name "courses_course_roster";
  needs `courses.view_certificate`.
- `ce_broker_csv`: `courses/course/ce-broker.csv`, name "courses_course_ce_broker": the old CE
  Broker export, now leading to the roster form; needs `courses.add_cebrokerroster`.
- `CeBrokerRosterAdmin` (registered here): the roster form (`add`), a roster's page (`change`),
  its `.xls` and CSV files and the "posted" mark. Reading needs `courses.view_cebrokerroster`,
  generating `courses.add_cebrokerroster`, marking posted `courses.post_cebrokerroster`.

Every export is written to the audit trail ("roster.exported", "roster.ce_broker_generated",
"roster.ce_broker_exported", "roster.ce_broker_posted"): who, when, with which filters, and which
rows left the site.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.jurisdictions import CANADIAN_PROVINCES, Jurisdiction
from courses.models import CeBrokerRoster, Course
from courses.reports import (
    ROSTER_HEADER,
    CompletionFilter,
    FunnelStep,
    course_report,
    roster_rows,
)
from courses.reports.rosters import ce_broker_corrections
from courses.services import audit, rosters

REPORT_PERMISSION = "courses.view_enrollment"
EXPORT_PERMISSION = "courses.view_certificate"

# The states (and DC and the territories) CE Broker rosters are filed for.
US_JURISDICTIONS = [
    (code, name)
    for code, name in Jurisdiction.choices
    if code != Jurisdiction.OTHER and code not in CANADIAN_PROVINCES
]

DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadParameter(Exception):
    """A query parameter the export cannot use; the message tells the user what to send."""


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")


def _admin_url(admin_site, name: str, *args) -> str | None:
    """The address of one of these views when the admin has it wired, else None."""
    try:
        return reverse(f"{admin_site.name}:{name}", args=args)
    except NoReverseMatch:
        return None


# --- The report page ----------------------------------------------------------------------------

CHART_WIDTH = 760
CHART_LABEL_WIDTH = 250
CHART_BAR_WIDTH = 380
CHART_ROW_HEIGHT = 30
CHART_BAR_HEIGHT = 20


def funnel_chart(funnel: list[FunnelStep]) -> dict:
    """Geometry of the funnel drawn as server-rendered SVG: a bar per step, as long as its share
    of the enrollments, labelled with its count and percentage."""
    rows = []
    for index, step in enumerate(funnel):
        width = round(CHART_BAR_WIDTH * float(step.percent) / 100, 1)
        rows.append(
            {
                "step": step,
                "short_label": Truncator(step.label).chars(38),
                "y": index * CHART_ROW_HEIGHT,
                "text_y": index * CHART_ROW_HEIGHT + CHART_BAR_HEIGHT // 2 + 5,
                "bar_x": CHART_LABEL_WIDTH,
                "bar_width": width,
                "value_x": CHART_LABEL_WIDTH + width + 8,
            }
        )
    return {
        "rows": rows,
        "width": CHART_WIDTH,
        "height": max(1, len(rows)) * CHART_ROW_HEIGHT,
        "bar_height": CHART_BAR_HEIGHT,
        "track_width": CHART_BAR_WIDTH,
        "label_x": CHART_LABEL_WIDTH - 8,
    }


def course_report_view(request: HttpRequest, object_id: str, admin_site) -> TemplateResponse:
    """A course's figures: enrollments, completions, post-test results, evaluation means and
    comments, and where learners drop off. For the registrar role (`courses.view_enrollment`)."""
    _require(request, REPORT_PERMISSION)
    try:
        course = Course.objects.get(pk=object_id)
    except (Course.DoesNotExist, ValueError, ValidationError) as missing:
        raise Http404("No course with this id.") from missing
    report = course_report(course=course)
    request.current_app = admin_site.name
    context = {
        **admin_site.each_context(request),
        "title": f"Report: {course.title}",
        "opts": Course._meta,
        "course": course,
        "report": report,
        "chart": funnel_chart(report.funnel),
        "can_view_course": request.user.has_perm("courses.view_course"),
        "can_export": request.user.has_perm(EXPORT_PERMISSION),
        "can_ce_broker": request.user.has_perm(ROSTER_ADD_PERMISSION),
        "roster_url": _admin_url(admin_site, "courses_course_roster"),
        "ce_broker_url": _admin_url(admin_site, "courses_cebrokerroster_add"),
        "jurisdictions": US_JURISDICTIONS,
        # Where staff set the nudge days and preview the message texts.
        "messages_url": (
            _admin_url(admin_site, "courses_reengagementsettings_changelist")
            if request.user.has_perm("courses.view_reengagementsettings")
            else None
        ),
    }
    return TemplateResponse(request, "admin/courses/course_report.html", context)


# --- CSV exports --------------------------------------------------------------------------------


class Echo:
    """A file-like object that hands back what is written: csv.writer formats one row, the
    response streams it."""

    def write(self, value: str) -> str:
        return value


# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_response(
    header: list[str], rows: Iterable[list[str]], *, filename: str, bom: bool = False
) -> StreamingHttpResponse:
    writer = csv.writer(Echo())

    def lines() -> Iterator[str]:
        if bom:
            yield "\ufeff"
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _date_parameter(request: HttpRequest, name: str) -> datetime.date | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    try:
        if not DATE_FORMAT.fullmatch(value):
            raise ValueError(value)
        return datetime.date.fromisoformat(value)
    except ValueError as invalid:
        raise BadParameter(
            f"'{name}' must be a date written YYYY-MM-DD, e.g. 2026-01-31 (got {value!r})."
        ) from invalid


def completion_filter(request: HttpRequest) -> CompletionFilter:
    """The export's `course`, `start` and `end` parameters; raises BadParameter."""
    course = None
    course_id = request.GET.get("course", "").strip()
    if course_id:
        if not course_id.isdigit():
            raise BadParameter(f"'course' must be a course id (a number), got {course_id!r}.")
        course = Course.objects.filter(pk=int(course_id)).only("pk", "slug", "title").first()
        if course is None:
            raise BadParameter(f"There is no course with id {course_id}.")
    start = _date_parameter(request, "start")
    end = _date_parameter(request, "end")
    if start and end and end < start:
        raise BadParameter("'end' is before 'start'.")
    return CompletionFilter(course=course, start=start, end=end)


def _filename(stem: str, filters: CompletionFilter, *parts: str) -> str:
    pieces = [stem, *parts]
    if filters.course is not None:
        pieces.append(filters.course.slug)
    pieces.append(timezone.localdate().isoformat())
    return "-".join(pieces) + ".csv"


def _exported(
    action: str,
    rows: Iterable[list[str]],
    *,
    request: HttpRequest,
    filters: CompletionFilter,
    **more: str,
) -> list[list[str]]:
    """The export's rows, recorded in the audit trail before any of them is sent. The rows are
    read in full first so the entry counts exactly what the file holds."""
    with transaction.atomic():
        rows = list(rows)
        audit.record(
            action,
            actor=request.user,
            subject=filters.course,
            data={
                "filters": {
                    "course": filters.course.slug if filters.course is not None else None,
                    "start": filters.start.isoformat() if filters.start else None,
                    "end": filters.end.isoformat() if filters.end else None,
                    **more,
                },
                "rows": len(rows),
            },
        )
    return rows


def completion_roster_csv(request: HttpRequest, admin_site) -> HttpResponse:
    """The audit roster: a row per licence on each certificate that stands (revoked ones too,
    with their status), optionally for one course and a span of completion dates."""
    _require(request, EXPORT_PERMISSION)
    try:
        filters = completion_filter(request)
    except BadParameter as bad:
        return _bad_request(str(bad))
    rows = _exported(
        "roster.exported",
        ([spreadsheet_safe(cell) for cell in row] for row in roster_rows(filters)),
        request=request,
        filters=filters,
    )
    # A byte-order mark so spreadsheet programs read the names' accents as UTF-8.
    return _csv_response(
        ROSTER_HEADER, rows, filename=_filename("completion-roster", filters), bom=True
    )


# --- CE Broker rosters --------------------------------------------------------------------------

ROSTER_ADD_PERMISSION = "courses.add_cebrokerroster"
ROSTER_POST_PERMISSION = "courses.post_cebrokerroster"


def ce_broker_csv(request: HttpRequest, admin_site) -> HttpResponse:
    """The old CE Broker export address: CE Broker rosters are generated, kept and posted now,
    so it leads to the roster form with the state, course and dates it was given."""
    _require(request, ROSTER_ADD_PERMISSION)
    query = {
        name: request.GET.get(name, "").strip()
        for name in ("state", "course", "start", "end")
        if request.GET.get(name, "").strip()
    }
    if "state" in query:
        query["state"] = query["state"].upper()
    url = reverse(f"{admin_site.name}:courses_cebrokerroster_add")
    return redirect(f"{url}?{urlencode(query)}" if query else url)


class CeBrokerRosterForm(forms.Form):
    """Which completions a new roster reports: the licences' state, and optionally a course and
    a span of completion dates (inclusive)."""

    state = forms.ChoiceField(
        label="State",
        choices=[("", "choose a state"), *US_JURISDICTIONS],
        error_messages={
            "required": "Choose the state whose licences this roster reports, such as Florida.",
            "invalid_choice": "Choose a state from the list; %(value)s is not one.",
        },
    )
    course = forms.ModelChoiceField(
        label="Course",
        queryset=Course.objects.only("pk", "title", "slug").order_by("title", "pk"),
        required=False,
        empty_label="all courses",
        error_messages={
            "invalid_choice": "There is no such course; choose one from the list or none.",
        },
    )
    start = forms.DateField(
        label="Completed from",
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Write the date as YYYY-MM-DD, e.g. 2026-01-31."},
    )
    end = forms.DateField(
        label="to",
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Write the date as YYYY-MM-DD, e.g. 2026-01-31."},
    )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date is before the start date.")
        return data

    def completion_filter(self) -> CompletionFilter:
        data = self.cleaned_data
        return CompletionFilter(course=data["course"], start=data["start"], end=data["end"])


def _form_initial(request: HttpRequest) -> dict[str, str]:
    """The form filled in from a link (the course report's, or the old export address)."""
    initial = {name: request.GET.get(name, "").strip() for name in ("course", "start", "end")}
    initial["state"] = request.GET.get("state", "").strip().upper()
    return {name: value for name, value in initial.items() if value}


def _roster_filename(roster: CeBrokerRoster, extension: str) -> str:
    created = timezone.localdate(roster.created_at).isoformat()
    return f"ce-broker-{roster.state.lower()}-roster-{roster.pk}-{created}.{extension}"


class PostedFilter(admin.SimpleListFilter):
    title = "posted to CE Broker"
    parameter_name = "posted"

    def lookups(self, request, model_admin):
        return [("yes", "posted"), ("no", "not yet")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(posted_at__isnull=self.value() == "no")
        return queryset


@admin.register(CeBrokerRoster)
class CeBrokerRosterAdmin(admin.ModelAdmin):
    """CE Broker rosters: generated from the add form, read on their page, downloaded as .xls or
    CSV, marked as posted. Nobody edits or deletes one here; a posted one is locked."""

    list_display = ["__str__", "state", "created_at", "created_by", "row_count", "posted"]
    list_filter = ["state", PostedFilter]
    list_select_related = ["created_by", "posted_by"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .defer("rows", "refusals")
            .annotate(row_count=Count("entries"))
        )

    @admin.display(description="rows", ordering="row_count")
    def row_count(self, roster: CeBrokerRoster) -> int:
        return roster.row_count

    @admin.display(description="posted")
    def posted(self, roster: CeBrokerRoster) -> str:
        if roster.posted_at is None:
            return "not yet"
        return f"{timezone.localtime(roster.posted_at):%Y-%m-%d %H:%M} by {roster.posted_by}"

    def has_change_permission(self, request, obj=None) -> bool:
        # Rosters are records: generated, downloaded and posted through the views below only.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/roster.xls", view(self.xls_view), name=f"{info}_xls"),
            path("<path:object_id>/roster.csv", view(self.csv_view), name=f"{info}_csv"),
            path("<path:object_id>/post/", view(self.post_view), name=f"{info}_post"),
            *super().get_urls(),
        ]

    def _roster(self, request: HttpRequest, object_id: str) -> CeBrokerRoster:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            return CeBrokerRoster.objects.select_related("created_by", "posted_by").get(
                pk=int(object_id)
            )
        except (CeBrokerRoster.DoesNotExist, ValueError, OverflowError) as missing:
            raise Http404("No CE Broker roster with this number.") from missing

    def _to_page(self, roster: CeBrokerRoster) -> HttpResponse:
        return redirect(f"{self.admin_site.name}:courses_cebrokerroster_change", roster.pk)

    def _page(self, request: HttpRequest, template: str, title: str, **context):
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )

    def add_view(self, request, form_url="", extra_context=None):
        """The export form: a new roster of what was not reported before, for one state."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        nothing = None
        if request.method == "POST":
            form = CeBrokerRosterForm(request.POST)
            if form.is_valid():
                try:
                    roster = rosters.generate_ce_broker_roster(
                        state=form.cleaned_data["state"],
                        filters=form.completion_filter(),
                        acting_user=request.user,
                    )
                except rosters.NothingToReport as empty:
                    nothing = empty
                except rosters.RosterError as refusal:
                    form.add_error(None, str(refusal))
                else:
                    self.message_user(
                        request,
                        f"{roster}: {len(roster.rows)} completion(s) to upload. Download the "
                        f"file, upload it to CE Broker, then mark the roster as posted.",
                        messages.SUCCESS,
                    )
                    return redirect(
                        f"{self.admin_site.name}:courses_cebrokerroster_change", roster.pk
                    )
        else:
            initial = {
                name: request.GET.get(name, "").strip() for name in ("course", "start", "end")
            }
            initial["state"] = request.GET.get("state", "").strip().upper()
            form = CeBrokerRosterForm(initial={k: v for k, v in initial.items() if v})
        return self._page(
            request,
            "admin/courses/ce_broker_roster_form.html",
            "New CE Broker roster",
            form=form,
            nothing=nothing,
            provider_number=getattr(settings, "CEU_CE_BROKER_PROVIDER_NUMBER", ""),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A roster's page: its rows as in the file, who generated and posted it, the
        completions it could not report and why, and what changed since. Read-only: nothing
        on it is edited, so only GET is answered."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        roster = self._roster(request, object_id)
        entries = list(
            roster.entries.select_related("certificate")
            .only("position", "roster_id", "certificate__code", "certificate__learner_name")
            .order_by("position")
        )
        rows = [
            {
                "position": entry.position,
                "learner": entry.certificate.learner_name,
                "certificate": entry.certificate.code,
                "cells": roster.rows[entry.position - 1],
            }
            for entry in entries
        ]
        return self._page(
            request,
            "admin/courses/ce_broker_roster.html",
            str(roster),
            roster=roster,
            rows=rows,
            partial=any(len(row["cells"]) > 8 for row in rows),
            corrections=ce_broker_corrections(roster),
            state_name=Jurisdiction(roster.state).label,
            can_post=request.user.has_perm(ROSTER_POST_PERMISSION) and not roster.is_posted,
        )

    def _download(self, request, object_id, *, file_format: str) -> HttpResponse:
        roster = self._roster(request, object_id)
        if file_format == "xls":
            content = rosters.roster_xls(roster.rows)
            content_type = "application/vnd.ms-excel"
        else:
            content = rosters.roster_csv(roster.rows)
            content_type = "text/csv; charset=utf-8"
        with transaction.atomic():
            rosters.record_roster_download(
                roster=roster, file_format=file_format, content=content, acting_user=request.user
            )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{_roster_filename(roster, file_format)}"'
        )
        return response

    def xls_view(self, request, object_id):
        return self._download(request, object_id, file_format="xls")

    def csv_view(self, request, object_id):
        return self._download(request, object_id, file_format="csv")

    def post_view(self, request, object_id):
        """Mark the roster as posted to CE Broker (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        roster = self._roster(request, object_id)
        if not request.user.has_perm(ROSTER_POST_PERMISSION):
            raise PermissionDenied
        try:
            roster = rosters.post_ce_broker_roster(roster=roster, acting_user=request.user)
        except rosters.RosterError as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
        else:
            self.message_user(
                request,
                f"{roster} is recorded as posted and locked. Later changes to its completions "
                f"will be listed on this page as corrections.",
                messages.SUCCESS,
            )
        return self._to_page(roster)

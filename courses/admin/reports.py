"""Staff reports in the admin: a course's report page and the CSV exports auditors and CE Broker
take. The views are wired under CourseAdmin and wrapped by the admin site's `admin_view`
(signed-in, active staff who passed the two-factor step); each checks its own permission.

- `course_report_view`: `courses/course/<id>/report/`, name "courses_course_report";
  needs `courses.view_enrollment`.
- `completion_roster_csv`: `courses/course/roster.csv`, name "courses_course_roster";
  needs `courses.view_certificate`.
- `ce_broker_csv`: `courses/course/ce-broker.csv`, name "courses_course_ce_broker";
  needs `courses.view_certificate`.

Every export is written to the audit trail ("roster.exported", "roster.ce_broker_exported"):
who, when, with which filters, and how many rows left the site.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import Truncator

from accounts.jurisdictions import CANADIAN_PROVINCES, Jurisdiction
from courses.models import Course
from courses.reports import (
    CE_BROKER_HEADER,
    ROSTER_HEADER,
    CompletionFilter,
    FunnelStep,
    ce_broker_rows,
    course_report,
    roster_rows,
)
from courses.services import audit

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
        "roster_url": _admin_url(admin_site, "courses_course_roster"),
        "ce_broker_url": _admin_url(admin_site, "courses_course_ce_broker"),
        "jurisdictions": US_JURISDICTIONS,
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


def ce_broker_csv(request: HttpRequest, admin_site) -> HttpResponse:
    """CE Broker's provider roster upload for one state: a row per completion for a licence
    printed on the certificate in that state, with the licence number exactly as issued."""
    _require(request, EXPORT_PERMISSION)
    state = request.GET.get("state", "").strip().upper()
    if not state:
        return _bad_request("Choose a state: 'state' is a US jurisdiction code such as FL.")
    if state not in dict(US_JURISDICTIONS):
        return _bad_request(f"'state' must be a US jurisdiction code such as FL, got {state!r}.")
    try:
        filters = completion_filter(request)
    except BadParameter as bad:
        return _bad_request(str(bad))
    rows = _exported(
        "roster.ce_broker_exported",
        ce_broker_rows(
            filters,
            state=state,
            provider_number=getattr(settings, "CEU_CE_BROKER_PROVIDER_NUMBER", ""),
        ),
        request=request,
        filters=filters,
        state=state,
    )
    return _csv_response(
        CE_BROKER_HEADER, rows, filename=_filename("ce-broker", filters, state.lower())
    )

"""CE Broker rosters: generated, downloaded, marked as posted. A roster holds only completions
no posted roster holds (CE Broker asks for a new file per upload, with nothing reported before);
once posted it is locked, and what changed since is listed as a correction, never rewritten."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
from collections.abc import Sequence

import xlwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.jurisdictions import Jurisdiction
from accounts.models import User
from courses.models import CeBrokerRoster, CeBrokerRosterEntry
from courses.reports.rosters import (
    PROVIDER_PREFIX,
    CeBrokerRefusal,
    CompletionFilter,
    ce_broker_rows,
    without_prefix,
)
from courses.services import audit

# The worksheet CE Broker's upload reads; its help pages name no other.
SHEET_NAME = "Sheet1"
# CE Broker's own example of column F is 12/3/2008: month, day, four-digit year.
EXCEL_DATE_FORMAT = "m/d/yyyy"
DATE_COLUMN = 5
HOURS_COLUMN = 9


class RosterError(Exception):
    """A roster action the rules do not allow; the message says why and what to do."""


class NothingToReport(RosterError):
    """No completion is left to report; `refusals` says which could not be, and why (as a
    roster keeps them)."""

    def __init__(self, message: str, *, refusals: Sequence[CeBrokerRefusal], already_posted: int):
        super().__init__(message)
        self.refusals = [refusal.as_dict() for refusal in refusals]
        self.already_posted = already_posted


def provider_tracking_number() -> str:
    """Column A: settings.CEU_CE_BROKER_PROVIDER_NUMBER without its "50-" prefix."""
    number = without_prefix(getattr(settings, "CEU_CE_BROKER_PROVIDER_NUMBER", "") or "", "50-")
    if not number:
        raise RosterError(
            "CE Broker's provider tracking number is not set: the operator sets "
            "CEU_CE_BROKER_PROVIDER_NUMBER (the 50-… number CE Broker issued) before rosters "
            "can be generated."
        )
    if not re.fullmatch(r"[0-9]+", number):
        raise RosterError(
            f"CEU_CE_BROKER_PROVIDER_NUMBER must be CE Broker's provider tracking number, "
            f"digits after {PROVIDER_PREFIX!r}; it is {number!r}."
        )
    return number


def _completion_date(cell: str) -> datetime.date:
    return datetime.date.fromisoformat(cell)


def roster_xls(rows: Sequence[Sequence[str]]) -> bytes:
    """The roster as CE Broker's Excel upload takes it: a .xls workbook, one sheet, a row per
    completion from column A and no header row; column F an Excel date, J (partial credit) a
    number, the rest text as stored (identifiers keep their leading zeros)."""
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet(SHEET_NAME)
    date_style = xlwt.easyxf(num_format_str=EXCEL_DATE_FORMAT)
    for row_index, row in enumerate(rows):
        for column, value in enumerate(row):
            if value == "":
                continue
            if column == DATE_COLUMN:
                sheet.write(row_index, column, _completion_date(value), date_style)
            elif column == HOURS_COLUMN:
                sheet.write(row_index, column, float(value))
            else:
                sheet.write(row_index, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def roster_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """The same roster as comma-separated values: the same columns and no header row, the
    completion date written as CE Broker's example writes it (12/3/2008)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        cells = list(row)
        day = _completion_date(cells[DATE_COLUMN])
        cells[DATE_COLUMN] = f"{day.month}/{day.day}/{day.year}"
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _filters_data(filters: CompletionFilter) -> dict:
    return {
        "course": filters.course.slug if filters.course is not None else None,
        "start": filters.start.isoformat() if filters.start else None,
        "end": filters.end.isoformat() if filters.end else None,
    }


@transaction.atomic
def generate_ce_broker_roster(
    *, state: str, filters: CompletionFilter, acting_user: User
) -> CeBrokerRoster:
    """A new roster of the completions in `state` (and the filters) that no posted roster holds.
    Refused completions are kept with it, by name and reason. NothingToReport when no
    completion is left to report."""
    if state not in Jurisdiction.values or state == Jurisdiction.OTHER:
        raise RosterError(f"{state!r} is not a state CE Broker rosters are filed for.")
    provider_number = provider_tracking_number()
    rows, refusals = ce_broker_rows(filters, state=state, provider_number=provider_number)
    posted = set(
        CeBrokerRosterEntry.objects.filter(posted_completion__in=[row.completion for row in rows])
        .order_by()
        .values_list("posted_completion", flat=True)
    )
    new = [row for row in rows if row.completion not in posted]
    if not new:
        state_name = Jurisdiction(state).label
        if posted:
            message = (
                f"Nothing new to report for {state_name}: the {len(posted)} completion(s) "
                f"these filters find were all posted to CE Broker already."
            )
        else:
            message = f"No completion in {state_name} is there to report to CE Broker."
        raise NothingToReport(message, refusals=refusals, already_posted=len(posted))
    cells = [row.cells() for row in new]
    roster = CeBrokerRoster.objects.create(
        state=state,
        filters=_filters_data(filters),
        created_by=acting_user,
        rows=cells,
        refusals=[refusal.as_dict() for refusal in refusals],
        xls_sha256=_sha256(roster_xls(cells)),
        csv_sha256=_sha256(roster_csv(cells)),
    )
    CeBrokerRosterEntry.objects.bulk_create(
        CeBrokerRosterEntry(
            roster=roster,
            position=position,
            enrollment_id=row.enrollment_id,
            certificate_id=row.certificate_id,
            completion=row.completion,
        )
        for position, row in enumerate(new, start=1)
    )
    audit.record(
        "roster.ce_broker_generated",
        actor=acting_user,
        subject=roster,
        data={
            "roster": roster.pk,
            "state": state,
            "filters": roster.filters,
            "rows": len(cells),
            "not_reported": len(refusals),
            "already_posted": len(posted),
        },
    )
    return roster


def record_roster_download(
    *, roster: CeBrokerRoster, file_format: str, content: bytes, acting_user: User
) -> None:
    """The audit trail of a roster's file leaving the site: who, which roster, which format."""
    audit.record(
        "roster.ce_broker_exported",
        actor=acting_user,
        subject=roster,
        data={
            "roster": roster.pk,
            "state": roster.state,
            "filters": roster.filters,
            "format": file_format,
            "rows": len(roster.rows),
            "sha256": _sha256(content),
        },
    )


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def post_ce_broker_roster(*, roster: CeBrokerRoster, acting_user: User) -> CeBrokerRoster:
    """Record that this roster's file was uploaded to CE Broker: who, when, which rows. From
    then on it is locked, and its completions are never put in another roster."""
    roster = (
        CeBrokerRoster.objects.select_for_update(of=("self",))
        .select_related("posted_by")
        .get(pk=roster.pk)
    )
    if roster.is_posted:
        raise RosterError(
            f"Roster #{roster.pk} was posted on {_when(roster.posted_at)} by {roster.posted_by} "
            f"and cannot be changed. Completions since go in a new roster; changes to these "
            f"are listed as corrections on its page."
        )
    clashing = list(
        CeBrokerRosterEntry.objects.filter(
            posted_completion__in=roster.entries.values("completion")
        )
        .order_by("roster_id")
        .values_list("roster_id", flat=True)
        .distinct()
    )
    if clashing:
        raise RosterError(
            f"Roster #{roster.pk} holds completions already posted in roster "
            f"{', '.join(f'#{pk}' for pk in clashing)}, posted after this one was generated. "
            f"Do not upload it: generate a new roster, which leaves them out. If this file was "
            f"uploaded already, ask CE Broker to remove the repeated rows."
        )
    roster.posted_at = timezone.now()
    roster.posted_by = acting_user
    roster.save(update_fields=["posted_at", "posted_by"])
    try:
        with transaction.atomic():
            roster.entries.update(posted_completion=F("completion"))
    except IntegrityError as clash:
        # Another roster holding one of these completions was posted at the same moment.
        raise RosterError(
            f"Another roster with some of these completions was just posted; roster "
            f"#{roster.pk} was not marked as posted. Generate a new roster."
        ) from clash
    audit.record(
        "roster.ce_broker_posted",
        actor=acting_user,
        subject=roster,
        data={
            "roster": roster.pk,
            "state": roster.state,
            "posted_at": roster.posted_at.isoformat(),
            "posted_by": acting_user.email,
            "xls_sha256": roster.xls_sha256,
            "csv_sha256": roster.csv_sha256,
            "rows": roster.rows,
        },
    )
    return roster

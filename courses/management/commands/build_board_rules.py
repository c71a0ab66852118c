"""Builds fixtures/board_rules.json from the researched, readable sources in
fixtures/boards/source/<JURISDICTION>.toml (format: fixtures/boards/FORMAT.md).

Each fact keeps the public page it comes from and the date it was checked (its own `checked_on`,
else the rule's); a fact that could not be sourced is recorded as unknown with a note of where it
was looked for, never guessed. The JSON is what `loaddata` (and `make run`) loads; a test keeps
it equal to what the sources build."""

import json
import tomllib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.jurisdictions import Jurisdiction
from accounts.models import Profession
from courses.models import ApprovalBody, FactStatus, RenewalBasis

SOURCE = Path(settings.BASE_DIR, "fixtures", "boards", "source")
FIXTURE = Path(settings.BASE_DIR, "fixtures", "board_rules.json")

# Names for the subject slugs the sources use; a slug not listed takes the board's wording.
SUBJECT_NAMES = {
    "laws-and-rules": "Laws and rules",
    "ethics": "Ethics",
    "law-and-ethics": "Law and ethics",
    "suicide-risk": "Suicide risk assessment and intervention",
    "medical-errors": "Prevention of medical errors",
    "domestic-violence": "Domestic violence",
    "cultural-competence": "Cultural competence",
    "diversity": "Diversity, equity and inclusion",
    "supervision": "Clinical supervision",
    "telehealth": "Telehealth",
    "hiv-aids": "HIV/AIDS",
    "human-trafficking": "Human trafficking",
    "child-abuse": "Child abuse recognition and reporting",
    "substance-use": "Substance use",
    "pain-management": "Pain management",
    "implicit-bias": "Implicit bias",
    "professional-boundaries": "Professional boundaries",
    "sexual-harassment": "Sexual harassment prevention",
    "ethics-or-cultural-competence": "Ethics or cultural competence",
}


class Command(BaseCommand):
    help = "Rebuild fixtures/board_rules.json from fixtures/boards/source/*.toml."

    def handle(self, *args, **options) -> None:
        FIXTURE.write_text(render_fixture(), encoding="utf-8")
        self.stdout.write(f"Wrote {FIXTURE.relative_to(settings.BASE_DIR)}")


def render_fixture(source: Path = SOURCE) -> str:
    return json.dumps(build(source), indent=1, ensure_ascii=False) + "\n"


def _fail(where: str, message: str):
    raise CommandError(f"{where}: {message}")


def _url(value, where: str) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        _fail(where, f"a source must be the address of the page read, not {value!r}")
    if len(value) > 500:
        _fail(where, "the source address is longer than 500 characters")
    return value


def _date(value, where: str) -> date:
    # TOML also has date-times, which are dates to Python: a check is dated by the day.
    if not isinstance(value, date) or isinstance(value, datetime):
        _fail(where, f"checked_on must be a date (YYYY-MM-DD), not {value!r}")
    return value


def _checked(table: dict | None, rule_checked: date, where: str) -> str | None:
    """When the fact was checked: its own `checked_on`, else the rule's. An unknown fact was
    looked for, so it is dated too; a fact with no table was never looked for, so it is not."""
    if not table:
        return None
    return _date(table.get("checked_on", rule_checked), f"{where} checked_on").isoformat()


def _looked_for(note: str, checked: str, rule_checked: date) -> str:
    """An unknown subject or approval has no row to carry its date: the note carries it when it
    differs from the rule's own."""
    return note if checked == rule_checked.isoformat() else f"{note} (looked for on {checked})"


def _hours(value, where: str) -> str:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        _fail(where, f"hours must be a number, not {value!r}")
    if hours < 0 or hours >= 1000:
        _fail(where, f"hours out of range: {value!r}")
    return f"{hours:.2f}"


# Copies of rule texts that are not the board's or the state's own publication: a fact read only
# there is recorded as unknown (with what the copy said), never as the board's word.
THIRD_PARTY_HOSTS = ("law.cornell.edu", "justia.com", "casetext.com", "elaws.us", "laws.com")


def _third_party(url) -> str | None:
    host = (urlsplit(url).hostname or "") if isinstance(url, str) else ""
    return next((h for h in THIRD_PARTY_HOSTS if host == h or host.endswith("." + h)), None)


def _unsourced_note(table: dict) -> str:
    host = _third_party(table.get("source"))
    said = str(table.get("note", "")).strip()
    return (
        f"Found only on a third-party copy ({host}), not on the board's or the state's own "
        f"pages. {said}"
    ).strip()


def _known(table: dict | None, fact: str, notes: dict, where: str) -> bool:
    """Whether the fact table states the fact; an unknown one leaves its note."""
    if not table:
        notes[fact] = "Not researched yet."
        return False
    if table.get("unknown"):
        notes[fact] = str(table.get("note", "")).strip() or "Not found on the board's pages."
        return False
    if _third_party(table.get("source")):
        notes[fact] = _unsourced_note(table)
        return False
    return True


def build(source: Path = SOURCE) -> list[dict]:
    files = sorted(source.glob("*.toml"))
    rules, subjects_used, requirements, accepted = [], {}, [], []
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        jurisdiction = data.get("jurisdiction")
        if jurisdiction not in Jurisdiction.values or jurisdiction == Jurisdiction.OTHER:
            _fail(path.name, f"unknown jurisdiction {jurisdiction!r}")
        for entry in data.get("rules", []):
            profession = entry.get("profession")
            where = f"{path.name} {profession}"
            if profession not in Profession.values:
                _fail(where, f"unknown profession {profession!r}")
            checked = _date(entry.get("checked_on"), where)
            notes: dict[str, str] = {}
            rule = {
                "jurisdiction": jurisdiction,
                "profession": profession,
                "board": str(entry.get("board", "")).strip() or _fail(where, "name the board"),
                "licence_titles": ", ".join(entry.get("licence_titles", [])),
                "checked_on": checked.isoformat(),
                "cycle_months": None,
                "renewal_basis": RenewalBasis.UNKNOWN.value,
                "fixed_month": None,
                "fixed_day": None,
                "cycle_note": "",
                "cycle_source": "",
                "cycle_checked_on": _checked(entry.get("cycle"), checked, f"{where} cycle"),
                "hours_required": None,
                "first_cycle_hours": None,
                "first_cycle_note": "",
                "hours_source": "",
                "hours_checked_on": _checked(entry.get("hours"), checked, f"{where} hours"),
                "self_study_status": FactStatus.UNKNOWN.value,
                "self_study_cap_hours": None,
                "self_study_kind": "",
                "self_study_source": "",
                "self_study_checked_on": _checked(
                    entry.get("self_study"), checked, f"{where} self-study"
                ),
                "approvals_status": FactStatus.UNKNOWN.value,
                "history_note": "",
            }
            cycle = entry.get("cycle")
            if _known(cycle, "cycle", notes, where):
                rule["cycle_source"] = _url(cycle.get("source"), f"{where} cycle")
                rule["cycle_note"] = str(cycle.get("note", "")).strip()
                if "months" in cycle:
                    rule["cycle_months"] = int(cycle["months"])
                basis = cycle.get("renewal", RenewalBasis.UNKNOWN.value)
                if basis not in RenewalBasis.values:
                    _fail(where, f"renewal must be one of {RenewalBasis.values}, not {basis!r}")
                rule["renewal_basis"] = basis
                if basis == RenewalBasis.FIXED_DATE:
                    rule["fixed_month"] = cycle.get("fixed_month")
                    rule["fixed_day"] = cycle.get("fixed_day")
            hours = entry.get("hours")
            if _known(hours, "hours", notes, where):
                rule["hours_source"] = _url(hours.get("source"), f"{where} hours")
                if "required" in hours:
                    rule["hours_required"] = _hours(hours["required"], f"{where} hours")
                if "first_cycle_hours" in hours:
                    rule["first_cycle_hours"] = _hours(hours["first_cycle_hours"], where)
                rule["first_cycle_note"] = str(hours.get("first_cycle", "")).strip()
            study = entry.get("self_study")
            if study and study.get("none"):
                rule["self_study_status"] = FactStatus.NONE.value
                rule["self_study_source"] = _url(study.get("source"), f"{where} self-study")
            elif _known(study, "self_study", notes, where):
                rule["self_study_status"] = FactStatus.KNOWN.value
                rule["self_study_cap_hours"] = _hours(study.get("cap_hours"), f"{where} cap")
                rule["self_study_kind"] = str(study.get("kind", "")).strip()
                rule["self_study_source"] = _url(study.get("source"), f"{where} self-study")
            rule_index = len(rules) + 1
            for item in entry.get("subjects", []):
                label = item.get("name") or item.get("subject") or "subject"
                item_checked = _checked(item, checked, f"{where} {label}")
                if item.get("unknown") or _third_party(item.get("source")):
                    note = (
                        str(item.get("note", "")).strip()
                        if item.get("unknown")
                        else _unsourced_note(item)
                    )
                    note = _looked_for(note, item_checked, checked)
                    notes["subjects"] = " ".join(
                        filter(None, [notes.get("subjects"), f"{label}: {note}"])
                    )
                    continue
                slug = item.get("subject")
                if not slug:
                    _fail(where, "a subject requirement needs its subject slug")
                subjects_used.setdefault(slug, SUBJECT_NAMES.get(slug) or item.get("name", slug))
                requirements.append(
                    {
                        "rule": rule_index,
                        "subject": slug,
                        "name": str(item.get("name", "")).strip()[:200],
                        # Required, but the hours not found stated: kept, with no number.
                        "hours": (
                            _hours(item["hours"], f"{where} {slug}")
                            if item.get("hours") is not None
                            else None
                        ),
                        "every_n_cycles": int(item.get("every_n_cycles", 1)),
                        "one_time": bool(item.get("one_time", False)),
                        "checked_on": item_checked,
                        "source": _url(item.get("source"), f"{where} {slug}"),
                    }
                )
            bodies = set()
            for item in entry.get("approvals", []):
                item_checked = _checked(item, checked, f"{where} {item.get('body', 'approval')}")
                if item.get("unknown") or _third_party(item.get("source")):
                    note = (
                        str(item.get("note", "")).strip()
                        if item.get("unknown")
                        else _unsourced_note(item)
                    )
                    note = _looked_for(note, item_checked, checked)
                    notes["approvals"] = " ".join(filter(None, [notes.get("approvals"), note]))
                    continue
                body = item.get("body")
                if body not in ApprovalBody.values:
                    _fail(where, f"approval body must be one of {ApprovalBody.values}: {body!r}")
                if body in bodies:
                    # One row per body: a second mention adds its scope to the first, and the
                    # row is as fresh as the older of the two checks.
                    for row in accepted:
                        if row["rule"] == rule_index and row["body"] == body:
                            row["scope"] = f"{row['scope']}; {item.get('scope', '')}"[:300]
                            row["checked_on"] = min(row["checked_on"], item_checked)
                    continue
                bodies.add(body)
                accepted.append(
                    {
                        "rule": rule_index,
                        "body": body,
                        "scope": str(item.get("scope", "")).strip()[:300],
                        "checked_on": item_checked,
                        "source": _url(item.get("source"), f"{where} {body}"),
                    }
                )
            if bodies:
                rule["approvals_status"] = FactStatus.KNOWN.value
            elif "approvals" not in notes:
                notes["approvals"] = "Not found on the board's pages."
            rule["unknown_notes"] = notes
            rules.append(rule)
    subject_pk = {slug: pk for pk, slug in enumerate(sorted(subjects_used), start=1)}
    objects: list[dict] = [
        {
            "model": "courses.subjectarea",
            "pk": pk,
            "fields": {"slug": slug, "name": subjects_used[slug]},
        }
        for slug, pk in subject_pk.items()
    ]
    objects += [
        {"model": "courses.boardrule", "pk": pk, "fields": rule}
        for pk, rule in enumerate(rules, start=1)
    ]
    objects += [
        {
            "model": "courses.subjectrequirement",
            "pk": pk,
            "fields": {**r, "subject": subject_pk[r["subject"]]},
        }
        for pk, r in enumerate(requirements, start=1)
    ]
    objects += [
        {"model": "courses.acceptedapproval", "pk": pk, "fields": a}
        for pk, a in enumerate(accepted, start=1)
    ]
    return objects

"""The certificate record: everything a certificate prints and the credit it stands for, as it
stood at issue. Stored in `Certificate.snapshot` by `to_snapshot()`; read back, from any schema
version ever stored, by `CertificateRecord.from_snapshot()` (or `record_of(certificate)`). The PDF,
the verify page, the API, the transcript, the e-mails, the rosters and the admin all read this one
shape, never the stored dict.

Version 1 (the dicts stored before there were versions) printed the course's hours whatever its
approvals; version 2 adds `kind` ("credit" or "attendance") and keeps the course's own length
apart from the credit awarded (`course_hours` and `ce_hours`); version 3 adds what boards' rules
ask of each credit: per approval its `body` (whose approval it is, as boards name it) and the
`subjects` it covers, and whether the training was `self_study`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from courses.models import Certificate

SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, SCHEMA_VERSION)


class CertificateKind(StrEnum):
    # Hours printed, from approvals current on the completion date that serve a licence printed.
    CREDIT = "credit"
    # No approval served the learner: the training was done, and no CE credit is awarded.
    ATTENDANCE = "attendance"


class RecordError(ValueError):
    """A stored snapshot that cannot be read as a certificate record."""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _decimal(value: Any, *, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise RecordError(f"{name} is not a number: {value!r}") from None
    if not number.is_finite():
        raise RecordError(f"{name} is not a number: {value!r}")
    return number


def _approval_bodies() -> frozenset[str]:
    # Imported here: the record is read by code that runs before the app registry is ready.
    from courses.models.boards import ApprovalBody

    return frozenset(ApprovalBody.values)


def _decimal_text(value: Decimal) -> str:
    # As stored ("1.0" stays "1.0"), never in exponent form.
    return f"{value:f}"


@dataclass(frozen=True)
class PrintedLicence:
    """A licence as printed: the profession's name and code, the board's jurisdiction, the
    number exactly as the learner keeps it."""

    profession: str
    number: str
    jurisdiction: str = ""
    profession_code: str = ""
    jurisdiction_code: str = ""

    @property
    def number_last4(self) -> str:
        return self.number[-4:]

    @classmethod
    def from_snapshot(cls, data: dict) -> PrintedLicence:
        return cls(
            profession=_text(data.get("profession")),
            number=_text(data.get("number")),
            jurisdiction=_text(data.get("jurisdiction")),
            profession_code=_text(data.get("profession_code")),
            jurisdiction_code=_text(data.get("jurisdiction_code")),
        )

    def to_snapshot(self) -> dict:
        return {
            "profession": self.profession,
            "profession_code": self.profession_code,
            "jurisdiction": self.jurisdiction,
            "jurisdiction_code": self.jurisdiction_code,
            "number": self.number,
        }


@dataclass(frozen=True)
class PrintedApproval:
    """An approval that awards this certificate's credit, with its statement as printed."""

    accreditor: str
    hours: Decimal
    accreditor_name: str = ""
    provider_number: str = ""
    credit_type: str = ""
    approval_code: str = ""
    statement: str = ""
    # Profession codes the accreditor serves: what the transcript counts the hours against.
    professions: tuple[str, ...] = ()
    # Whose approval this is, as boards name it when they say whose credit they accept (an
    # `ApprovalBody` value; "" when unknown), and the subject areas (slugs) it covered for this
    # course: both as they stood at issue.
    body: str = ""
    subjects: tuple[str, ...] = ()

    @property
    def hours_text(self) -> str:
        return _decimal_text(self.hours)

    @classmethod
    def from_snapshot(cls, data: dict) -> PrintedApproval:
        return cls(
            accreditor=_text(data.get("accreditor")),
            hours=_decimal(data.get("hours", "0"), name="approval hours"),
            accreditor_name=_text(data.get("accreditor_name")),
            provider_number=_text(data.get("provider_number")),
            credit_type=_text(data.get("credit_type")),
            approval_code=_text(data.get("approval_code")),
            statement=_text(data.get("statement")),
            professions=tuple(_text(p) for p in data.get("professions") or ()),
            body=cls._body_of(data),
            subjects=tuple(_text(s) for s in data.get("subjects") or ()),
        )

    @staticmethod
    def _body_of(data: dict) -> str:
        if "body" in data:
            return _text(data.get("body"))
        # Records issued before version 3 named no body: their accreditor's short name is one
        # where it is a body boards name (APA, NBCC...), and unknown otherwise.
        accreditor = _text(data.get("accreditor"))
        return accreditor if accreditor in _approval_bodies() else ""

    def to_snapshot(self) -> dict:
        return {
            "accreditor": self.accreditor,
            "accreditor_name": self.accreditor_name,
            "provider_number": self.provider_number,
            "hours": self.hours_text,
            "credit_type": self.credit_type,
            "approval_code": self.approval_code,
            "statement": self.statement,
            "professions": list(self.professions),
            "body": self.body,
            "subjects": list(self.subjects),
        }


@dataclass(frozen=True)
class PrintedProvider:
    """The provider as printed; `configured` is False while the details are placeholders, and
    every document then says "sample: not valid for credit"."""

    name: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    configured: bool = False

    @classmethod
    def from_snapshot(cls, data: dict | None) -> PrintedProvider:
        data = data or {}
        return cls(
            name=_text(data.get("name")),
            address=_text(data.get("address")),
            email=_text(data.get("email")),
            phone=_text(data.get("phone")),
            website=_text(data.get("website")),
            configured=data.get("configured") is True,
        )

    def to_snapshot(self) -> dict:
        return {
            "name": self.name,
            "address": self.address,
            "email": self.email,
            "phone": self.phone,
            "website": self.website,
            "configured": self.configured,
        }


@dataclass(frozen=True)
class CertificateRecord:
    """One certificate as issued. `ce_hours` is the credit awarded (zero for attendance);
    `course_hours` is the training's own length as offered."""

    code: str
    kind: CertificateKind
    learner_name: str
    course_title: str
    ce_hours: Decimal
    course_hours: Decimal
    completion_date: date
    issued_at: datetime
    licences: tuple[PrintedLicence, ...] = ()
    approvals: tuple[PrintedApproval, ...] = ()
    provider: PrintedProvider = field(default_factory=PrintedProvider)
    course_slug: str = ""
    format: str = ""
    presenter: str = ""
    # Home study, online or otherwise not live: what boards' self-study caps count.
    self_study: bool = True
    schema_version: int = SCHEMA_VERSION

    @property
    def is_credit(self) -> bool:
        return self.kind == CertificateKind.CREDIT

    @property
    def is_attendance(self) -> bool:
        return self.kind == CertificateKind.ATTENDANCE

    @property
    def sample(self) -> bool:
        return not self.provider.configured

    @property
    def ce_hours_text(self) -> str:
        return _decimal_text(self.ce_hours)

    def hours_for(self, profession: str) -> Decimal:
        """The credit this certificate carries for one profession (a licence's code): its
        largest approval serving it; none for a certificate of attendance."""
        if not self.is_credit:
            return Decimal(0)
        return max(
            (a.hours for a in self.approvals if profession in a.professions), default=Decimal(0)
        )

    @classmethod
    def from_snapshot(cls, snapshot: dict) -> CertificateRecord:
        """Read a stored snapshot of any version; `RecordError` when it is not one."""
        if not isinstance(snapshot, dict):
            raise RecordError("A certificate snapshot is a JSON object.")
        version = snapshot.get("schema_version", 1)
        if version not in READABLE_VERSIONS:
            raise RecordError(f"Unknown certificate schema version: {version!r}")
        try:
            completion_date = date.fromisoformat(_text(snapshot.get("completion_date")))
            issued_at = datetime.fromisoformat(_text(snapshot.get("issued_at")))
        except ValueError as error:
            raise RecordError(f"A date in the snapshot does not parse: {error}") from None
        if issued_at.tzinfo is None:
            issued_at = issued_at.replace(tzinfo=UTC)
        licences = tuple(
            PrintedLicence.from_snapshot(item) for item in snapshot.get("licences") or ()
        )
        approvals = tuple(
            PrintedApproval.from_snapshot(item) for item in snapshot.get("approvals") or ()
        )
        printed_hours = _decimal(snapshot.get("ce_hours", "0"), name="ce_hours")
        if version == 1:
            # Version 1 printed the course's hours whatever its approvals, with the approvals
            # current on the completion date (those serving the printed licences, or every
            # current one when no licence was on record). A board reads what the document
            # claimed: credit where it printed an approval, attendance where it printed none.
            kind = CertificateKind.CREDIT if approvals else CertificateKind.ATTENDANCE
            course_hours = printed_hours
            ce_hours = printed_hours if kind == CertificateKind.CREDIT else Decimal(0)
            if kind == CertificateKind.ATTENDANCE:
                approvals = ()
        else:
            try:
                kind = CertificateKind(snapshot.get("kind"))
            except ValueError:
                raise RecordError(f"Unknown certificate kind: {snapshot.get('kind')!r}") from None
            ce_hours = printed_hours
            course_hours = _decimal(
                snapshot.get("course_hours", snapshot.get("ce_hours", "0")), name="course_hours"
            )
        return cls(
            code=_text(snapshot.get("code")),
            kind=kind,
            learner_name=_text(snapshot.get("learner_name")),
            course_title=_text(snapshot.get("course_title")),
            ce_hours=ce_hours,
            course_hours=course_hours,
            completion_date=completion_date,
            issued_at=issued_at,
            licences=licences,
            approvals=approvals,
            provider=PrintedProvider.from_snapshot(snapshot.get("provider")),
            course_slug=_text(snapshot.get("course_slug")),
            format=_text(snapshot.get("format")),
            presenter=_text(snapshot.get("presenter")),
            # Records before version 3 did not say; every training offered then was home study.
            self_study=snapshot.get("self_study", True) is not False,
        )

    def to_snapshot(self) -> dict:
        """The record as the JSON stored with the certificate and embedded in its PDF."""
        return {
            "schema_version": SCHEMA_VERSION,
            "code": self.code,
            "kind": str(self.kind),
            "learner_name": self.learner_name,
            "licences": [licence.to_snapshot() for licence in self.licences],
            "course_title": self.course_title,
            "course_slug": self.course_slug,
            "ce_hours": self.ce_hours_text,
            "course_hours": _decimal_text(self.course_hours),
            "format": self.format,
            "completion_date": self.completion_date.isoformat(),
            "presenter": self.presenter,
            "self_study": self.self_study,
            "provider": self.provider.to_snapshot(),
            "approvals": [approval.to_snapshot() for approval in self.approvals],
            "issued_at": self.issued_at.isoformat(),
        }


def record_of(certificate: Certificate) -> CertificateRecord:
    """The record a certificate was issued with."""
    return CertificateRecord.from_snapshot(certificate.snapshot)

"""Certificates: issued once per completed enrollment, rendered and e-mailed after commit,
revoked, reinstated or reissued with a record of who did it, and the learner told. Nothing here
deletes anything."""

import hashlib
import logging
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Licence, User
from ceu.rows import Prepared
from courses.codes import new_code
from courses.credentials_record import (
    CertificateKind,
    CertificateRecord,
    PrintedApproval,
    PrintedLicence,
    PrintedProvider,
    record_of,
)
from courses.models import (
    Certificate,
    CertificateEvent,
    CertificateStatus,
    Enrollment,
)
from courses.selectors import (
    approvals_serving,
    course_credit,
    current_provider,
    with_board_rules,
)
from courses.services import audit, badges, caching, golive, pdf_signing, signing_keys, status_list

logger = logging.getLogger(__name__)


class CertificateError(Exception):
    """A certificate action the rules do not allow; the message says why."""


def verify_url(code: str) -> str:
    """The absolute address a board opens from the QR code."""
    return settings.CEU_SITE_URL.rstrip("/") + reverse("courses:verify_code", args=[code])


def _site_url(name: str) -> str:
    return settings.CEU_SITE_URL.rstrip("/") + reverse(name)


def record_at_issue(enrollment: Enrollment, *, code: str, issued_at: datetime) -> CertificateRecord:
    """Everything a certificate prints, as it stands now. Credit comes only from approvals
    current on the completion date that serve one of the learner's licences; where none does
    (no licence, lapsed approvals, another profession's), it is a certificate of attendance."""
    course = enrollment.course
    user = enrollment.user
    completed_on = timezone.localdate(enrollment.completed_at)
    licences = with_board_rules(_LICENCES.all(user.pk))
    approvals, course_subjects = course_credit(course, completed_on)
    serving = approvals_serving(approvals, licences)
    kind = CertificateKind.CREDIT if serving else CertificateKind.ATTENDANCE
    # Credit is never more than an approval grants.
    ce_hours = min(course.ce_hours, max(a.hours for a in serving)) if serving else Decimal(0)
    provider = current_provider()
    return CertificateRecord(
        code=code,
        kind=kind,
        learner_name=user.full_name,
        licences=tuple(
            PrintedLicence(
                profession=licence.get_profession_display(),
                profession_code=licence.profession,
                jurisdiction=licence.jurisdiction_name,
                jurisdiction_code=licence.jurisdiction,
                number=licence.number,
            )
            for licence in licences
        ),
        course_title=course.title,
        course_slug=course.slug,
        ce_hours=ce_hours.normalize(),
        course_hours=course.ce_hours.normalize(),
        format=course.get_format_display(),
        completion_date=completed_on,
        presenter=f"{course.presenter_name}, {course.presenter_credentials}",
        # Every format offered is home study (recorded audio, video, reading): boards' self-study
        # and online caps count it.
        self_study=course.format.startswith("home_study"),
        provider=PrintedProvider(
            name=provider.name if provider else "",
            address=provider.address if provider else "",
            email=provider.email if provider else "",
            phone=provider.phone if provider else "",
            website=provider.website if provider else "",
            # Real credit only once the go-live checklist passes.
            configured=golive.credit_is_live(provider),
        ),
        approvals=tuple(
            PrintedApproval(
                accreditor=approval.accreditor.short_name,
                accreditor_name=approval.accreditor.name,
                provider_number=approval.accreditor.provider_number,
                hours=approval.hours.normalize(),
                credit_type=approval.credit_type,
                approval_code=approval.approval_code,
                statement=approval.statement(provider),
                professions=tuple(
                    sorted(p.profession for p in approval.accreditor.professions.all())
                ),
                body=approval.accreditor.body,
                subjects=tuple(
                    sorted(s.slug for s in approval.subjects.all() if s.slug in course_subjects)
                ),
            )
            for approval in serving
        ),
        issued_at=issued_at,
    )


def _create(enrollment: Enrollment, *, actor: User | None, kind: str, detail: str = ""):
    issued_at = timezone.now()
    code = new_code()
    record = record_at_issue(enrollment, code=code, issued_at=issued_at)
    certificate = Certificate.objects.create(
        code=code,
        enrollment=enrollment,
        snapshot=record.to_snapshot(),
        issued_at=issued_at,
        learner_name=record.learner_name,
    )
    CertificateEvent.objects.create(certificate=certificate, kind=kind, actor=actor, detail=detail)
    transaction.on_commit(lambda: _queue_render(certificate.pk))
    return certificate


def _queue_render(certificate_id: int) -> None:
    from courses.tasks import render_certificate

    try:
        render_certificate.delay(certificate_id)
    except Exception:
        # Neither a rendering failure (tasks in-process) nor an unreachable broker may fail the
        # learner's request: the certificate stands ("being prepared") and the scheduled sweep
        # (courses.services.upkeep.render_missing_pdfs) renders and e-mails it later.
        logger.exception("Certificate %s was issued but not queued for rendering", certificate_id)


def send_rendered(certificate_id: int, *, pdf: bytes | None = None) -> None:
    """E-mail a certificate from the task that has just rendered it: one task per certificate
    instead of a second one queued behind it. Should sending fail (the mail server down), the
    e-mail task takes it over with its own retries, and the scheduled sweep after that;
    `email_certificate` sends it once whichever gets there first. `pdf`: the file just stored,
    attached if it is still the one on record."""
    try:
        email_certificate(certificate_id=certificate_id, pdf=pdf)
    except Exception:
        logger.warning("Certificate %s was not e-mailed at once; queued", certificate_id)
        queue_email(certificate_id)


def queue_email(certificate_id: int) -> None:
    from courses.tasks import email_certificate

    try:
        email_certificate.delay(certificate_id)
    except Exception:
        # The broker is down: the scheduled sweep (courses.services.upkeep) sends it later.
        logger.exception("Certificate %s was not queued for e-mail", certificate_id)


def _queue_notice(event_id: int, reason: str) -> None:
    from courses.tasks import notify_certificate_change

    try:
        notify_certificate_change.delay(event_id, reason)
    except Exception:
        # The change stands whatever the mail server says; the event shows no NOTIFIED entry,
        # and the task can be queued again.
        logger.exception("The learner was not told of certificate event %s", event_id)


def _notify_on_commit(event: CertificateEvent, reason: str) -> None:
    transaction.on_commit(lambda: _queue_notice(event.pk, reason))


# Issuing's reads, compiled once (ceu.rows.Prepared): each completion asks for them.
# The enrollment and its learner are locked, never the course: every completion in a course
# would queue behind the others.
_ENROLLMENT_LOCKED = Prepared(
    lambda pk: (
        Enrollment.objects.select_for_update(of=("self", "user"))
        .select_related("course", "user")
        .filter(pk=pk)
    )
)
_CURRENT = Prepared(
    lambda enrollment: Certificate.objects.filter(
        enrollment_id=enrollment, superseded_by__isnull=True
    ).order_by("pk")[:1]
)
_LICENCES = Prepared(lambda user: Licence.objects.filter(user_id=user))


@transaction.atomic
def issue_certificate(*, enrollment: Enrollment) -> Certificate:
    """The certificate of a completed enrollment; calling again, even at the same moment from
    another process, returns the one already issued."""
    enrollment = _ENROLLMENT_LOCKED.get(enrollment.pk)
    if enrollment.completed_at is None:
        raise CertificateError(_("The training is not complete yet."))
    current = _CURRENT.first(enrollment.pk)
    if current is not None:
        return current
    try:
        with transaction.atomic():
            return _create(enrollment, actor=None, kind=CertificateEvent.Kind.ISSUED)
    except IntegrityError:
        # Another process issued it between our check and our insert (the unique constraint on
        # the current certificate is the last word): theirs stands.
        return enrollment.certificates.get(superseded_by__isnull=True)


def _reason(reason: str, message: str) -> str:
    reason = reason.strip()
    if not reason:
        raise CertificateError(message)
    return reason


def allowed_changes(certificate: Certificate) -> tuple[str, ...]:
    """What a registrar may still do to the certificate as it stands: a replaced one is history,
    a valid one can be revoked or reissued, a revoked one reinstated or reissued. The changes
    below check it (each saying why it refuses), and the admin offers only these buttons."""
    if certificate.superseded_by_id is not None:
        return ()
    if certificate.status == CertificateStatus.VALID:
        return ("revoke", "reissue")
    if certificate.status == CertificateStatus.REVOKED:
        return ("reinstate", "reissue")
    return ()


@transaction.atomic
def revoke_certificate(*, certificate: Certificate, reason: str, acting_user: User) -> Certificate:
    """Withdraw a certificate: it stays on record, its verify page says revoked, when, why, and
    the learner is told by e-mail."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    reason = _reason(reason, _("Give the reason for revoking; boards will read it."))
    if "revoke" not in allowed_changes(certificate):
        raise CertificateError(_("Only a valid certificate can be revoked."))
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason
    certificate.revoked_by = acting_user
    certificate.save(update_fields=["status", "revoked_at", "revoked_reason", "revoked_by"])
    caching.certificate_changed(certificate.code)
    status_list.record_status(certificate)  # its credential's bit: revoked
    event = CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEvent.Kind.REVOKED,
        actor=acting_user,
        detail=reason,
    )
    audit.record(
        "certificate.revoked",
        actor=acting_user,
        subject=certificate,
        data={"code": certificate.code, "reason": reason},
    )
    _notify_on_commit(event, reason)
    return certificate


@transaction.atomic
def reinstate_certificate(
    *, certificate: Certificate, reason: str, acting_user: User
) -> Certificate:
    """Undo a revocation: the certificate is valid again. The revocation (when, by whom, why)
    stays in its history, next to the reinstatement and its reason; the learner is told."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    reason = _reason(reason, _("Give the reason for reinstating; it is kept with the record."))
    if certificate.superseded_by_id is not None:
        raise CertificateError(
            _("It was replaced by a reissued certificate, which is the one that stands.")
        )
    if "reinstate" not in allowed_changes(certificate):
        raise CertificateError(_("Only a revoked certificate can be reinstated."))
    revoked = {
        "revoked_at": certificate.revoked_at.isoformat() if certificate.revoked_at else None,
        "revoked_reason": certificate.revoked_reason,
    }
    certificate.status = CertificateStatus.VALID
    certificate.revoked_at = None
    certificate.revoked_reason = ""
    certificate.revoked_by = None
    certificate.save(update_fields=["status", "revoked_at", "revoked_reason", "revoked_by"])
    caching.certificate_changed(certificate.code)
    status_list.record_status(certificate)  # its credential's bit: cleared
    event = CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEvent.Kind.REINSTATED,
        actor=acting_user,
        detail=reason,
    )
    audit.record(
        "certificate.reinstated",
        actor=acting_user,
        subject=certificate,
        data={"code": certificate.code, "reason": reason, **revoked},
    )
    _notify_on_commit(event, reason)
    # A certificate revoked before its PDF went out is sent now; one already sent is not again.
    transaction.on_commit(lambda: queue_email(certificate.pk))
    return certificate


@transaction.atomic
def reissue_certificate(
    *, certificate: Certificate, acting_user: User, reason: str = ""
) -> Certificate:
    """Replace a valid or revoked certificate with a new, valid one (new code, today's record: a
    corrected name, say); the old one is kept, points to the new, and says so. A revoked one
    stays revoked on its own page, with the replacement beside it. The learner is told."""
    old = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if old.superseded_by_id is not None:
        raise CertificateError(
            _("It was already replaced by %(code)s; reissue that one instead.")
            % {"code": Certificate.objects.get(pk=old.superseded_by_id).code}
        )
    if "reissue" not in allowed_changes(old):
        raise CertificateError(_("Only a valid or revoked certificate can be reissued."))
    reason = reason.strip()
    enrollment = (
        Enrollment.objects.select_for_update(of=("self", "user"))
        .select_related("course", "user")
        .get(pk=old.enrollment_id)
    )
    was = old.status
    # A revoked certificate keeps its status: its page goes on saying when and why it was
    # revoked, and points to the replacement. A valid one is superseded.
    # One certificate per enrollment may lack a successor: the old one points at itself for
    # the moment the new row goes in, then at the new row.
    Certificate.objects.filter(pk=old.pk).update(
        superseded_by=old.pk,
        status=CertificateStatus.REVOKED
        if was == CertificateStatus.REVOKED
        else CertificateStatus.SUPERSEDED,
    )
    replacement = _create(
        enrollment,
        actor=acting_user,
        kind=CertificateEvent.Kind.REISSUED,
        detail=" ".join(filter(None, [_("Replaces %(code)s.") % {"code": old.code}, reason])),
    )
    Certificate.objects.filter(pk=old.pk).update(superseded_by=replacement)
    caching.certificate_changed(old.code)
    caching.learner_changed(enrollment.user_id)  # the old row was updated, not saved
    status_list.record_status(old)  # the old credential's bit: no longer valid
    event = CertificateEvent.objects.create(
        certificate=old,
        kind=CertificateEvent.Kind.REISSUED,
        actor=acting_user,
        detail=" ".join(
            filter(None, [_("Superseded by %(code)s.") % {"code": replacement.code}, reason])
        ),
    )
    audit.record(
        "certificate.reissued",
        actor=acting_user,
        subject=old,
        data={
            "code": old.code,
            "replacement": replacement.code,
            "reason": reason,
            "was": was,
        },
    )
    _notify_on_commit(event, reason)
    return replacement


# The certificate rows the render task reads, each statement compiled once (ceu.rows.Prepared):
# Django's compiler costs more than the database for a locked row with its related rows.
_WITH_CREDENTIAL = Prepared(
    lambda pk: Certificate.objects.select_related("open_badge").filter(pk=pk)
)
# With its enrollment (not locked): saving tells the learner's pages, which need no query for
# whose they are.
_LOCKED_WITH_ENROLLMENT = Prepared(
    lambda pk: (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("enrollment")
        .filter(pk=pk)
    )
)
_LOCKED_TO_SEND = Prepared(
    lambda pk: (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("enrollment__user")
        .annotate(
            # A reissued certificate names the code it replaces: the learner may have filed that
            # one. Read with the row, not after it (one at most: superseded_by is unique).
            replaces_code=Subquery(
                Certificate.objects.filter(superseded_by=OuterRef("pk"))
                .exclude(pk=OuterRef("pk"))
                .values("code")[:1]
            )
        )
        .filter(pk=pk)
    )
)


def render_and_store(*, certificate_id: int) -> Certificate:
    """Render the PDF once and keep it with its SHA-256; a second run leaves the stored file."""
    return _render_and_store(certificate_id)[0]


def render_and_send(certificate_id: int) -> Certificate:
    """The render task's work: render and store the PDF (`render_and_store`), then e-mail it
    (`send_rendered`) with the bytes just written rather than read back from the storage."""
    certificate, pdf = _render_and_store(certificate_id)
    send_rendered(certificate_id, pdf=pdf)
    return certificate


def _render_and_store(certificate_id: int) -> tuple[Certificate, bytes | None]:
    """The certificate, and the PDF this call stored (None where it was rendered already)."""
    from courses.services.certificate_pdf import render_certificate_pdf

    # With its credential where it has one: issuing it at render asks nothing more then.
    certificate = _WITH_CREDENTIAL.get(certificate_id)
    if certificate.is_rendered:
        return certificate, None
    record = record_of(certificate)
    pdf = render_certificate_pdf(
        record,
        verify_url=verify_url(certificate.code),
        page_size=settings.CEU_CERTIFICATE_PAGE_SIZE,
        credential_jwt=badges.credential_for_pdf(certificate),
    )
    # The stored SHA-256 is that of the signed file, the one learners and boards hold.
    pdf = _signed(pdf, record)
    digest = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        certificate = _LOCKED_WITH_ENROLLMENT.get(certificate_id)
        if certificate.is_rendered:
            return certificate, None
        name = f"{certificate.code}.pdf"
        if certificate.pdf:
            certificate.pdf.delete(save=False)
        else:
            # A file left by a render whose worker died before its commit: no record points at
            # it, and the code is this certificate's alone, so it is replaced, not kept beside.
            leftover = certificate.pdf.field.generate_filename(certificate, name)
            if certificate.pdf.storage.exists(leftover):
                certificate.pdf.storage.delete(leftover)
        certificate.pdf.save(name, ContentFile(pdf), save=False)
        certificate.pdf_sha256 = digest
        certificate.rendered_at = timezone.now()
        certificate.save(update_fields=["pdf", "pdf_sha256", "rendered_at"])
        CertificateEvent.objects.create(
            certificate=certificate, kind=CertificateEvent.Kind.RENDERED, detail=digest
        )
    return certificate, pdf


def _signed(pdf: bytes, record) -> bytes:
    """The PDF with the provider's document signature (PAdES). Without a signing key (a
    deployment not yet set up: the go-live checklist and `check --deploy` say so) the learner
    still gets the certificate unsigned, verifiable by its code and hash, and the error is
    logged."""
    try:
        return pdf_signing.sign_pdf(
            pdf,
            reason=_("Certificate %(code)s issued by %(provider)s")
            % {"code": record.code, "provider": record.provider.name},
        )
    except (signing_keys.SigningKeyError, pdf_signing.PdfSigningError):
        logger.exception("Certificate %s is stored without its signature", record.code)
        return pdf


@transaction.atomic
def email_certificate(
    *, certificate_id: int, force: bool = False, pdf: bytes | None = None
) -> bool:
    """Send the learner their certificate with the PDF attached, once (or again when asked).
    Only a valid certificate is ever sent: a revoked or replaced one is not a credential.
    The row is locked while the message goes, so a retried task and the scheduled sweep
    running at once send it once; a refused message records nothing and is tried again.
    `pdf`, the file as the caller has it in hand, is attached only if its SHA-256 is the one
    on record; otherwise the stored file is read."""
    certificate = _LOCKED_TO_SEND.get(certificate_id)
    if certificate.status != CertificateStatus.VALID or certificate.superseded_by_id is not None:
        return False
    if not certificate.is_rendered or (certificate.emailed_at and not force):
        return False
    user = certificate.enrollment.user
    context = {
        "certificate": certificate,
        "record": record_of(certificate),
        "replaces": certificate.replaces_code,
        "user": user,
        "verify_url": verify_url(certificate.code),
        "licences_url": _site_url("accounts:licence_list"),
    }
    subject = " ".join(render_to_string("emails/certificate_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/certificate_message.txt", context),
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("emails/certificate_message.html", context), "text/html"
    )
    if pdf is None or hashlib.sha256(pdf).hexdigest() != certificate.pdf_sha256:
        with certificate.pdf.open("rb") as stored:
            pdf = stored.read()
    message.attach(f"{certificate.code}.pdf", pdf, "application/pdf")
    message.send()
    Certificate.objects.filter(pk=certificate.pk).update(emailed_at=timezone.now())
    caching.learner_changed(user.pk)
    CertificateEvent.objects.create(
        certificate=certificate, kind=CertificateEvent.Kind.EMAILED, detail=user.email
    )
    return True


def resend_certificate(*, certificate: Certificate, acting_user: User) -> Certificate:
    """A registrar's "E-mail again": only a valid, rendered certificate goes out."""
    certificate = Certificate.objects.get(pk=certificate.pk)
    if certificate.status == CertificateStatus.REVOKED:
        raise CertificateError(_("It is revoked: a revoked certificate is never sent as valid."))
    if certificate.status != CertificateStatus.VALID or certificate.superseded_by_id is not None:
        raise CertificateError(_("It was replaced by a reissued certificate; send that one."))
    if not certificate.is_rendered:
        raise CertificateError(
            _("Its PDF is not ready yet; it is e-mailed as soon as it is rendered.")
        )
    with transaction.atomic():
        if not email_certificate(certificate_id=certificate.pk, force=True):
            raise CertificateError(_("It could not be sent; nothing went out."))
        audit.record(
            "certificate.resent",
            actor=acting_user,
            subject=certificate,
            data={"code": certificate.code, "to": certificate.enrollment.user.email},
        )
    return certificate


# The notice for each change a registrar can make, by the event that records it.
_NOTICES = {
    CertificateEvent.Kind.REVOKED: "certificate_revoked",
    CertificateEvent.Kind.REINSTATED: "certificate_reinstated",
    CertificateEvent.Kind.REISSUED: "certificate_reissued",
}


NOTICE_KINDS = tuple(_NOTICES)


def notice_marker(event: CertificateEvent) -> str:
    return f"(event {event.pk})"


@transaction.atomic
def notify_learner(*, event_id: int, reason: str = "") -> bool:
    """Tell the learner by e-mail that their certificate was revoked, reinstated or reissued,
    with the reason and the code that now stands; record it as NOTIFIED. Once per event: a
    second run (a retried task) sends nothing."""
    event = (
        # Only the event row is locked (PostgreSQL refuses to lock the nullable side of the
        # outer join to a replacement): it is what a second run of the task waits on.
        CertificateEvent.objects.select_for_update(of=("self",))
        .select_related("certificate__enrollment__user", "certificate__superseded_by")
        .get(pk=event_id)
    )
    template = _NOTICES.get(event.kind)
    if template is None:
        return False
    certificate = event.certificate
    marker = notice_marker(event)
    if certificate.events.filter(
        kind=CertificateEvent.Kind.NOTIFIED, detail__endswith=marker
    ).exists():
        return False
    user = certificate.enrollment.user
    reissued = event.kind == CertificateEvent.Kind.REISSUED
    replacement = certificate.superseded_by if reissued else None
    if reissued and replacement is None:
        return False
    record = record_of(certificate)
    context = {
        "certificate": certificate,
        "record": record,
        "replacement": replacement,
        "replacement_record": record_of(replacement) if replacement else None,
        "reason": reason,
        "at": timezone.localtime(event.at),
        "user": user,
        "verify_url": verify_url(certificate.code),
        "replacement_url": verify_url(replacement.code) if replacement else "",
        "transcript_url": _site_url("courses:transcript"),
    }
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    EmailMessage(
        subject=subject,
        body=render_to_string(f"emails/{template}_message.txt", context),
        to=[user.email],
    ).send()
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEvent.Kind.NOTIFIED,
        detail=_("Told %(email)s of the change %(marker)s")
        % {"email": user.email, "marker": marker},
    )
    return True

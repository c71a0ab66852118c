"""Certificates: issued once per completed enrollment, rendered and e-mailed after commit,
revoked or reissued with a record of who did it. Nothing here deletes anything."""

import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from courses.codes import new_code
from courses.models import (
    Certificate,
    CertificateEvent,
    CertificateStatus,
    Enrollment,
)
from courses.selectors import current_approvals, current_provider

logger = logging.getLogger(__name__)


class CertificateError(Exception):
    """A certificate action the rules do not allow; the message says why."""


def verify_url(code: str) -> str:
    """The absolute address a board opens from the QR code."""
    return settings.CEU_SITE_URL.rstrip("/") + reverse("courses:verify_code", args=[code])


def snapshot_of(enrollment: Enrollment, *, code: str, issued_at) -> dict:
    """Everything a certificate prints, as it stands now."""
    course = enrollment.course
    user = enrollment.user
    licences = list(user.licences.all())
    professions = {licence.profession for licence in licences}
    approvals = list(
        current_approvals(today=timezone.localdate(enrollment.completed_at))
        .filter(course=course)
        .select_related("accreditor")
        .prefetch_related("accreditor__professions")
    )
    served = [
        approval
        for approval in approvals
        if professions & {p.profession for p in approval.accreditor.professions.all()}
    ]
    provider = current_provider()
    return {
        "code": code,
        "learner_name": user.full_name,
        "licences": [
            {
                "profession": licence.get_profession_display(),
                "profession_code": licence.profession,
                "jurisdiction": licence.jurisdiction_name,
                "jurisdiction_code": licence.jurisdiction,
                "number": licence.number,
            }
            for licence in licences
        ],
        "course_title": course.title,
        "course_slug": course.slug,
        "ce_hours": f"{course.ce_hours.normalize():f}",
        "format": course.get_format_display(),
        "completion_date": timezone.localdate(enrollment.completed_at).isoformat(),
        "presenter": f"{course.presenter_name}, {course.presenter_credentials}",
        "provider": {
            "name": provider.name if provider else "",
            "address": provider.address if provider else "",
            "email": provider.email if provider else "",
            "phone": provider.phone if provider else "",
            "website": provider.website if provider else "",
            "configured": bool(provider and provider.is_configured),
        },
        # The approvals that serve the learner's professions; with no licence on record, every
        # current approval, so the certificate still states what the course carries.
        "approvals": [
            {
                "accreditor": approval.accreditor.short_name,
                "accreditor_name": approval.accreditor.name,
                "provider_number": approval.accreditor.provider_number,
                "hours": f"{approval.hours.normalize():f}",
                "credit_type": approval.credit_type,
                "approval_code": approval.approval_code,
                "statement": approval.statement(provider),
                "professions": sorted(p.profession for p in approval.accreditor.professions.all()),
            }
            for approval in (served if licences else approvals)
        ],
        "issued_at": issued_at.isoformat(),
    }


def _create(enrollment: Enrollment, *, actor: User | None, kind: str, detail: str = ""):
    issued_at = timezone.now()
    code = new_code()
    snapshot = snapshot_of(enrollment, code=code, issued_at=issued_at)
    certificate = Certificate.objects.create(
        code=code,
        enrollment=enrollment,
        snapshot=snapshot,
        issued_at=issued_at,
        learner_name=snapshot["learner_name"],
    )
    CertificateEvent.objects.create(certificate=certificate, kind=kind, actor=actor, detail=detail)
    transaction.on_commit(lambda: _queue_render(certificate.pk))
    return certificate


def _queue_render(certificate_id: int) -> None:
    from courses.tasks import render_certificate

    try:
        render_certificate.delay(certificate_id)
    except Exception:
        # With tasks in-process a rendering failure must not fail the learner's request: the
        # certificate stands ("being prepared") and `render_pending_certificates` retries it.
        logger.exception("Certificate %s was issued but not rendered", certificate_id)


@transaction.atomic
def issue_certificate(*, enrollment: Enrollment) -> Certificate:
    """The certificate of a completed enrollment; calling again, even at the same moment from
    another process, returns the one already issued."""
    enrollment = (
        Enrollment.objects.select_for_update()
        .select_related("course", "user")
        .get(pk=enrollment.pk)
    )
    if enrollment.completed_at is None:
        raise CertificateError(_("The training is not complete yet."))
    current = enrollment.certificates.filter(superseded_by__isnull=True).first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            return _create(enrollment, actor=None, kind=CertificateEvent.Kind.ISSUED)
    except IntegrityError:
        # Another process issued it between our check and our insert (the unique constraint on
        # the current certificate is the last word): theirs stands.
        return enrollment.certificates.get(superseded_by__isnull=True)


@transaction.atomic
def revoke_certificate(*, certificate: Certificate, reason: str, acting_user: User) -> Certificate:
    """Withdraw a certificate: it stays on record and its verify page says revoked, when, why."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    reason = reason.strip()
    if not reason:
        raise CertificateError(_("Give the reason for revoking; boards will read it."))
    if certificate.status != CertificateStatus.VALID:
        raise CertificateError(_("Only a valid certificate can be revoked."))
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason
    certificate.revoked_by = acting_user
    certificate.save(update_fields=["status", "revoked_at", "revoked_reason", "revoked_by"])
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEvent.Kind.REVOKED,
        actor=acting_user,
        detail=reason,
    )
    return certificate


@transaction.atomic
def reissue_certificate(
    *, certificate: Certificate, acting_user: User, reason: str = ""
) -> Certificate:
    """Replace a valid certificate with a new one (new code, today's snapshot: a corrected name,
    say); the old one is kept, marked superseded, and points to the new."""
    old = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if old.status != CertificateStatus.VALID:
        raise CertificateError(_("Only a valid certificate can be reissued."))
    enrollment = (
        Enrollment.objects.select_for_update()
        .select_related("course", "user")
        .get(pk=old.enrollment_id)
    )
    # One certificate per enrollment may lack a successor: the old one points at itself for
    # the moment the new row goes in, then at the new row.
    Certificate.objects.filter(pk=old.pk).update(
        superseded_by=old.pk, status=CertificateStatus.SUPERSEDED
    )
    replacement = _create(
        enrollment,
        actor=acting_user,
        kind=CertificateEvent.Kind.REISSUED,
        detail=_("Replaces %(code)s. %(reason)s") % {"code": old.code, "reason": reason},
    )
    Certificate.objects.filter(pk=old.pk).update(superseded_by=replacement)
    CertificateEvent.objects.create(
        certificate=old,
        kind=CertificateEvent.Kind.REISSUED,
        actor=acting_user,
        detail=_("Superseded by %(code)s. %(reason)s")
        % {"code": replacement.code, "reason": reason},
    )
    return replacement


def render_and_store(*, certificate_id: int) -> Certificate:
    """Render the PDF once and keep it with its SHA-256; a second run leaves the stored file."""
    from courses.services.certificate_pdf import render_certificate_pdf

    certificate = Certificate.objects.get(pk=certificate_id)
    if certificate.is_rendered:
        return certificate
    pdf = render_certificate_pdf(
        certificate.snapshot,
        verify_url=verify_url(certificate.code),
        page_size=settings.CEU_CERTIFICATE_PAGE_SIZE,
    )
    digest = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.is_rendered:
            return certificate
        name = f"{certificate.code}.pdf"
        if certificate.pdf:
            certificate.pdf.delete(save=False)
        certificate.pdf.save(name, ContentFile(pdf), save=False)
        certificate.pdf_sha256 = digest
        certificate.rendered_at = timezone.now()
        certificate.save(update_fields=["pdf", "pdf_sha256", "rendered_at"])
        CertificateEvent.objects.create(
            certificate=certificate, kind=CertificateEvent.Kind.RENDERED, detail=digest
        )
    return certificate


def email_certificate(*, certificate_id: int, force: bool = False) -> bool:
    """Send the learner their certificate with the PDF attached, once (or again when asked)."""
    certificate = Certificate.objects.select_related("enrollment__user").get(pk=certificate_id)
    if not certificate.is_rendered or (certificate.emailed_at and not force):
        return False
    user = certificate.enrollment.user
    context = {
        "certificate": certificate,
        "snapshot": certificate.snapshot,
        "user": user,
        "verify_url": verify_url(certificate.code),
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
    with certificate.pdf.open("rb") as pdf:
        message.attach(f"{certificate.code}.pdf", pdf.read(), "application/pdf")
    message.send()
    Certificate.objects.filter(pk=certificate.pk).update(emailed_at=timezone.now())
    CertificateEvent.objects.create(
        certificate=certificate, kind=CertificateEvent.Kind.EMAILED, detail=user.email
    )
    return True

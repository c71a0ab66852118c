"""Certificates in the admin: read-only records changed only by the actions below (on the list,
and as buttons on a certificate's own page), each of which goes through the same service as the
rest of the site, keeps history and writes the audit trail. An action that changed nothing says so
as a warning, never as a success. Buttons a role cannot use are not shown."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from courses.credentials_record import RecordError, record_of
from courses.models import Certificate, CertificateEvent
from courses.services import credentials


class CertificateEventInline(admin.TabularInline):
    """The certificate's history: issued, rendered, e-mailed, revoked, reinstated, reissued,
    the learner told, and by whom."""

    model = CertificateEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "detail"]
    readonly_fields = fields
    ordering = ["at", "pk"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
    )

    def __init__(self, *args, label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason; it is kept with the record.")
        return reason


# Each action that asks a reason: its page's title, what it tells the registrar, the reason's
# label, and the button.
REASON_PAGES = {
    "revoke_selected": {
        "title": "Revoke certificates",
        "intro": (
            "Revoked certificates stay on record; their verify page, the API and the PDF check "
            "will say they are revoked, when, and why. The learner is told by e-mail."
        ),
        "label": "Reason (shown on the verify page)",
        "submit_label": "Revoke",
    },
    "reinstate_selected": {
        "title": "Reinstate certificates",
        "intro": (
            "A reinstated certificate is valid again, with the same code. Its revocation stays "
            "in its history beside the reinstatement; the learner is told by e-mail."
        ),
        "label": "Reason (kept in the history and sent to the learner)",
        "submit_label": "Reinstate",
    },
    "reissue_selected": {
        "title": "Reissue certificates",
        "intro": (
            "Each certificate is replaced by a new one with a new code, printed from today's "
            "record (a corrected name or licence, say). A revoked one stays revoked on its own "
            "verify page, which points to the replacement. The learner is told by e-mail."
        ),
        "label": "Reason (kept in the history and sent to the learner)",
        "submit_label": "Reissue",
    },
}


# The three changes that ask a reason, each through its service (which alone decides whether it
# is allowed: the refusal is shown as a warning).
def _revoke(certificate: Certificate, reason: str, user) -> Certificate:
    return credentials.revoke_certificate(certificate=certificate, reason=reason, acting_user=user)


def _reinstate(certificate: Certificate, reason: str, user) -> Certificate:
    return credentials.reinstate_certificate(
        certificate=certificate, reason=reason, acting_user=user
    )


def _reissue(certificate: Certificate, reason: str, user) -> Certificate:
    return credentials.reissue_certificate(certificate=certificate, acting_user=user, reason=reason)


# A certificate's own page: each button's change, the page asking its reason, and its wording.
CHANGES = {
    "revoke": (_revoke, "revoke_selected", "Revoke certificate %(code)s"),
    "reinstate": (_reinstate, "reinstate_selected", "Reinstate certificate %(code)s"),
    "reissue": (_reissue, "reissue_selected", "Reissue certificate %(code)s"),
}


def _offered_changes(certificate: Certificate) -> list[str]:
    """The buttons worth showing for the certificate as it stands: the services' own rule."""
    return list(credentials.allowed_changes(certificate))


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "learner_name",
        "course_title",
        "kind",
        "status",
        "issued_at",
        "rendered",
    ]
    list_filter = ["status", "enrollment__course", "issued_at"]
    list_select_related = ["enrollment__course"]
    date_hierarchy = "issued_at"
    # The licence number is searched in the record as printed (the snapshot).
    search_fields = ["code", "learner_name", "enrollment__user__email", "snapshot"]
    readonly_fields = [
        "code",
        "status",
        "kind",
        "learner_name",
        "enrollment",
        "issued_at",
        "snapshot",
        "pdf_file",
        "pdf_sha256",
        "rendered_at",
        "emailed_at",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
        "superseded_by",
    ]
    fields = readonly_fields
    inlines = [CertificateEventInline]
    actions = ["revoke_selected", "reinstate_selected", "reissue_selected", "resend_selected"]

    @admin.display(description="course", ordering="enrollment__course__title")
    def course_title(self, certificate: Certificate) -> str:
        try:
            return record_of(certificate).course_title
        except RecordError:
            return certificate.enrollment.course.title

    @admin.display(description="credit")
    def kind(self, certificate: Certificate) -> str:
        try:
            record = record_of(certificate)
        except RecordError:
            return "?"
        return f"{record.ce_hours_text} CE hours" if record.is_credit else "attendance, no credit"

    @admin.display(description="PDF", boolean=True)
    def rendered(self, certificate: Certificate) -> bool:
        return certificate.is_rendered

    @admin.display(description="PDF")
    def pdf_file(self, certificate: Certificate) -> str:
        # The stored file is private (on disk or in a bucket): staff fetch it through the admin.
        if not certificate.pdf:
            return _("Not rendered yet.")
        return format_html(
            '<a href="{}" id="certificate-pdf">{}</a>',
            reverse("admin:courses_certificate_pdf", args=[quote(certificate.pk)]),
            f"{certificate.code}.pdf",
        )

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/pdf/", view(self.pdf_view), name=f"{info}_pdf"),
            *(
                path(
                    f"<path:object_id>/{change}/",
                    view(self.change_with_reason_view),
                    {"change": change},
                    name=f"{info}_{change}",
                )
                for change in CHANGES
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        certificate = self.get_object(request, object_id)
        buttons = []
        if certificate is not None and self.has_revoke_permission(request):
            buttons = [
                {
                    "change": change,
                    "label": REASON_PAGES[CHANGES[change][1]]["submit_label"] + "…",
                    "url": reverse(
                        f"admin:courses_certificate_{change}", args=[quote(certificate.pk)]
                    ),
                }
                for change in _offered_changes(certificate)
            ]
        extra_context = {**(extra_context or {}), "certificate_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context)

    def pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The certificate's PDF as stored, streamed from the storage to staff who may see it."""
        certificate = self.get_object(request, object_id)
        if certificate is None:
            raise Http404
        if not self.has_view_permission(request, certificate):
            raise PermissionDenied
        if not certificate.pdf:
            raise Http404(_("This certificate has not been rendered yet."))
        try:
            stored = certificate.pdf.open("rb")
        except FileNotFoundError:
            raise Http404(_("The stored PDF is missing: run the certificate file check.")) from None
        response = FileResponse(
            stored,
            as_attachment=True,
            filename=f"{certificate.code}.pdf",
            content_type="application/pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def change_with_reason_view(self, request: HttpRequest, object_id: str, change: str):
        """A button on the certificate's page: asks the reason, then makes the change through
        its service and goes back to the certificate (the replacement, after a reissue)."""
        certificate = self.get_object(request, object_id)
        if certificate is None:
            raise Http404
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        apply, page_key, title = CHANGES[change]
        page = REASON_PAGES[page_key]
        back = reverse("admin:courses_certificate_change", args=[quote(certificate.pk)])
        form = ReasonForm(request.POST if request.method == "POST" else None, label=page["label"])
        if form.is_bound and form.is_valid():
            try:
                result = apply(certificate, form.cleaned_data["reason"], request.user)
            except credentials.CertificateError as refusal:
                self.message_user(request, f"{certificate.code}: {refusal}", messages.WARNING)
                return HttpResponseRedirect(back)
            if change == "reissue":
                self.message_user(
                    request, f"{certificate.code} is replaced by {result.code}.", messages.SUCCESS
                )
                back = reverse("admin:courses_certificate_change", args=[quote(result.pk)])
            else:
                done = {"revoke": "Revoked", "reinstate": "Reinstated"}[change]
                self.message_user(request, f"{done} {certificate.code}.", messages.SUCCESS)
            return HttpResponseRedirect(back)
        return TemplateResponse(
            request,
            "admin/courses/certificate/reason.html",
            {
                **self.admin_site.each_context(request),
                **page,
                "title": title % {"code": certificate.code},
                "rows": [{"certificate": certificate, "record": record_of(certificate)}],
                "form": form,
                "certificate": certificate,
                "cancel_url": back,
                "opts": self.opts,
            },
        )

    def has_add_permission(self, request) -> bool:
        return False  # certificates are issued by completion, never typed in

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept for the retention period, with their history

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a record: changed only by the actions below, which keep history

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("courses.revoke_certificate")

    def _report(self, request, done: int, *, success: str, nothing: str) -> None:
        """One summary line: a success only when something changed."""
        if done:
            self.message_user(request, success % {"count": done}, messages.SUCCESS)
        else:
            self.message_user(request, nothing, messages.WARNING)

    def _with_reason(self, request, queryset, action: str, change) -> TemplateResponse | None:
        """Ask for the reason, then apply `change(certificate, reason)` to each certificate;
        returns how many changed, or the page asking for the reason."""
        page = REASON_PAGES[action]
        form = ReasonForm(request.POST if "reason" in request.POST else None, label=page["label"])
        if form.is_bound and form.is_valid():
            done = 0
            for certificate in queryset:
                try:
                    change(certificate, form.cleaned_data["reason"])
                except credentials.CertificateError as refusal:
                    self.message_user(request, f"{certificate.code}: {refusal}", messages.WARNING)
                else:
                    done += 1
            return done
        return TemplateResponse(
            request,
            "admin/courses/certificate/reason.html",
            {
                **self.admin_site.each_context(request),
                **page,
                "rows": [
                    {"certificate": certificate, "record": record_of(certificate)}
                    for certificate in queryset
                ],
                "form": form,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": self.opts,
            },
        )

    @admin.action(description="Revoke the selected certificates…", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        def revoke(certificate, reason):
            _revoke(certificate, reason, request.user)

        done = self._with_reason(request, queryset, "revoke_selected", revoke)
        if isinstance(done, TemplateResponse):
            return done
        self._report(
            request,
            done,
            success="Revoked %(count)d certificate(s).",
            nothing="No certificate was revoked.",
        )
        return None

    @admin.action(
        description="Reinstate the selected revoked certificates…", permissions=["revoke"]
    )
    def reinstate_selected(self, request, queryset):
        def reinstate(certificate, reason):
            _reinstate(certificate, reason, request.user)

        done = self._with_reason(request, queryset, "reinstate_selected", reinstate)
        if isinstance(done, TemplateResponse):
            return done
        self._report(
            request,
            done,
            success="Reinstated %(count)d certificate(s).",
            nothing="No certificate was reinstated.",
        )
        return None

    @admin.action(
        description="Reissue the selected certificates (new code)…", permissions=["revoke"]
    )
    def reissue_selected(self, request, queryset):
        def reissue(certificate, reason):
            new = _reissue(certificate, reason, request.user)
            self.message_user(
                request, f"{certificate.code} is replaced by {new.code}.", messages.SUCCESS
            )

        done = self._with_reason(request, queryset, "reissue_selected", reissue)
        if isinstance(done, TemplateResponse):
            return done
        if not done:
            self.message_user(request, "No certificate was reissued.", messages.WARNING)
        return None

    @admin.action(
        description="E-mail the selected certificates to their learners again",
        permissions=["revoke"],
    )
    def resend_selected(self, request, queryset):
        sent = 0
        for certificate in queryset:
            try:
                credentials.resend_certificate(certificate=certificate, acting_user=request.user)
            except credentials.CertificateError as refusal:
                self.message_user(request, f"{certificate.code}: {refusal}", messages.WARNING)
            else:
                sent += 1
        self._report(
            request,
            sent,
            success="E-mailed %(count)d certificate(s).",
            nothing="No certificate was e-mailed.",
        )

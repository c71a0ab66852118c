"""Certificates in the admin: read-only records changed only by the actions below, each of which
goes through the same service as the rest of the site and keeps history."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from courses.models import Certificate, CertificateEvent
from courses.services import credentials


class CertificateEventInline(admin.TabularInline):
    """The certificate's history: issued, rendered, e-mailed, revoked, reissued, and by whom."""

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


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Reason (shown on the verify page)",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
    )


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["code", "learner_name", "course_title", "status", "issued_at", "rendered"]
    list_filter = ["status", "enrollment__course", "issued_at"]
    list_select_related = ["enrollment__course"]
    date_hierarchy = "issued_at"
    # The licence number is searched in the record as printed (the snapshot).
    search_fields = ["code", "learner_name", "enrollment__user__email", "snapshot"]
    readonly_fields = [
        "code",
        "status",
        "learner_name",
        "enrollment",
        "issued_at",
        "snapshot",
        "pdf",
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
    actions = ["revoke_selected", "reissue_selected", "resend_selected"]

    @admin.display(description="course", ordering="enrollment__course__title")
    def course_title(self, certificate: Certificate) -> str:
        return certificate.snapshot.get("course_title", "")

    @admin.display(description="PDF", boolean=True)
    def rendered(self, certificate: Certificate) -> bool:
        return certificate.is_rendered

    def has_add_permission(self, request) -> bool:
        return False  # certificates are issued by completion, never typed in

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept for the retention period, with their history

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a record: changed only by the actions below, which keep history

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("courses.revoke_certificate")

    @admin.action(description="Revoke the selected certificates…", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        form = RevokeForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            revoked = 0
            for certificate in queryset:
                try:
                    credentials.revoke_certificate(
                        certificate=certificate,
                        reason=form.cleaned_data["reason"],
                        acting_user=request.user,
                    )
                    revoked += 1
                except credentials.CertificateError as refusal:
                    self.message_user(request, f"{certificate.code}: {refusal}", messages.WARNING)
            self.message_user(request, f"Revoked {revoked} certificate(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/courses/certificate/revoke.html",
            {
                **self.admin_site.each_context(request),
                "title": "Revoke certificates",
                "certificates": queryset,
                "form": form,
                "action": "revoke_selected",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": self.opts,
            },
        )

    @admin.action(
        description="Reissue the selected certificates (new code)", permissions=["revoke"]
    )
    def reissue_selected(self, request, queryset):
        for certificate in queryset:
            try:
                new = credentials.reissue_certificate(
                    certificate=certificate,
                    acting_user=request.user,
                    reason="Reissued from the admin.",
                )
            except credentials.CertificateError as refusal:
                self.message_user(request, f"{certificate.code}: {refusal}", messages.WARNING)
            else:
                self.message_user(
                    request, f"{certificate.code} is replaced by {new.code}.", messages.SUCCESS
                )

    @admin.action(
        description="E-mail the selected certificates to their learners again",
        permissions=["revoke"],
    )
    def resend_selected(self, request, queryset):
        sent = sum(
            credentials.email_certificate(certificate_id=certificate.pk, force=True)
            for certificate in queryset
        )
        self.message_user(request, f"E-mailed {sent} certificate(s).", messages.SUCCESS)

"""The content and post-test as a certified learner met them, opened from the certificate's
page: what an auditor asks for when checking a provider's records."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from courses.codes import parse_code
from courses.models import Certificate
from courses.selectors.offered import attempts_for_audit, content_as_offered


def content_as_offered_view(request: HttpRequest, code: str, *, admin_site) -> HttpResponse:
    if not request.user.has_perm("courses.view_certificate"):
        raise PermissionDenied
    canonical, _problem = parse_code(code)  # also keeps bytes a database refuses out of the query
    certificate = (
        Certificate.objects.select_related("enrollment__course", "enrollment__user")
        .filter(code=canonical)
        .first()
        if canonical
        else None
    )
    if certificate is None:
        raise Http404("No such certificate.")
    enrollment = certificate.enrollment
    # The moment the learner completed the training; the record was written in that transaction.
    at = enrollment.completed_at or certificate.issued_at
    content = content_as_offered(course_id=enrollment.course_id, at=at)
    return TemplateResponse(
        request,
        "admin/courses/certificate/as_offered.html",
        {
            **admin_site.each_context(request),
            "title": f"Content as offered to {certificate.learner_name}",
            "certificate": certificate,
            "content": content,
            "attempts": attempts_for_audit(certificate),
            "opts": Certificate._meta,
        },
    )

"""The admin site: signed in through allauth (its rate limits and two-factor step apply) and
closed to staff who have not set up two-factor authentication."""

from functools import wraps
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _


def staff_needs_mfa(request: HttpRequest) -> bool:
    """True when this staff member must set up two-factor authentication before using the admin."""
    user = request.user
    if not settings.CEU_REQUIRE_STAFF_MFA or not (user.is_active and user.is_staff):
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class CEUAdminSite(admin.AdminSite):
    site_header = _("CE Trainings administration")
    site_title = _("CE Trainings admin")
    index_title = _("Courses, learners and certificates")

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # One sign-in page for everyone: allauth's, so failed-login limits and the
        # two-factor step protect the admin too.
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        # Only an address on this site: a link to the admin must never carry staff elsewhere.
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index")
        if request.user.is_authenticated:
            if request.user.is_active and request.user.is_staff:
                return HttpResponseRedirect(next_url)
            return render(request, "admin/not_staff.html", status=403)
        query = urlencode({REDIRECT_FIELD_NAME: next_url})
        return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def mfa_guard(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if staff_needs_mfa(request):
                messages.warning(
                    request,
                    _(
                        "Set up two-factor authentication to use the admin: it protects "
                        "learners' records and certificates."
                    ),
                )
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
            return inner(request, *args, **kwargs)

        return mfa_guard

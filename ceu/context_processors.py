from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    """What every page needs to know about how this site is set up."""
    return {
        "staff_mfa_required": settings.CEU_REQUIRE_STAFF_MFA,
        "demo_site": settings.CEU_DEMO,
    }

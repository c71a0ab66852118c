from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def go_live_passed() -> bool:
    from courses.services import golive

    return not settings.CEU_GO_LIVE_REQUIRED or golive.passes()


def site(request: HttpRequest) -> dict:
    """What every page needs to know about how this site is set up."""
    return {
        "staff_mfa_required": settings.CEU_REQUIRE_STAFF_MFA,
        "demo_site": settings.CEU_DEMO,
        # Read only by pages that show the sample notice, and then from the cache.
        "go_live_passed": SimpleLazyObject(go_live_passed),
    }

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from courses.admin.golive import go_live_view
from courses.views import badges
from courses.views.media import episode_media

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    # For load balancers and monitors: never rate-limited, no personal data, never cached.
    path("health/", health.health, name="health"),
    path("health/live", health.live, name="health_live"),
    # The certificates' issuer, as did:web and a JWK Set (courses/views/badges.py).
    path(".well-known/did.json", badges.did_document, name="did_document"),
    path(".well-known/jwks.json", badges.jwks, name="jwks"),
    # Where did:web looks when CEU_SITE_URL has a path (did:web:host:path -> /path/did.json).
    path("did.json", badges.did_document),
    path("", include("courses.urls")),
    # Uploaded episode media, from whichever file store holds it (courses/views/media.py).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", episode_media, name="episode_media"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # The go-live checklist, among the admin's pages (courses/admin/golive.py).
    path("admin/go-live/", admin.site.admin_view(go_live_view), name="admin_go_live"),
    path("admin/", admin.site.urls),
]

if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    # The mail provider's tracking webhooks: bounces and complaints (courses/services/messaging.py).
    urlpatterns.append(path("anymail/", include("anymail.urls")))

# The site's own error pages, in its layout (ceu/errors.py). allauth answers its rate limits
# through handler429 too, so every 429 is the same page.
handler400 = "ceu.errors.bad_request"
handler403 = "ceu.errors.permission_denied"
handler404 = "ceu.errors.page_not_found"
handler429 = "ceu.errors.too_many_requests"
handler500 = "ceu.errors.server_error"

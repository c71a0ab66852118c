from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("courses.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

# The site's own error pages, in its layout (ceu/errors.py). allauth answers its rate limits
# through handler429 too, so every 429 is the same page.
handler400 = "ceu.errors.bad_request"
handler403 = "ceu.errors.permission_denied"
handler404 = "ceu.errors.page_not_found"
handler429 = "ceu.errors.too_many_requests"
handler500 = "ceu.errors.server_error"

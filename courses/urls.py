from django.urls import path, re_path

from .views import api, assessment, badges, credentials, learning, messaging

app_name = "courses"

urlpatterns = [
    path("courses/", learning.catalog, name="catalog"),
    path("courses/<slug:slug>/", learning.course_detail, name="course_detail"),
    path("courses/<slug:slug>/enroll/", learning.enroll, name="enroll"),
    path("courses/<slug:slug>/lessons/<int:position>/", learning.lesson, name="lesson"),
    path(
        "courses/<slug:slug>/lessons/<int:position>/captions.vtt",
        learning.lesson_captions,
        name="lesson_captions",
    ),
    path(
        "courses/<slug:slug>/lessons/<int:position>/heartbeat/",
        learning.heartbeat,
        name="heartbeat",
    ),
    path("courses/<slug:slug>/post-test/", assessment.post_test, name="post_test"),
    path("courses/<slug:slug>/post-test/start/", assessment.start_attempt, name="start_attempt"),
    path("courses/<slug:slug>/post-test/attempts/<int:pk>/", assessment.attempt, name="attempt"),
    path(
        "courses/<slug:slug>/post-test/preview/",
        assessment.post_test_preview,
        name="post_test_preview",
    ),
    path("courses/<slug:slug>/evaluation/", assessment.evaluation, name="evaluation"),
    path("courses/<slug:slug>/attest/", assessment.attest, name="attest"),
    path("certificates/<str:code>.pdf", credentials.certificate_pdf, name="certificate_pdf"),
    path("my/transcript/", credentials.transcript, name="transcript"),
    path("my/transcript.pdf", credentials.transcript_pdf, name="transcript_pdf"),
    # Open Badges credentials and their revocation lists (courses/services/badges.py).
    path("credentials/<str:code>.json", badges.credential_json, name="credential_json"),
    path("credentials/<str:code>.jwt", badges.credential_jwt, name="credential_jwt"),
    path("credentials/status/<int:list_id>.json", badges.status_list_json, name="status_list_json"),
    path("credentials/status/<int:list_id>.jwt", badges.status_list_jwt, name="status_list_jwt"),
    path("verify/", credentials.verify, name="verify"),
    path("verify/pdf/", credentials.verify_pdf, name="verify_pdf"),
    path("verify/<str:code>/", credentials.verify_code, name="verify_code"),
    path("api/v1/openapi.json", api.document, name="api_schema"),
    path("api/v1/certificates/verify", api.verify, name="api_verify"),
    # Any text is a code to look up, slashes, newlines and nothing at all included: the API
    # answers it in JSON (400 when it cannot be a code), never with the site's HTML 404.
    re_path(r"^api/v1/certificates/(?P<code>[\s\S]*)$", api.certificate, name="api_certificate"),
    re_path(r"^api(?:/[\s\S]*)?$", api.not_found),  # after every API route
    path("my/trainings/", learning.my_trainings, name="my_trainings"),
    path("policies/<slug:kind>/", learning.policy, name="policy"),
    # Optional mail: one-click unsubscribe and the renewal deadline, by signed link, no sign-in.
    path("messages/unsubscribe/<str:token>/", messaging.unsubscribe, name="unsubscribe"),
    path("messages/renewal/<str:token>.ics", messaging.renewal_calendar, name="renewal_calendar"),
]

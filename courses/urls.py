from django.urls import path

from .views import assessment, credentials, learning

app_name = "courses"

urlpatterns = [
    path("courses/", learning.catalog, name="catalog"),
    path("courses/<slug:slug>/", learning.course_detail, name="course_detail"),
    path("courses/<slug:slug>/enroll/", learning.enroll, name="enroll"),
    path("courses/<slug:slug>/lessons/<int:position>/", learning.lesson, name="lesson"),
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
    path("verify/", credentials.verify, name="verify"),
    path("verify/pdf/", credentials.verify_pdf, name="verify_pdf"),
    path("verify/<str:code>/", credentials.verify_code, name="verify_code"),
    path("api/v1/openapi.json", credentials.api_schema, name="api_schema"),
    path("api/v1/certificates/verify", credentials.api_verify, name="api_verify"),
    path("api/v1/certificates/<str:code>", credentials.api_certificate, name="api_certificate"),
    path("my/trainings/", learning.my_trainings, name="my_trainings"),
    path("policies/<slug:kind>/", learning.policy, name="policy"),
]

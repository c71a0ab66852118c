from django.urls import path

from .views import assessment, learning

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
    path("courses/<slug:slug>/evaluation/", assessment.evaluation, name="evaluation"),
    path("courses/<slug:slug>/attest/", assessment.attest, name="attest"),
    path("my/trainings/", learning.my_trainings, name="my_trainings"),
    path("policies/<slug:kind>/", learning.policy, name="policy"),
]

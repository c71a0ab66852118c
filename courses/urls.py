from django.urls import path

from . import views

app_name = "courses"

urlpatterns = [
    path("courses/", views.catalog, name="catalog"),
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
    path("courses/<slug:slug>/enroll/", views.enroll, name="enroll"),
    path("courses/<slug:slug>/lessons/<int:position>/", views.lesson, name="lesson"),
    path(
        "courses/<slug:slug>/lessons/<int:position>/heartbeat/",
        views.heartbeat,
        name="heartbeat",
    ),
    path("my/trainings/", views.my_trainings, name="my_trainings"),
    path("policies/<slug:kind>/", views.policy, name="policy"),
]

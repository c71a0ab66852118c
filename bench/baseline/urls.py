from django.urls import path

from . import views

urlpatterns = [
    path("one-query/<str:code>/", views.one_query),
    path("hello/", views.hello),
]

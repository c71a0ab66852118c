from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("licences/", views.licence_list, name="licence_list"),
    path("licences/add/", views.licence_add, name="licence_add"),
    path("licences/rules/", views.licence_rules, name="licence_rules"),
    path("licences/<int:pk>/", views.licence_detail, name="licence_detail"),
    path("licences/<int:pk>/edit/", views.licence_edit, name="licence_edit"),
    path("licences/<int:pk>/delete/", views.licence_delete, name="licence_delete"),
]

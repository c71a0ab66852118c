from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CEUConfig(AppConfig):
    default = True
    name = "ceu"
    verbose_name = "CE Trainings"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deployment checks)


class CEUAdminConfig(admin_apps.AdminConfig):
    """The admin, on a site that asks staff for two-factor authentication."""

    default = False
    default_site = "ceu.admin.CEUAdminSite"

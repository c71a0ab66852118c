from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self)

        from .schedules import sync_schedules_after_migrate

        post_migrate.connect(sync_schedules_after_migrate, sender=self)

        from .services import freezing

        freezing.connect()

        from .services import caching

        # A learner's own pages are kept until something of theirs changes.
        caching.connect_learner_signals()

        from .services import messaging

        # Bounces and complaints reported by the mail provider stop optional mail.
        messaging.connect()

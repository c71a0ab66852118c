"""System checks for how the site is deployed."""

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

# Caches that live inside one process: each gunicorn worker would keep its own counts.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def per_process_cache_warnings() -> list[Warning]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) lives inside each process.",
            hint=(
                "Rate limits, failed-login lockouts and the go-live result are counted in the "
                "cache: with several web workers each counts on its own, so a worker more lets "
                "more wrong passwords through. Set CACHE_URL to a shared cache, "
                "e.g. redis://127.0.0.1:6379/1."
            ),
            id="ceu.W001",
        )
    ]


@register(Tags.caches)
def production_uses_a_shared_cache(app_configs, **kwargs) -> list[Warning]:
    """Under the production settings, whenever checks run (`check`, `migrate`, deploy scripts)."""
    if not (settings.SETTINGS_MODULE or "").endswith(".production"):
        return []
    return per_process_cache_warnings()


@register(Tags.caches, deploy=True)
def deployment_uses_a_shared_cache(app_configs, **kwargs) -> list[Warning]:
    """`check --deploy` under any settings, unless the production check already said it."""
    if (settings.SETTINGS_MODULE or "").endswith(".production"):
        return []
    return per_process_cache_warnings()


def credential_key_messages(*, production: bool) -> list[CheckMessage]:
    """A credential key that is named but cannot sign stops the site (ceu.E002). Under the
    production settings a key not named at all is a warning (ceu.W002): certificates are still
    issued, their Open Badges credentials are refused until the key is configured."""
    from courses.services.signing_keys import credential_key_problem

    problem = credential_key_problem()
    if not problem:
        return []
    hint = (
        "`manage.py create_signing_key --dir <folder outside the repository>` writes one; set "
        "CEU_CREDENTIAL_KEY_FILE to it. Keep every key that has signed: its public half stays "
        "published so that what it signed stays verifiable."
    )
    if settings.CEU_CREDENTIAL_KEY_FILE:
        return [Error(problem, hint=hint, id="ceu.E002")]
    return [Warning(problem, hint=hint, id="ceu.W002")] if production else []


@register(Tags.security)
def credential_key_is_usable(app_configs, **kwargs) -> list[CheckMessage]:
    return credential_key_messages(production=False)

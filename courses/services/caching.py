"""Caches of what anyone may look up by certificate code without an account: the public record
the API answers with and the verify page. Each entry is per code (never per visitor), in the
shared cache, and is used only while the certificate's *stamp* is the one it was made under.

The stamp is a random token kept per code. `certificate_changed(code)` deletes it, and every
service that changes what the verify page or the API shows calls it (revocation, reinstatement,
reissue: courses/services/credentials.py); from then on no entry made before matches, in any
process, and the next lookup reads the database again. A lookup takes its stamp before it reads
the database, so one that read the old row just before a change stores its copy under a stamp
nothing matches any more: it cannot put a stale record back.

Entries are also keyed by the release: a digest of the site's code, templates and static file
names and of the settings a record or page shows, so a deploy never serves what an older release
rendered (another shape of record, other templates, static files under other names), while every
process and web node of one release shares its entries. The old entries just expire. A hit
costs one cache round trip (the stamp and the entry are fetched together), or none of its
own when the rate limit's count fetches them (`lookup_keys`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# How long a rendered page or record is kept; a change clears it at once in any case.
ENTRY_SECONDS = 10 * 60
# A stamp outlives the entries made under it; once it expires the next lookup makes a new one.
STAMP_SECONDS = 60 * 60
# What a kept record or page is made of: the site's own code and templates (tests aside).
RELEASE_FOLDERS = ("accounts", "ceu", "courses", "templates")
RELEASE_SUFFIXES = {".py", ".html", ".txt", ".json", ".mo"}


@functools.cache
def release() -> str:
    """A digest of this release, read once per process (a few milliseconds)."""
    digest = hashlib.sha256()
    for name in (django.get_version(), settings.CEU_SITE_URL, settings.TIME_ZONE):
        digest.update(f"{name}\n".encode())
    digest.update(f"{settings.CEU_DEMO}{settings.STATIC_URL}".encode())
    base = Path(settings.BASE_DIR)
    # The static files' names as the pages link them (hashed by collectstatic), where kept.
    files = [Path(settings.STATIC_ROOT) / "staticfiles.json"]
    for folder in RELEASE_FOLDERS:
        files += sorted(
            path
            for path in (base / folder).rglob("*")
            if path.suffix in RELEASE_SUFFIXES and not {"tests", "__pycache__"} & set(path.parts)
        )
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _stamp_key(code: str) -> str:
    return f"certificate-stamp:{code}"


def _entry_key(code: str, kind: str, variant: str) -> str:
    return f"certificate-{kind}:{release()}:{code}:{variant}"


def lookup_keys(code: str, kind: str, *, variant: str = "") -> list[str]:
    """The cache keys `cached_for_code` reads first, for a caller that fetches them itself in
    a round trip it makes anyway (the rate limit's count: ceu/ratelimit.py)."""
    return [_stamp_key(code), _entry_key(code, kind, variant)]


def cached_for_code(
    code: str,
    kind: str,
    build: Callable[[], Any],
    *,
    variant: str = "",
    prefetched: dict[str, Any] | None = None,
) -> Any:
    """What `build()` returns for the certificate with this canonical code, from the cache while
    the certificate is unchanged. `kind` names what is kept ("api-record", "verify-page"...),
    `variant` anything else it depends on (the language a page is in). `build()` returning None
    (no such certificate) is not kept: a code issued later is found at once. `prefetched` may
    hold the values of `lookup_keys()` already read (None for a key not set)."""
    keys = lookup_keys(code, kind, variant=variant)
    if prefetched is None or not all(key in prefetched for key in keys):
        prefetched = cache.get_many(keys)
    stamp, entry = (prefetched.get(key) for key in keys)
    if stamp is not None and entry is not None and entry[0] == stamp:
        return entry[1]
    if stamp is None:
        fresh = uuid.uuid4().hex
        stamp = fresh if cache.add(keys[0], fresh, STAMP_SECONDS) else cache.get(keys[0])
    value = build()
    # No stamp now means the certificate changed while we looked: answer, but keep nothing.
    if value is not None and stamp is not None:
        cache.set(keys[1], (stamp, value), ENTRY_SECONDS)
    return value


def _forget(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:
        # The change stands whatever the cache says; entries made before it expire within
        # ENTRY_SECONDS.
        logger.exception("Cached certificate lookups not cleared: %s", keys)


def certificate_changed(*codes: str) -> None:
    """What the verify page and the API show for these codes changed: nothing cached before
    is used again. Cleared now, and again once the transaction commits, so a lookup made in
    between (which still read the old row) is not kept either."""
    keys = [_stamp_key(code) for code in codes]
    _forget(keys)
    transaction.on_commit(lambda: _forget(keys))


# --- A learner's own pages ----------------------------------------------------------------------
#
# My trainings, the transcript and a lesson are kept per learner (never shared with anyone else),
# as the whole response body, under three tokens: the learner's *stamp* (a random token,
# deleted by `learner_changed` whenever anything of theirs changes: an enrollment, a lesson's
# progress, an attempt, an evaluation, a certificate, a licence, their account), the catalog's
# content version (any course, provider or board-rule edit replaces it) and the release. A page
# is also kept only for its session and CSRF secret (its forms carry the token), its language
# and the site's date, and never past the moment a view names (an archived course closing).


def _learner_stamp_key(user_id: int) -> str:
    return f"learner-stamp:{user_id}"


def learner_changed(*user_ids: int | None) -> None:
    """Something these learners' own pages show changed: nothing kept before is used again.
    Cleared now and once the transaction commits, as for certificates."""
    keys = [_learner_stamp_key(user_id) for user_id in user_ids if user_id is not None]
    if keys:
        _forget(keys)
        transaction.on_commit(lambda: _forget(keys))


def cached_for_learner(
    user_id: int, key: str, build: Callable[[], Any], *, content_version_key: str
) -> Any:
    """The value kept for this learner's page `key`, while neither the learner's stamp nor the
    content version changed since it was kept, and its `until` (None, or an aware datetime) has
    not passed; else what `build()` makes. `build()` returns (value, keep, until): a value not
    to keep (an error page, one with a message for the learner) is answered and forgotten."""
    from django.utils import timezone

    stamp_key = _learner_stamp_key(user_id)
    entry_key = f"learner-page:{release()}:{user_id}:{key}"
    found = cache.get_many([stamp_key, content_version_key, entry_key])
    stamp, version, entry = (found.get(k) for k in (stamp_key, content_version_key, entry_key))
    if (
        entry is not None
        and stamp is not None
        and version is not None
        and entry[0] == (stamp, version)
        and (entry[2] is None or timezone.now() < entry[2])
    ):
        return entry[1]
    if stamp is None:
        fresh = uuid.uuid4().hex
        stamp = fresh if cache.add(stamp_key, fresh, STAMP_SECONDS) else cache.get(stamp_key)
    if version is None:
        fresh = uuid.uuid4().hex
        version = fresh if cache.add(content_version_key, fresh, None) else None
        version = version or cache.get(content_version_key)
    value, keep, until = build()
    # Tokens taken before building: a change while it was built leaves this copy unmatched.
    if keep and stamp is not None and version is not None:
        cache.set(entry_key, ((stamp, version), value, until), ENTRY_SECONDS)
    return value


def _learner_of(instance) -> int | None:
    from accounts.models import User

    if isinstance(instance, User):
        return instance.pk
    if hasattr(instance, "user_id"):
        return instance.user_id
    # Rows of an enrollment: its learner, from the enrollment already loaded where it is.
    from courses.models import Enrollment

    if type(instance)._meta.get_field("enrollment").is_cached(instance):
        return instance.enrollment.user_id
    return (
        Enrollment.objects.filter(pk=instance.enrollment_id)
        .values_list("user_id", flat=True)
        .first()
    )


def _learner_row_changed(sender, instance, **kwargs) -> None:
    learner_changed(_learner_of(instance))


def connect_learner_signals() -> None:
    """Every row a learner's own pages show tells `learner_changed` when it is saved or deleted.
    Writes that bypass save() (queryset updates) call it themselves."""
    from django.db.models.signals import post_delete, post_save

    for model in (
        "accounts.User",
        "accounts.Licence",
        "courses.Enrollment",
        "courses.LessonProgress",
        "courses.RepeatAllowance",
        "courses.QuizAttempt",
        "courses.EvaluationResponse",
        "courses.Certificate",
    ):
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                _learner_row_changed, sender=model, dispatch_uid=f"learner-pages-{name}-{model}"
            )

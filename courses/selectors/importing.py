"""Reads for the import: whether an episode has been made into a course already."""

from django.db.models import Q
from django.utils.text import slugify

from courses.models import Course


def earlier_import(*, title: str, media_url: str = "", source_url: str = "") -> Course | None:
    """The course an earlier import made of the same episode: the same audio address, the same
    episode page, or the title that gives the same address (slug). The newest if several."""
    match = Q()
    stem = slugify(title or "")[:100].strip("-")
    if stem:
        match |= Q(slug=stem)
    if media_url.strip():
        match |= Q(episode__media_url=media_url.strip())
    if source_url.strip():
        match |= Q(episode__source_url=source_url.strip())
    if not match:
        return None
    return Course.objects.filter(match).select_related("episode").order_by("-pk").first()

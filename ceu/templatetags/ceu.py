from datetime import date

from django import template
from django.utils.safestring import SafeString

from ceu.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text)


@register.filter
def timestamp(seconds: int | None) -> str:
    """Seconds as the chapter times podcasts print: M:SS, or H:MM:SS past the hour."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def hours(value) -> str:
    """CE hours without trailing zeros: 0.5, 1, 1.25."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


@register.simple_tag(takes_context=True)
def aria_current(context, url: str) -> SafeString:
    """` aria-current="page"` on a navigation link to the page being shown, so a screen reader
    says which one it is and the style can mark it without relying on colour."""
    request = context.get("request")
    if request is not None and url and request.path == url:
        return SafeString(' aria-current="page"')
    return SafeString("")


@register.filter
def isodate(value: str | date | None) -> date | None:
    """An ISO date string (the public certificate record carries dates so) as a date, to be
    printed with `|date` like every other date on the site."""
    if isinstance(value, date) or not value:
        return value or None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None

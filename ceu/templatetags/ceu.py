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

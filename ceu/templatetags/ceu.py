from datetime import date
from decimal import Decimal

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

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


def _amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


@register.filter
def plural_count(value) -> int:
    """The whole number gettext picks a plural form by, for hours that may be fractional.

    gettext's rules take whole numbers only; a fraction of an hour reads as plural in English
    ("0.5 hours", "1.5 hours"), as any count but one does, so it is counted as two."""
    amount = _amount(value) or Decimal(0)
    return int(amount) if amount == amount.to_integral_value() else 2


def hours_text(value, kind: str = "") -> str:
    """Hours with their unit, singular for exactly one: "1 CE hour", "1.5 CE hours", "2 ethics
    hours". The one rule every page, PDF and e-mail prints hours by."""
    amount = _amount(value)
    if amount is None:
        return ""
    count = plural_count(amount)
    shown = {"hours": hours(amount), "kind": kind}
    if kind:
        return ngettext("%(hours)s %(kind)s hour", "%(hours)s %(kind)s hours", count) % shown
    return ngettext("%(hours)s hour", "%(hours)s hours", count) % shown


@register.filter(name="ce_hours")
def ce_hours_filter(value) -> str:
    """CE hours with their unit: "1 CE hour", "0.5 CE hours"."""
    return hours_text(value, "CE")


@register.filter
def hours_unit(value, kind: str = "") -> str:
    """Hours with their unit, of a kind when one is given: "1 hour", "1 general hour"."""
    return hours_text(value, kind or "")


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

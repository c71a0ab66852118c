"""Authored Markdown to safe HTML: rendered, then sanitised with an allow-list, so a course text
can never carry a script, a style or an event handler onto a learner's page."""

import hashlib

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}


def render_markdown(text: str) -> SafeString:
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


# Stored HTML names the text and the allow-list it was rendered with: a change to either makes
# it stale, and it is rendered again rather than shown.
_RULES = repr((sorted(ALLOWED_TAGS), sorted((k, sorted(v)) for k, v in ALLOWED_ATTRIBUTES.items())))


def _marker(text: str) -> str:
    digest = hashlib.blake2b((_RULES + (text or "")).encode(), digest_size=8).hexdigest()
    return f"<!--md:{digest}-->"


def html_to_store(text: str) -> str:
    """A Markdown text rendered and sanitised to keep beside it, marked with a digest of the
    text it was rendered from."""
    return _marker(text) + render_markdown(text)


def rendered_from(html: str, text: str) -> bool:
    """Whether stored HTML was rendered from this very text."""
    return bool(html) and html.startswith(_marker(text))


def stored_html(html: str, text: str) -> SafeString:
    """A text's HTML as rendered and sanitised when it was saved (`html_to_store`, written only
    by the models' save hook, never from a form). HTML that was not rendered from this very
    text (a row written around the hook: a bulk insert, an update of the text alone) is not
    trusted: the text is rendered here instead, so a page never shows an older version."""
    if rendered_from(html, text):
        return mark_safe(html[len(_marker(text)) :])  # noqa: S308 - sanitised by render_markdown
    return render_markdown(text)

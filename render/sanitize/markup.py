"""Webex's ``html`` message bodies made safe: ammonia (nh3) with an allow-list, then our rewrites.

``message_html`` is the one way a message's HTML reaches a page or the JSON export: only the
allow-listed tags survive (cleaner.py), links get a checked URL and open in a new tab without
referrer, Webex mentions become our spans, and the result is repaired into valid HTML5
(content_model.py).
"""

from __future__ import annotations

import html as htmllib
import re

from markupsafe import escape

from .chars import _strip_unsafe
from .cleaner import clean
from .content_model import fix_content_model
from .links import LINK_ATTRIBUTES, _encode_url, _is_linkable, text_html
from .plain import strip_tags
from .tags import _too_many_tags

_ATTRIBUTE = re.compile(r'([a-z][a-z0-9-]*)="([^"]*)"')
_ANCHOR = re.compile(r'<a((?:\s+[a-z][a-z0-9-]*="[^"]*")*)\s*>')
_MENTION = re.compile(r'<spark-mention((?:\s+[a-z][a-z0-9-]*="[^"]*")*)\s*>')
_PERSON_ID = re.compile(r"[A-Za-z0-9_=+/.:-]{1,256}")


def message_html(html: str) -> str:
    """Sanitise a Webex ``html`` message body into an HTML fragment safe to insert as is.

    The result contains only ALLOWED_TAGS; links keep an http, https or mailto ``href`` and open in
    a new tab without referrer or opener, links whose URL was refused lose every attribute (an
    ``<a>`` without href is inert); Webex mentions become ``<span class="mention"
    data-person="ID">Name</span>`` and group mentions ``<span class="mention mention-all">``.
    Insert it inside a ``<div>`` (it may contain blocks such as ``<p>`` and ``<ul>``).
    """
    if _too_many_tags(html):
        return text_html(strip_tags(html))
    cleaned = _strip_unsafe(clean(html))  # again: character references are decoded by ammonia
    # Each rewrite only where its tag is (a substring test costs a tenth of a scan).
    if "<a" in cleaned:
        cleaned = _ANCHOR.sub(_rewrite_anchor, cleaned)
    if "spark-mention" in cleaned:
        cleaned = _MENTION.sub(_rewrite_mention, cleaned)
        cleaned = cleaned.replace("</spark-mention>", "</span>")
    if "strike>" in cleaned:
        cleaned = _STRIKE.sub(r"<\1s>", cleaned)
    return fix_content_model(cleaned)


# <strike> is obsolete in HTML5 (the Nu Html Checker refuses it); <s> means the same.
_STRIKE = re.compile(r"<(/?)strike>")


def _attributes(source: str) -> dict[str, str]:
    """Attributes of a tag in ammonia's output, values unescaped."""
    return {name: htmllib.unescape(value) for name, value in _ATTRIBUTE.findall(source)}


def _rewrite_anchor(match: re.Match[str]) -> str:
    """An ``<a>`` that kept its href becomes a new-tab, no-referrer link; any other is inert."""
    href = _attributes(match.group(1)).get("href", "").strip()
    if not href or (href[:5].lower() in ("http:", "https") and not _is_linkable(href)):
        return "<a>"  # no URL, or an http(s) URL whose host is unusable or carries credentials
    return f'<a href="{escape(_encode_url(href))}" {LINK_ATTRIBUTES}>'


def _rewrite_mention(match: re.Match[str]) -> str:
    """A ``<spark-mention>`` start tag becomes our span; only attributes we write survive."""
    attributes = _attributes(match.group(1))
    kind = attributes.get("data-object-type")
    if kind == "groupMention" and attributes.get("data-group-type") == "all":
        return '<span class="mention mention-all">'
    person = attributes.get("data-object-id", "")
    if kind == "person" and _PERSON_ID.fullmatch(person):
        return f'<span class="mention" data-person="{escape(person)}">'
    return '<span class="mention">'

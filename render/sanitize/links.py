"""URLs: percent-encoding what a page may not carry, and http(s) links in plain text.

``text_html`` turns a plain-text message body into HTML: escaped, line breaks as ``<br>``,
each http(s) URL with a usable host linked exactly once.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import escape

from .chars import _strip_unsafe

LINK_ATTRIBUTES = 'target="_blank" rel="noopener noreferrer nofollow"'

# Characters the URL standard (and the Nu Html Checker) refuse after the host; percent-encoded so
# that the link still works and the page stays valid.
_URL_PARTS = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:(?://[^/?#]*)?)(.*)$", re.S)
_URL_ILLEGAL = re.compile(r"""[\s"<>`{}|\\^\[\]\x00-\x1f\x7f]|%(?![0-9A-Fa-f]{2})""")


def _encode_url(url: str) -> str:
    """Percent-encode what may not appear in a URL's path, query or fragment (keeps the host)."""
    parts = _URL_PARTS.match(url)
    if parts is None:
        return url
    head, rest = parts.groups()
    fragment_at = rest.find("#")
    if fragment_at >= 0:  # a second '#' is not allowed inside the fragment
        rest = rest[: fragment_at + 1] + rest[fragment_at + 1 :].replace("#", "%23")
    return head + _URL_ILLEGAL.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), rest)


# http(s) URLs in plain text: up to whitespace, angle brackets or a double quote (which is how
# URLs are delimited in prose, and keeps `"onmouseover=` tricks out of the link).
_TEXT_URL = re.compile(r"""https?://[^\s<>"]+""", re.IGNORECASE)
_TRAILING = ".,;:!?'*"
_BRACKETS = {")": "(", "]": "[", "}": "{"}
# A host as the URL standard accepts it (no '%', no '@'), or an IPv6 literal; then a port.
_HOST = re.compile(r"(?:[\w.~!$&'()*+,;=-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?")


def _trim_url(url: str) -> str:
    """Drop trailing punctuation that belongs to the sentence, keeping balanced brackets.

    Linear time: counts are kept, not recomputed (a URL may be a megabyte of ')').
    """
    unmatched = {close: url.count(close) - url.count(open_) for close, open_ in _BRACKETS.items()}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _TRAILING:
            end -= 1
        elif unmatched.get(last, 0) > 0:
            unmatched[last] -= 1
            end -= 1
        else:
            break
    return url[:end]


def _is_linkable(url: str) -> bool:
    """A URL worth a link: it parses and has a plausible host, without user or password.

    Credentials are refused because ``https://bank.example@evil.example/`` reads as the bank
    but goes elsewhere (and HTML5 forbids them in ``href``); hosts with characters the URL
    standard forbids (``%``, spaces, brackets that are not IPv6) would give an invalid page.
    """
    try:
        host = urlsplit(url).netloc
    except ValueError:  # e.g. an unbalanced '[' in the host
        return False
    found = _HOST.fullmatch(host) if host else None
    return found is not None and int(found.group(1) or 0) <= 65535


def text_html(text: str) -> str:
    """Escape a plain-text message body into HTML: ``<br>`` for line breaks, http(s) URLs linked.

    Each URL is linked exactly once (the text is scanned once, never re-replaced); trailing
    sentence punctuation stays outside the link; the link text is the URL as typed, the ``href``
    is the same URL percent-encoded where needed and escaped for the attribute. Control
    characters (except tab) and bidi overrides are removed; ``\\r\\n`` and ``\\r`` count as a
    line break.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _strip_unsafe(text)
    if "://" not in text:  # no URL (most texts): one substring search, not the regex's scan
        return str(escape(text)).replace("\n", "<br>")
    return _linked(text)


def _linked(text: str) -> str:
    """text_html of a text with its line breaks and unsafe characters already seen to."""
    parts: list[str] = []
    position = 0
    for match in _TEXT_URL.finditer(text):
        url = _trim_url(match.group())
        if not _is_linkable(url):
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(f'<a href="{escape(_encode_url(url))}" {LINK_ATTRIBUTES}>{escape(url)}</a>')
        position = match.start() + len(url)
    parts.append(escape(text[position:]))
    return "".join(parts).replace("\n", "<br>")

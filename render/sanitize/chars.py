"""Characters that must never reach a page or a terminal, and single-line display strings.

``strip_unsafe`` removes what is invalid in HTML, unencodable, or reorders the page (bidi
controls); ``clean_inline`` makes a name, title or file name one clean line. Neither escapes:
the templates and render/article.py do that.
"""

from __future__ import annotations

import re

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff"
_ASTRAL_NONCHARACTERS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(1, 17)
)
# C0 controls except tab and newline, DEL, C1 controls, lone surrogates (cannot be encoded),
# noncharacters (invalid in HTML) and the bidi embeddings/overrides/isolates (they visually
# reorder whatever follows them on the page). The noncharacters beyond U+FFFF have a pattern of
# their own: in one character class with the rest they made every search eight times slower,
# and only text with such characters needs it.
_UNSAFE_CHARS = re.compile(
    f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}{_BIDI_CONTROLS}]"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_UNSAFE_ASTRAL = re.compile(f"[{_ASTRAL_NONCHARACTERS}]")


def strip_unsafe(text: str) -> str:
    """Remove characters that are invalid in HTML, unencodable, or reorder the page (bidi).

    The HTML writer applies it to every value it prints, so that no untrusted string (an
    email in a tooltip, a domain) brings NUL, ESC or bidi controls into the page, whichever
    path it took."""
    text = _UNSAFE_CHARS.sub("", text)
    if not text.isascii() and _ASTRAL.search(text):
        text = _UNSAFE_ASTRAL.sub("", text)
    return text


_strip_unsafe = strip_unsafe


_WHITESPACE = re.compile(r"\s+")


def clean_inline(text: str) -> str:
    """Clean a single-line untrusted string (title, display name, file name) for display.

    Line breaks, tabs and other whitespace collapse to single spaces; control characters and
    bidi overrides are removed (a name ending in U+202E would mirror the rest of its line).
    The result is NOT escaped: templates insert it through jinja2's autoescape, which does that.
    """
    text = _strip_unsafe(_WHITESPACE.sub(" ", _TERMINAL_SEQUENCE.sub("", text)))
    return _WHITESPACE.sub(" ", text).strip()


# Whole terminal escape sequences (CSI such as ESC[31m, and OSC titles), not just the ESC.
_TERMINAL_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")

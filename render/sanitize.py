"""Untrusted message content in, safe HTML fragments (or clean text) out.

Everything shown in an archive page was written by someone else: message bodies, names, titles,
file names. The page is self-contained and kept for years, so nothing in it may execute, fetch
anything, or rearrange the page around it. This module is the one place where untrusted strings
become markup; every function is pure (no I/O, no state) so it can be tested exhaustively.

- Webex's ``html`` field goes through ammonia (the ``nh3`` bindings) with an explicit allow-list,
  then a few fixed rewrites of ammonia's normalised output (links, mentions).
- Plain ``text`` is escaped by us, with line breaks and http(s) links added.
- Single-line strings (names, titles) are only cleaned of invisible troublemakers; escaping them is
  left to jinja2's autoescape, which the templates rely on.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from markupsafe import escape

__all__ = [
    "clean_inline",
    "fix_content_model",
    "message_html",
    "redact",
    "redact_html",
    "strip_tags",
    "strip_unsafe",
    "text_html",
]

# Tags a chat message may use. No img (it would fetch), no div (layout is ours), no forms, media,
# frames, svg or math; unknown tags are unwrapped (their text stays).
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "b", "strong", "i", "em", "u", "s", "del", "strike", "code", "pre",
        "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "table", "thead", "tbody", "tr", "th", "td", "span", "sub", "sup", "spark-mention",
    }
)  # fmt: skip

# Tags whose *content* is dropped too: their text is code or markup, never something to read.
DROPPED_CONTENT_TAGS = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object",
        "embed", "svg", "math", "textarea", "select", "title", "xmp", "noembed", "noframes",
    }
)  # fmt: skip

# Only these attributes survive: an <a>'s href (checked against URL_SCHEMES) and the data-* that
# identify a Webex mention. No class, id, style or event handler ever comes from the input.
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "spark-mention": {"data-object-type", "data-object-id", "data-group-type"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_ATTRIBUTES = 'target="_blank" rel="noopener noreferrer nofollow"'

# ammonia's parser (html5ever) slows down quadratically with nesting depth: 5,000 nested
# blockquotes take ~70 ms, 100,000 nested divs ~25 s. Nesting can never exceed the number of start
# tags, so above this many the body is shown as plain text instead (no real chat message has it).
MAX_TAGS = 10_000

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# C0 controls except tab and newline, DEL, C1 controls, lone surrogates (cannot be encoded),
# noncharacters (invalid in HTML) and the bidi embeddings/overrides/isolates (they visually
# reorder whatever follows them on the page).
_UNSAFE_CHARS = re.compile(
    f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}{_BIDI_CONTROLS}]"
)
_START_TAG = re.compile(r"<[A-Za-z]")
# A tag. Exact on ammonia's and our own output (attribute values there never hold a raw `<` or
# `>`), good enough on raw input, and linear time on anything.
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/<>]*)[^<>]*>")
_ATTRIBUTE = re.compile(r'([a-z][a-z0-9-]*)="([^"]*)"')
_ANCHOR = re.compile(r'<a((?:\s+[a-z][a-z0-9-]*="[^"]*")*)\s*>')
_MENTION = re.compile(r'<spark-mention((?:\s+[a-z][a-z0-9-]*="[^"]*")*)\s*>')
_PERSON_ID = re.compile(r"[A-Za-z0-9_=+/.:-]{1,256}")


def _strip_unsafe(text: str) -> str:
    """Remove characters that are invalid in HTML, unencodable, or reorder the page (bidi)."""
    return _UNSAFE_CHARS.sub("", text)


def strip_unsafe(text: str) -> str:
    """Public _strip_unsafe: the HTML writer applies it to every value a template prints, so
    that no untrusted string (an email in a tooltip, a domain) brings NUL, ESC or bidi controls
    into the page, whichever path it took."""
    return _strip_unsafe(text)


def _clean(html: str) -> str:
    """Run ammonia with this module's allow-list; output is normalised, balanced HTML."""
    return nh3.clean(
        _strip_unsafe(html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_CONTENT_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        strip_comments=True,
        link_rel=None,  # rel and target are added below, and only to links that keep an href
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",  # relative and scheme-relative URLs would resolve against file://
    )


def _too_many_tags(html: str) -> bool:
    """True when parsing `html` could take long enough to stall a render (see MAX_TAGS)."""
    return len(_START_TAG.findall(html)) > MAX_TAGS


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
    cleaned = _strip_unsafe(_clean(html))  # again: character references are decoded by ammonia
    cleaned = _ANCHOR.sub(_rewrite_anchor, cleaned)
    cleaned = _MENTION.sub(_rewrite_mention, cleaned)
    cleaned = _STRIKE.sub(r"<\1s>", cleaned.replace("</spark-mention>", "</span>"))
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


# ----- the HTML5 content model ----------------------------------------------------------------
#
# ammonia returns balanced markup, but the HTML parser happily builds trees HTML5 forbids:
# "<b><p>x</p></b>" (a block inside an inline element), "<li>" outside a list, text directly in
# "<ul>" or "<table>" (left behind when ammonia unwraps a <caption>, <div> or <dl>), a row
# without cells. Browsers cope, but the page must stay valid (the Nu Html Checker is the judge),
# so fix_content_model repairs the tree in one streaming pass: a block inside phrasing content
# is unwrapped (its text stays, followed by a line break), a stray list item gets a <ul>, stray
# content in a list or table gets the <li> or <tr><td> it needs.

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements allowed only where flow content is (not inside <b>, <span>, <p>, ...).
_FLOW_ONLY = frozenset({"p", "pre", "blockquote", "ul", "ol", "hr", "table"}) | _HEADINGS
# What the content of each container may be; elements not listed hold phrasing content.
_CONTENT_MODE = {"blockquote": "flow", "li": "flow", "td": "flow", "th": "flow",
                 "ul": "list", "ol": "list", "table": "table", "thead": "section",
                 "tbody": "section", "tr": "row"}  # fmt: skip
_TRANSPARENT = frozenset({"a", "del"})  # their content model is their parent's
_VOID = frozenset({"br", "hr"})
_TABLE_MODES = frozenset({"table", "section", "row"})
# Browsers flatten a document deeper than 512 elements (the checker calls it an error); a
# message sits about ten levels down the page, so it may use this many, deeper tags are dropped.
MAX_DEPTH = 400


@dataclass
class _Frame:
    """An open element: its content mode, whether its tags are written, whether we added it."""

    tag: str
    mode: str  # flow | phrasing | list | table | section | row
    emitted: bool = True
    auto: bool = False
    in_th: bool = False  # headings may not appear inside a <th>
    cells: int = 0  # for <tr>: cells written so far
    quiet: bool = False  # unwrapped for depth: no line break when it ends


class _ContentModel:
    """The streaming repair behind fix_content_model (see the comment above)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.stack: list[_Frame] = [_Frame("", "flow", emitted=False)]
        self.depth = 0  # elements written and open

    @property
    def top(self) -> _Frame:
        return self.stack[-1]

    def text(self, data: str) -> None:
        if not data:
            return
        if data.strip(" \t\n\r\f"):
            self._settle(None)
            self._into_container()
        self.out.append(data)

    def start(self, tag: str, source: str) -> None:
        self._settle(tag)
        if self.depth >= MAX_DEPTH:
            self._into_container()
            if tag not in _VOID:
                self._push(_Frame(tag, self.top.mode, emitted=False, quiet=True))
            return None
        if tag in ("thead", "tbody", "tr", "td", "th"):
            return self._table_part(tag, source)
        if tag == "li":
            if self.top.mode in _TABLE_MODES:
                self._into_container()
            if self.top.mode == "flow":
                self._auto("ul", "list")
            if self.top.mode == "list":
                return self._open(tag, source, "flow")
            return self._unwrap(tag)
        self._into_container()
        mode = self.top.mode
        if tag in _FLOW_ONLY and (mode == "phrasing" or (tag in _HEADINGS and self.top.in_th)):
            return self._unwrap(tag)
        if tag in _TRANSPARENT:
            return self._open(tag, source, mode)
        return self._open(tag, source, _CONTENT_MODE.get(tag, "phrasing"))

    def end(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            frame = self.stack[index]
            if frame.tag == tag and not frame.auto:
                while len(self.stack) > index:
                    self._close(self._pop())
                return
        # an end tag without its start tag (not in ammonia's output): dropped

    def result(self) -> str:
        while len(self.stack) > 1:
            self._close(self._pop())
        return "".join(self.out)

    def _push(self, frame: _Frame) -> None:
        self.stack.append(frame)
        self.depth += frame.emitted

    def _pop(self) -> _Frame:
        frame = self.stack.pop()
        self.depth -= frame.emitted
        return frame

    def _table_part(self, tag: str, source: str) -> None:
        mode = self.top.mode
        if tag in ("thead", "tbody"):
            return self._open(tag, source, "section") if mode == "table" else self._unwrap(tag)
        if tag == "tr":
            if mode in ("table", "section"):
                return self._open(tag, source, "row")
            return self._unwrap(tag)
        if mode in ("table", "section"):
            self._auto("tr", "row")
        if self.top.mode != "row":
            return self._unwrap(tag)
        self.top.cells += 1
        return self._open(tag, source, "flow", in_th=tag == "th")

    def _into_container(self) -> None:
        """Content that a list or a table cannot hold directly gets an <li> or a cell."""
        mode = self.top.mode
        if mode == "list":
            self._auto("li", "flow")
        elif mode in _TABLE_MODES:
            if mode != "row":
                self._auto("tr", "row")
            self.top.cells += 1
            self._auto("td", "flow")

    def _settle(self, tag: str | None) -> None:
        """Close the elements we added once what follows no longer belongs in them."""
        while self.top.auto:
            top = self.top.tag
            if (
                (top == "ul" and tag != "li")
                or (top == "li" and tag == "li")
                or (top == "td" and tag in ("td", "th", "tr", "thead", "tbody"))
                or (top == "tr" and tag in ("tr", "thead", "tbody"))
            ):
                self._close(self._pop())
            else:
                return

    def _open(self, tag: str, source: str, mode: str, in_th: bool = False) -> None:
        self.out.append(source)
        if tag not in _VOID:
            self._push(_Frame(tag, mode, in_th=in_th or self.top.in_th))

    def _auto(self, tag: str, mode: str) -> None:
        self.out.append(f"<{tag}>")
        self._push(_Frame(tag, mode, auto=True, in_th=self.top.in_th))

    def _unwrap(self, tag: str) -> None:
        """Keep the content, drop the tags (closed by a line break, see _close)."""
        if tag == "hr":
            self.out.append("<br>")
        elif tag not in _VOID:
            self._push(_Frame(tag, self.top.mode, emitted=False, in_th=self.top.in_th))

    def _close(self, frame: _Frame) -> None:
        if frame.tag == "tr" and frame.emitted and not frame.cells:
            self.out.append("<td></td>")  # a row without cells is an error in HTML5 tables
        if frame.emitted:
            self.out.append(f"</{frame.tag}>")
        elif frame.tag in ("td", "th"):
            self.out.append(" ")
        elif not frame.quiet:
            self.out.append("<br>")


def fix_content_model(html: str) -> str:
    """Balanced, allow-listed HTML (message_html's) made valid HTML5 inside a ``<div>``.

    Blocks inside phrasing elements are unwrapped (text kept, then a ``<br>``), a stray
    ``<li>`` gets a ``<ul>``, text or elements directly in a list or table get an ``<li>`` or a
    ``<tr><td>``, table parts outside a table are unwrapped, so are headings inside ``<th>``,
    a row without cells gets an empty one, and tags nested deeper than MAX_DEPTH are dropped
    (their text stays). Valid input comes back unchanged. Linear time.
    """
    fixer = _ContentModel()
    position = 0
    for match in _TAG.finditer(html):
        fixer.text(html[position : match.start()])
        name = match.group(2).lower()
        if match.group(1):
            fixer.end(name)
        else:
            fixer.start(name, match.group())
        position = match.end()
    fixer.text(html[position:])
    return fixer.result()


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
    text = _strip_unsafe(text.replace("\r\n", "\n").replace("\r", "\n"))
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


_BLOCK_TAGS = frozenset(
    {
        "p", "div", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "table", "thead", "tbody", "tr",
    }
)  # fmt: skip
_COLLAPSIBLE = re.compile(r"[ \t\n\r\f]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextCollector:
    """Builds the plain text of a tag stream: blocks start new lines, list items get markers."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.lists: list[int] = []  # per open list: 0 for <ul>, else the next <ol> number
        self.pre = 0

    def newline(self) -> None:
        """Start a new line unless already at the start of one."""
        if self.out and not self.out[-1].endswith("\n"):
            self.out[-1] = self.out[-1].rstrip(" ")
            self.out.append("\n")

    def text(self, data: str) -> None:
        """Add character data; outside <pre>, whitespace runs collapse as a browser would."""
        if not self.pre:
            data = _COLLAPSIBLE.sub(" ", data)
            if not self.out or self.out[-1].endswith((" ", "\n")):
                data = data.lstrip(" ")
        if data:
            self.out.append(htmllib.unescape(data))

    def tag(self, closing: bool, name: str) -> None:
        """React to a start or end tag."""
        if name == "br":
            self.out.append("\n")
        elif name in ("ul", "ol"):
            self.newline()
            if closing and self.lists:
                self.lists.pop()
            elif not closing:
                self.lists.append(1 if name == "ol" else 0)
        elif name == "li" and not closing:
            self.newline()
            number = self.lists[-1] if self.lists else 0
            self.out.append(f"{number}. " if number else "- ")
            if number:
                self.lists[-1] += 1
        elif name in ("td", "th") and closing:
            self.out.append("\t")
        elif name in _BLOCK_TAGS:
            self.newline()
            if name == "pre":
                self.pre = max(0, self.pre + (-1 if closing else 1))

    def result(self) -> str:
        """The collected text, without trailing spaces per line or runs of blank lines."""
        lines = "".join(self.out).split("\n")
        return _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in lines)).strip("\n")


def strip_tags(html: str) -> str:
    """The readable text of a message's HTML, for the TXT transcript and for search.

    Accepts raw Webex html or message_html output. Script/style content and comments are dropped
    (the html is sanitised first); paragraphs, headings, quotes and list items start new lines,
    ``<br>`` is a line break, ``<ul>`` items start with ``- `` and ``<ol>`` items with ``1. ``;
    entities are decoded. Beyond MAX_TAGS start tags the tags are simply removed (linear time).
    """
    source = _strip_unsafe(html) if _too_many_tags(html) else _clean(html)
    collector = _TextCollector()
    position = 0
    for match in _TAG.finditer(source):
        collector.text(source[position : match.start()])
        collector.tag(match.group(1) == "/", match.group(2).lower())
        position = match.end()
    collector.text(source[position:])
    return _strip_unsafe(collector.result())


def _replacement_pattern(keys: list[str]) -> re.Pattern[str] | None:
    """One alternation of all keys, longest first, so that "Ann Lee" wins over "Ann"."""
    keys = sorted({key for key in keys if key}, key=len, reverse=True)
    if not keys:
        return None
    return re.compile("|".join(re.escape(key) for key in keys), re.IGNORECASE)


def _lookup(replacements: Mapping[str, str]) -> dict[str, str]:
    """Case-folded key -> value, for finding the value of a case-insensitive match."""
    return {key.casefold(): value for key, value in replacements.items() if key}


def _value_for(found: str, folded: dict[str, str], replacements: Mapping[str, str]) -> str:
    """The replacement for a matched key, however its case differs from the key's."""
    value = folded.get(found.casefold())
    if value is None:  # case folding and re.IGNORECASE disagree on some letters
        value = next(
            (v for k, v in replacements.items() if k and re.fullmatch(re.escape(k), found, re.I)),
            found,
        )
    return value


def redact(text: str, replacements: Mapping[str, str]) -> str:
    """Replace each key (a name or email) in plain text by its value (a pseudonym), for --blur.

    Matching is case-insensitive, longest key first, in a single pass: a pseudonym that happens to
    contain another key is never replaced again.
    """
    pattern = _replacement_pattern(list(replacements))
    if pattern is None:
        return text
    folded = _lookup(replacements)
    return pattern.sub(lambda m: _value_for(m.group(), folded, replacements), text)


_ENTITY = r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"


def redact_html(html: str, replacements: Mapping[str, str]) -> str:
    """redact() for sanitised HTML (message_html or text_html output): text between tags only.

    Tags, attribute values (hrefs, data-person) and character references are left intact; keys
    are looked for in every escaped form our two producers emit (ammonia escapes ``& < >`` in
    text, markupsafe also quotes), and values are inserted escaped. A key split by markup
    (``<b>Al</b>ice``) is not found.
    """
    variants: dict[str, str] = {}
    for key, value in replacements.items():
        if key:
            for form in (htmllib.escape(key, quote=False), str(escape(key))):
                variants.setdefault(form, str(escape(value)))
    keys = sorted(variants, key=len, reverse=True)
    if not keys:
        return html
    keys_pattern = "|".join(re.escape(key) for key in keys)
    # Keys first, then whole entities: a key may start with '&amp;', but 'amp' inside '&amp;' is
    # consumed by the entity alternative and never matched on its own.
    pattern = re.compile(f"({keys_pattern})|{_ENTITY}", re.IGNORECASE)
    folded = _lookup(variants)

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group()
        return _value_for(match.group(), folded, variants)

    out: list[str] = []
    position = 0
    for tag in _TAG.finditer(html):
        out.append(pattern.sub(substitute, html[position : tag.start()]))
        out.append(tag.group())
        position = tag.end()
    out.append(pattern.sub(substitute, html[position:]))
    return "".join(out)


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

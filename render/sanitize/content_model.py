"""The HTML5 content model: sanitised markup repaired into a valid fragment, in one pass."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tags import _TAG

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
    return html if _shape_needs_no_repair(html) else _repair(html)


def _repair(html: str) -> str:
    """fix_content_model's repair, which gives valid input back unchanged (more slowly)."""
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


_TABLE_PARTS = frozenset({"table", "thead", "tbody", "tr", "td", "th"})


def _needs_no_repair(html: str) -> bool:
    """True when _ContentModel would give ``html`` back unchanged: a quick check for the
    common case (paragraphs, lists, quotes, inline markup, no tables) that only follows the
    content modes. Anything it is not sure of (a table, a stray item, a block in phrasing
    content, unbalanced or unusual end tags, great depth) says False, and the repair runs.
    """
    names, modes = [""], ["flow"]
    position = 0
    for match in _TAG.finditer(html):
        mode = modes[-1]
        if mode == "list" and html[position : match.start()].strip(" \t\n\r\f"):
            return False  # text directly in a list
        position = match.end()
        name = match.group(2).lower()
        if match.group(1):
            if len(names) == 1 or names[-1] != name or match.group() != f"</{name}>":
                return False
            names.pop()
            modes.pop()
            continue
        if name in _TABLE_PARTS or len(names) > MAX_DEPTH:
            return False
        if (mode == "list") != (name == "li") or (mode == "phrasing" and name in _FLOW_ONLY):
            return False
        if name not in _VOID:
            names.append(name)
            modes.append(mode if name in _TRANSPARENT else _CONTENT_MODE.get(name, "phrasing"))
    return len(names) == 1


# ----- the same answer, remembered by shape ----------------------------------------------------
#
# _needs_no_repair reads of a body only its shape: for each tag whether it ends, its name in
# lower case and whether an end tag is exactly ``</name>``; between two tags only whether there
# is text that is not white space (and it looks at that only inside a list). Chat bodies have a
# handful of shapes ("<p>...</p>", "<p><a>...</a></p>", "<ul><li>..."), so the answer is kept
# per shape, written as one string by one findall in C: a start tag's name as written, an end
# tag whole (``/p``, ``/P ``), an empty token for text between tags that is not white space, all
# joined by ">" (which no token holds). The expression finds exactly _TAG's tags (the same
# starts and ends; a tag takes the white space after it) and, at every other place of the body
# without its leading white space, text up to the next "<": every character is read once
# (linear time on anything, no place where nothing matches). A shape seen once in a body of
# thousands of tags is not worth keeping: keys longer than SHAPE_KEY are not, and the cache
# starts over at SHAPES entries (memory stays bounded).
_SHAPE = re.compile(
    r"<(/[A-Za-z][^<>]*(?=>)|[A-Za-z][^\s/<>]*)(?:[\s/][^<>]*)?>[ \t\n\r\f]*"  # a tag
    r"|[^ \t\n\r\f<][^<]*"  # text
    r"|<[^<]*"  # a "<" that starts no tag: text
)
SHAPE_KEY = 1000  # characters of the longest shape kept
SHAPES = 1000  # shapes kept before the cache starts over
_SHAPES: dict[str, bool] = {}


def _shape_needs_no_repair(html: str) -> bool:
    """_needs_no_repair's answer, looked up by the body's shape (see above)."""
    shape = ">".join(_SHAPE.findall(html.lstrip(" \t\n\r\f")))
    known = _SHAPES.get(shape)
    if known is None:
        known = _needs_no_repair(html)
        if len(shape) <= SHAPE_KEY:
            if len(_SHAPES) >= SHAPES:
                _SHAPES.clear()
            _SHAPES[shape] = known
    return known

"""The readable text of a message's HTML, for the TXT transcript and for search."""

from __future__ import annotations

import html as htmllib
import re

from .chars import _strip_unsafe
from .cleaner import clean
from .tags import _TAG, _too_many_tags

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
    source = _strip_unsafe(html) if _too_many_tags(html) else clean(html)
    collector = _TextCollector()
    position = 0
    for match in _TAG.finditer(source):
        collector.text(source[position : match.start()])
        collector.tag(match.group(1) == "/", match.group(2).lower())
        position = match.end()
    collector.text(source[position:])
    return _strip_unsafe(collector.result())

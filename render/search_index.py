"""The search file beside each HTML page: every message's words, for searching across pages.

A page searches its own messages from its own DOM (templates/search.js); it needs no file
for that. What the DOM cannot give is the other pages: the other parts of a ``--split``
rendering, and the other spaces for the archive's home page. Pages opened from ``file://``
cannot ``fetch`` (Chromium refuses it), but they can load a classic ``<script src>`` that
carries the page's CSP nonce, from any folder (tested in Chromium 156: the nonce admits it;
without the nonce it is refused, and ``'self'`` would admit every local file, so it is not
used). So the words go into ``<page stem>.search.js``, loaded on a search's first use.

The file holds one line of text per ``<article>``, in page order across the parts: the
message's plain text (redacted under ``--blur``, as the page is) and its attachments' names,
whitespace made single spaces. Nothing else: no author names, no ids (the n-th article of a
part is found by its position), so the file never holds more than the pages already show.
The text is gzip-compressed and base64-encoded (the browser inflates it with
``DecompressionStream``): at 100,000 generated messages 1.6 MB, where the raw text is 5 MB,
about half the text the page shows. Compression streams as the articles are written, so memory
stays flat. The title is JSON in ASCII; the text, base64: nothing in the file can end a
string or a script.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

from webex_layout import atomic_write

from .model import Item
from .sanitize import strip_unsafe

SUFFIX = ".search.js"
VERSION = 1
_SPACES = re.compile(r"\s+")


def index_path(page: Path) -> Path:
    """Where the search file of the page ``page`` (a whole page or a --split index) goes."""
    return page.with_name(page.stem + SUFFIX)


class SearchIndex:
    """Collects the searchable text of a rendering's articles, part after part."""

    def __init__(self, title: str, file_name: str) -> None:
        self.title = title
        self.file_name = file_name  # the search file's name, beside the pages
        self.current = -1  # the part being written; -1: a page of none (the --split index)
        self.parts: list[str] = []
        self.counts: list[int] = []
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip stream, mtime 0
        self._chunks: list[bytes] = []

    def part(self, href: str) -> None:
        """The articles added next belong to the page file named ``href`` (a plain name
        in the same folder; the script quotes it)."""
        self.parts.append(href)
        self.counts.append(0)
        self.current = len(self.parts) - 1

    def add(self, item: Item) -> None:
        words = item.plain
        if item.files:
            words = " ".join([words, *(info["name"] for info in item.files)])
        line = _SPACES.sub(" ", strip_unsafe(words)).strip() + "\n"
        self.counts[-1] += 1
        self._chunks.append(self._zip.compress(line.encode("utf-8")))

    def script(self) -> str:
        """The file's text: one call that hands the data to the page's search."""
        packed = b"".join([*self._chunks, self._zip.flush()])
        data = {
            "v": VERSION,
            "title": self.title,
            "parts": self.parts,
            "counts": self.counts,
            "text": base64.b64encode(packed).decode("ascii"),
        }
        payload = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        return f"(window.webexArchiveSearch = window.webexArchiveSearch || []).push({payload});\n"

    def write(self, path: Path, root: Path) -> None:
        with atomic_write(path, root) as out:
            out.write(self.script())

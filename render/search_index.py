"""The search file beside each HTML page: every message's words, for the pages' search box.

The search box (templates/search.js) must search the other parts of a ``--split`` rendering
and, from the archive's home page, every space; and reading a page's own 100,000 articles
from its DOM took 0.7 to 2 s. Pages opened from ``file://`` cannot ``fetch`` (Chromium refuses
it), but they can load a classic ``<script src>`` that carries the page's CSP nonce, from any
folder (tested in Chromium 156: with the nonce it runs, without it is refused; ``'self'``
would admit every local file, so the CSP does not use it). So the words go into
``<page stem>.search.js``, which the page loads on its first search.

A ``--split`` rendering writes one file per part (``<part stem>.search.js``, written with its
part and kept when the part is kept: the part's digest covers its rows) and one for the index
page, which holds no articles and lists the parts' files in ``sources``; every page of the
rendering (index or part) loads the index's file, and search.js loads the files it lists in
turn, so that a part names no other part and is unchanged when a new month appears.

A file holds one line of text per ``<article>``, in page order: the
message's plain text (redacted under ``--blur``, as the page is; controls and bidi overrides
removed, as on the page) and its attachments' names, whitespace made single spaces. Nothing
else: no author names, no ids (the n-th article of a part is found by its position), so the
file never holds more than the pages show. The text is gzip-compressed and base64-encoded (the
browser inflates it with ``DecompressionStream``): at 100,000 generated messages about 2 MB,
a fifth of the text the page shows. Compression streams as the articles are written into a
temporary file, and the file is written from it in blocks, so memory stays flat (held in
memory, then joined, base64-encoded and put in a JSON string, the text of a page of 1,100,000
messages raised the rendering's peak from 61 to 184 MB). The title is JSON in ASCII and the
text base64: nothing in the file can end a string or a script.
"""

from __future__ import annotations

import base64
import json
import tempfile
import zlib
from pathlib import Path
from typing import IO

from webex_layout import atomic_write

from .model import Item
from .sanitize import strip_unsafe

SUFFIX = ".search.js"
VERSION = 2  # 2: one file per --split part, ``sources`` and ``split``
BATCH = 2000  # lines compressed at once
BLOCK = 3 << 16  # compressed bytes base64-encoded at once: 192 kB, a multiple of 3


def index_path(page: Path) -> Path:
    """Where the search file of the page ``page`` (a whole page, a --split index or part) goes."""
    return page.with_name(page.stem + SUFFIX)


class SearchIndex:
    """Collects the searchable text of one page's articles.

    ``file_name``: the search file the page's box loads, beside the page (its own, or for a
    --split part its index's); ``sources``: the other search files this one leads to
    (relative URLs, quoted); ``split``: the page is a --split part, so results elsewhere
    name its period."""

    def __init__(
        self, title: str, file_name: str, sources: list[str] | None = None, split: bool = False
    ) -> None:
        self.title = title
        self.file_name = file_name
        self.sources = sources or []
        self.split = split
        self.parts: list[str] = []
        self.counts: list[int] = []
        # Level 1: 0.05 s of CPU for 100,000 messages where level 6 took 0.38 s, for a file a
        # third larger (1.6 MB against 1.2 MB); wbits 31: a gzip stream, its time 0.
        self._zip = zlib.compressobj(1, zlib.DEFLATED, 31)
        self._packed: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by write)
        self._lines: list[str] = []

    def part(self, href: str) -> None:
        """The articles added next belong to the page file named ``href`` (a plain name
        in the same folder; the script quotes it)."""
        self.parts.append(href)
        self.counts.append(0)

    def add(self, item: Item) -> None:
        words = item.plain
        if item.files:
            words = " ".join([words, *(info["name"] for info in item.files)])
        self._lines.append(" ".join(words.split()))  # str.split: every whitespace, no regex
        self.counts[-1] += 1
        if len(self._lines) >= BATCH:
            self._pack()

    def _pack(self) -> None:
        """Compress the lines collected so far: one pass for a batch costs a fifth of one
        per line (0.8 s of CPU for 100,000 messages, line by line)."""
        text = strip_unsafe("\n".join(self._lines)) + "\n"
        self._packed.write(self._zip.compress(text.encode("utf-8")))
        self._lines = []

    def write(self, path: Path, root: Path) -> None:
        """The file: one call that hands the data to the page's search, its text last (the
        JSON is written around it, so that the text is never one string in memory)."""
        if self._lines:
            self._pack()
        self._packed.write(self._zip.flush())
        data = {
            "v": VERSION,
            "title": self.title,
            "parts": self.parts,
            "counts": self.counts,
            "sources": self.sources,
            "split": self.split,
        }
        head = json.dumps(data, ensure_ascii=True, separators=(",", ":"))[:-1]
        with self._packed, atomic_write(path, root) as out:
            out.write("(window.webexArchiveSearch = window.webexArchiveSearch || []).push(")
            out.write(head + ',"text":"')
            self._packed.seek(0)
            while block := self._packed.read(BLOCK):  # whole blocks but the last: no padding
                out.write(base64.b64encode(block).decode("ascii"))
            out.write('"});\n')

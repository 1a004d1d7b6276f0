"""Stage 2: render archived spaces from SQLite as HTML, JSON and TXT (never the network).

``render_spaces`` is the entry point; render/query.py holds all SQL, render/model.py turns
rows into what a page shows, and html.py, json.py, text.py are one writer per format.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from . import query
from .html import write_html
from .json import write_json
from .manifest import tidy
from .model import Item
from .page import FORMATS, Page, RenderOptions, build_page
from .query import Filters, RenderError
from .split import write_split
from .text import write_text
from .window import Window

__all__ = ["FORMATS", "Filters", "RenderError", "RenderOptions", "render_spaces"]


class Feedback(Protocol):
    """Where a rendering reports (webex_archive/progress.py's Reporter): a status line with
    a count (rate and ETA are the reporter's), and notices."""

    def status(self, line: str, done: int | None = None, total: int | None = None) -> None: ...

    def notice(self, line: str) -> None: ...


class Silent:
    def status(self, line: str, done: int | None = None, total: int | None = None) -> None:
        pass

    def notice(self, line: str) -> None:
        pass


def render_spaces(
    archive: Path,
    spaces: list[str],
    everything: bool,
    options: RenderOptions,
    feedback: Feedback | None = None,
) -> list[Path]:
    """Render each chosen space in each chosen format; return the files written.

    ``feedback`` hears how far each space is, and which spaces the filters left empty (their
    pages are written all the same: an empty window is an answer, not an error)."""
    feedback = feedback or Silent()
    writers = {"html": write_html, "json": write_json, "txt": write_text}
    conn = query.connect(archive)
    try:
        chosen = query.find_spaces(conn, spaces, everything)
        if not chosen:
            raise RenderError("the archive has no spaces yet; run `webex-archive sync` first")
        meta = query.meta(conn)
        written: list[Path] = []
        failures: list[str] = []
        empty: list[str] = []
        for number, space in enumerate(chosen, 1):  # one failing (a full disk) spares the rest
            what = f"render {number}/{len(chosen)}"
            try:
                written.extend(_render_one(conn, archive, space, options, meta, writers,
                                           _Progress(feedback, what, empty)))  # fmt: skip
            except (OSError, sqlite3.Error) as error:
                failures.append(f"{space['title']!r}: {error}")
        if empty:
            feedback.notice(_empty_notice(empty, len(chosen), options.filters_text))
        if failures:
            raise RenderError(
                f"{len(failures)} of {len(chosen)} spaces failed: " + "; ".join(failures), written
            )
        return written
    finally:
        conn.close()


def _render_one(
    conn: sqlite3.Connection,
    archive: Path,
    space: dict,
    options: RenderOptions,
    meta: dict,
    writers: dict,
    progress: _Progress,
) -> list[Path]:
    written = []
    window = Window(conn, space["id"], options.filters)  # one window for all formats
    try:
        for fmt in options.formats:
            page = progress.follow(build_page(conn, archive, space, options, fmt, meta, window))
            if fmt == "html" and options.split != "none":
                files = write_split(page)
            else:
                writers[fmt](page)
                files = [page.path]
            tidy(page.path, fmt, files)
            written.extend(files)
    finally:
        window.close()
    return written


class _Progress:
    """One space's rendering, as the feedback sees it: messages written of the window, per
    format, and whether the window was empty."""

    EVERY = 256  # messages between two looks at the clock (Reporter.status throttles)

    def __init__(self, feedback: Feedback, what: str, empty: list[str]):
        self.feedback, self.what, self.empty = feedback, what, empty

    def follow(self, page: Page) -> Page:
        total = page.stats["in_window"]
        if total == 0 and page.title not in self.empty:
            self.empty.append(page.title)
        what = f"{self.what} {page.title} ({page.path.suffix.lstrip('.')})"
        return replace(page, items=self._counted(page.items, what, total))

    def _counted(self, items: Iterator[Item], what: str, total: int) -> Iterator[Item]:
        status, every, done = self.feedback.status, self.EVERY, 0
        status(what, 0, total)
        for item in items:
            if item.in_window:
                done += 1
                if done % every == 0:
                    status(what, done, total)
            yield item
        status(what, done, total)


def _empty_notice(titles: list[str], spaces: int, filters: str) -> str:
    """One line: which spaces' pages show no message, and under which filters."""
    names = ", ".join(repr(title) for title in titles[:3])
    more = f" and {len(titles) - 3} more" if len(titles) > 3 else ""
    where = f"{len(titles)} of {spaces} spaces ({names}{more})" if spaces > 1 else names
    return f"no message matches {filters} in {where}: written with none"

"""Stage 2: render archived spaces from SQLite as HTML, JSON and TXT (never the network).

``render_spaces`` is the entry point. The SQL is in query.py (spaces, members, people),
window.py (a page's messages, in display order) and stats.py (the statistics); model.py
turns rows into what a page shows, page.py gathers it per format, and html.py (with
article.py, toc.py and split.py), json.py and text.py are one writer per format. Untrusted
text becomes safe markup only in the sanitize package. search.py (``webex-archive search``)
reads the full-text index with its own SQL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from . import query
from .html import write_html
from .json import write_json
from .page import FORMATS, RenderOptions, build_page
from .query import Filters, RenderError
from .split import write_split
from .text import write_text
from .window import Window

__all__ = ["FORMATS", "Filters", "RenderError", "RenderOptions", "render_spaces"]


def render_spaces(
    archive: Path, spaces: list[str], everything: bool, options: RenderOptions
) -> list[Path]:
    """Render each chosen space in each chosen format; return the files written."""
    writers = {"html": write_html, "json": write_json, "txt": write_text}
    conn = query.connect(archive)
    try:
        chosen = query.find_spaces(conn, spaces, everything)
        if not chosen:
            raise RenderError("the archive has no spaces yet; run `webex-archive sync` first")
        meta = query.meta(conn)
        written: list[Path] = []
        failures: list[str] = []
        for space in chosen:  # one space failing (a full disk, a blocked path) spares the rest
            try:
                written.extend(_render_one(conn, archive, space, options, meta, writers))
            except (OSError, sqlite3.Error) as error:
                failures.append(f"{space['title']!r}: {error}")
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
) -> list[Path]:
    written = []
    window = Window(conn, space["id"], options.filters)  # one window for all formats
    try:
        for fmt in options.formats:
            page = build_page(conn, archive, space, options, fmt, meta, window)
            if fmt == "html" and options.split != "none":
                written.extend(write_split(page))
            else:
                writers[fmt](page)
                written.append(page.path)
    finally:
        window.close()
    return written

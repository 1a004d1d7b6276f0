"""Stage 2: render archived spaces from SQLite as HTML, JSON and TXT (never the network).

``render_spaces`` is the entry point. The SQL is in query.py (spaces, members, people),
window.py (a page's messages, in display order) and stats.py (the statistics); model.py
turns rows into what a page shows, page.py gathers it per format, and html.py (with
article.py, toc.py and split.py), json.py, text.py and rsmf.py (with rsmf_events.py and
rsmf_message.py) are one writer per format; custody.py then records what a space's rendering
wrote, from what. Untrusted text becomes safe markup only in the sanitize package. search.py
(``webex-archive search``) reads the full-text index with its own SQL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from webex_layout import UnsafePath

from . import query
from .custody import write_custody
from .html import write_html
from .json import write_json
from .manifest import tidy
from .output import clear_leftovers
from .page import FORMATS, RenderOptions, build_page
from .progress import Feedback, Progress, Silent, empty_notice
from .query import Filters, RenderError
from .rsmf import write_rsmf
from .split import write_split
from .text import write_text
from .window import Window

__all__ = ["FORMATS", "Filters", "RenderError", "RenderOptions", "render_spaces"]


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
    writers = {"html": write_html, "json": write_json, "txt": write_text, "rsmf": write_rsmf}
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
                                           Progress(feedback, what, empty)))  # fmt: skip
            except (OSError, sqlite3.Error, UnsafePath) as error:
                failures.append(f"{space['title']!r}: {error}")
        if empty:
            feedback.notice(empty_notice(empty, len(chosen), options.filters_text))
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
    progress: Progress,
) -> list[Path]:
    written: list[Path] = []
    window = Window(conn, space["id"], options.filters)  # one window for all formats
    try:
        page = None
        for fmt in options.formats:
            page = progress.follow(build_page(conn, archive, space, options, fmt, meta, window))
            clear_leftovers(page)
            if fmt == "html" and options.split != "none":
                files = write_split(page)
            else:
                listed = writers[fmt](page)  # a writer of several files (rsmf) lists them
                files = [page.path] if listed is None else listed
            tidy(page, fmt, files)
            written.extend(files)
        if page is not None:  # the chain of custody: what was written, from what
            write_custody(conn, archive, page, window.table, written)
    finally:
        window.close()
    return written

"""Stage 2: render archived spaces from SQLite as HTML, JSON and TXT (never the network).

``render_spaces`` is the entry point. The SQL is in query.py (spaces, members, people),
window.py (a page's messages, in display order) and stats.py (the statistics); model.py
turns rows into what a page shows, page.py gathers it per format, and html.py (with
article.py, toc.py and split.py), json.py, text.py, rsmf.py (with rsmf_events.py and
rsmf_message.py), mail.py, slack.py and seed_json.py are one writer per format; custody.py
then records what a space's rendering wrote, from what. Untrusted text becomes safe markup
only in the sanitize package. search.py (``webex-archive search``) reads the full-text index
with its own SQL. home.py writes the archive's home page over every rendered space;
incremental.py decides which --split parts need writing again, partial.py reads only the
months that changed (changes.py: which, from the archive's record of changes).
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from webex_layout import UnsafePath

from . import query
from .custody import Ledger, write_custody
from .manifest import tidy
from .output import clear_leftovers
from .page import FORMATS, RenderOptions, build_page, home_path, writes_into_archive
from .progress import Feedback, Progress, Silent, empty_notice
from .query import Filters, RenderError
from .search_index import index_path
from .window import Window

# Each format's writer (module, function), imported when a rendering asks for that format:
# the HTML writer brings jinja2 and its page's modules, which an mbox export never uses, and
# a start is part of every rendering's time.
WRITERS = {
    "html": ("html", "write_html"),
    "json": ("json", "write_json"),
    "txt": ("text", "write_text"),
    "eml": ("eml", "write_eml"),
    "eml-zip": ("eml_zip", "write_eml_zip"),
    "mbox": ("mbox", "write_mbox"),
    "slack": ("slack", "write_slack"),
    "seed-json": ("seed_json", "write_seed_json"),
    "rsmf": ("rsmf", "write_rsmf"),
}


def _writer(fmt: str) -> Callable:
    module, function = WRITERS[fmt]
    return getattr(importlib.import_module(f".{module}", __name__), function)


__all__ = [
    "FORMATS",
    "Filters",
    "RenderError",
    "RenderOptions",
    "home_path",
    "render_spaces",
    "writes_into_archive",
]


def render_spaces(
    archive: Path,
    spaces: list[str],
    everything: bool,
    options: RenderOptions,
    feedback: Feedback | None = None,
) -> list[Path]:
    """Render each chosen space in each chosen format; return the files written. Rendered
    into the archive (no ``--output``), the archive's home page is written too (``home_path``).

    ``feedback`` hears how far each space is, and which spaces the filters left empty (their
    pages are written all the same: an empty window is an answer, not an error)."""
    feedback = feedback or Silent()
    writers = {fmt: _writer(fmt) for fmt in options.formats}
    conn = query.connect(archive)
    try:
        chosen = query.find_spaces(conn, spaces, everything)
        if not chosen:
            raise RenderError("the archive has no spaces yet; run `webex-archive sync` first")
        meta = query.meta(conn)
        written: list[Path] = []
        failures: list[str] = []
        empty: list[str] = []
        counted: dict[str, int] = {}  # each rendered space's messages, for the home page
        for number, space in enumerate(chosen, 1):  # one failing (a full disk) spares the rest
            progress = Progress(feedback, f"render {number}/{len(chosen)}", empty)
            try:
                written.extend(_render_one(conn, archive, space, options, meta, writers,
                                           progress, counted))  # fmt: skip
            except (OSError, sqlite3.Error, UnsafePath) as error:
                failures.append(f"{space['title']!r}: {error}")
            progress.impossible_times()  # render/times.py
        home_failed = _write_home(conn, archive, options, counted)
        if empty:
            feedback.notice(empty_notice(empty, len(chosen), options.filters_text))
        if failures or home_failed:
            what = [f"{len(failures)} of {len(chosen)} spaces failed: " + "; ".join(failures)]
            raise RenderError("; ".join(what[: bool(failures)] + home_failed), written)
        return written
    finally:
        conn.close()


def _write_home(
    conn: sqlite3.Connection, archive: Path, options: RenderOptions, counted: dict[str, int]
) -> list[str]:
    """Keep the archive's home page (``home_path``) current after pages went into the archive
    (not an --output elsewhere): every page there links to it. Returns what went wrong, in
    one line, or []."""
    if not writes_into_archive(archive, options.output):
        return []
    from .home import write_home  # the HTML writer's modules: see WRITERS

    try:
        write_home(conn, archive, options, counted)
    except (OSError, sqlite3.Error, UnsafePath) as error:
        return [f"the home page was not written: {error}"]
    return []


def _render_one(
    conn: sqlite3.Connection,
    archive: Path,
    space: dict,
    options: RenderOptions,
    meta: dict,
    writers: dict,
    progress: Progress,
    counted: dict[str, int],
) -> list[Path]:
    written: list[Path] = []  # what this rendering wrote
    outputs: list[Path] = []  # its files, written or (--split parts) kept as they were
    known: dict[Path, str] = {}  # sha256 already known: --split parts kept, files hashed as written
    ledgers: dict[Path, Ledger] = {}  # what a writer of a folder of files wrote (EML)
    split = importlib.import_module(".split", __name__) if options.split != "none" else None
    loaded = split.prepare(conn, archive, space, options) if split else None  # months changed
    window = loaded.window if loaded else Window(conn, space["id"], options.filters)
    try:
        page = None
        for fmt in options.formats:
            figures = (loaded.stats, loaded.toc) if loaded else None
            page = build_page(conn, archive, space, options, fmt, meta, window, figures)
            page = progress.follow(page)
            counted[space["id"]] = page.stats["in_archive"]
            clear_leftovers(page)
            if fmt == "html" and options.split != "none":
                parts = split.write_split(page, loaded)
                if parts is None:  # the incremental reading cannot vouch for a part
                    window.close()
                    window, loaded = Window(conn, space["id"], options.filters), None
                    page = build_page(conn, archive, space, options, fmt, meta, window)
                    parts = split.write_split(progress.follow(page))
                    assert parts is not None
                tidy(page, fmt, parts.files, parts.built, parts.cache)
                known.update(parts.known)
                written.extend(parts.written)
                outputs.extend(parts.files)
            else:
                listed = writers[fmt](page)  # a writer of several files (rsmf) lists them
                known.update(page.digests)
                if isinstance(listed, Ledger):  # a folder's writer (EML) says what is in it
                    ledgers[page.path], listed = listed, None
                files = [page.path] if listed is None else listed
                tidy(page, fmt, files)
                written.extend(files)
                outputs.extend(files)
        if page is not None:  # the chain of custody: what the outputs are, from what
            searches = [index_path(p) for p in outputs if p.suffix == ".html"]
            outputs.extend(p for p in searches if p.is_file())  # the pages' search files
            table = None if loaded else window.table
            write_custody(conn, archive, page, table, outputs, known, ledgers)
    finally:
        window.close()
        for ledger in ledgers.values():
            ledger.close()
    return written

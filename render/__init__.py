"""Stage 2: render archived spaces from SQLite as HTML, JSON and TXT (never the network).

``render_spaces`` is the entry point; render/query.py holds all SQL, render/model.py turns
rows into what a page shows, and html.py, json.py, text.py are one writer per format.
"""

from __future__ import annotations

from pathlib import Path

from . import query
from .page import FORMATS, RenderOptions, build_page
from .query import Filters, RenderError

__all__ = ["FORMATS", "Filters", "RenderError", "RenderOptions", "render_spaces"]


def render_spaces(
    archive: Path, spaces: list[str], everything: bool, options: RenderOptions
) -> list[Path]:
    """Render each chosen space in each chosen format; return the files written."""
    from .html import write_html
    from .json import write_json
    from .split import write_split
    from .text import write_text

    writers = {"html": write_html, "json": write_json, "txt": write_text}
    conn = query.connect(archive)
    try:
        chosen = query.find_spaces(conn, spaces, everything)
        if not chosen:
            raise RenderError("the archive has no spaces yet; run `webex-archive sync` first")
        meta = query.meta(conn)
        written = []
        for space in chosen:
            for fmt in options.formats:
                page = build_page(conn, archive, space, options, fmt, meta)
                if fmt == "html" and options.split != "none":
                    written.extend(write_split(page))
                else:
                    writers[fmt](page)
                    written.append(page.path)
        return written
    finally:
        conn.close()

"""One rendering of one space: gather what the writers need, then run each writer.

Each format gets its own Page with a fresh row stream, so every writer streams from SQLite
to disk without holding the window in memory.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from webex_layout import BLURRED_FOLDER, space_dir

from . import query
from .clock import Clock
from .model import Context, Item, Pseudonyms, items
from .sanitize import clean_inline, redact
from .stats import statistics
from .toc import count_months
from .window import Window

FORMATS = ("html", "json", "txt", "rsmf")
BLURRED = BLURRED_FOLDER  # where --blur renderings go (a name the archive keeps for it)


@dataclass
class RenderOptions:
    """How to render; filters choose the messages, the rest how they look."""

    filters: query.Filters = field(default_factory=query.Filters)
    zone: tzinfo | None = None
    zone_name: str = ""
    formats: tuple[str, ...] = ("html",)
    avatars: str = "initials"  # initials | link | local
    theme: str = "auto"  # auto | light | dark
    blur: bool = False
    split: str = "none"  # none | year | month
    output: Path | None = None
    filters_text: str = "all messages"


@dataclass
class Page:
    """Everything a writer needs for one output file of one space."""

    space: dict
    title: str
    generated_at: datetime
    options: RenderOptions
    me_name: str
    stats: dict
    members: list[dict]
    toc: list[tuple[int, int, int]]  # (year, month, rows) of the HTML's contents; [] otherwise
    items: Iterator[Item]
    path: Path
    clock: Clock
    root: Path  # the folder ``path`` must stay inside: the archive, or the --output folder
    conn: sqlite3.Connection | None = None  # for writers that read more than the items (rsmf)


Writer = Callable[[Page], None]


def default_path(
    archive: Path, space: dict, fmt: str, output: Path | None, blurred: str | None = None
) -> Path:
    """``<archive>/<folder>/<folder>.<fmt>``, or what ``--output`` says (a file or a folder).

    ``blurred``: the space's title under --blur; then neither the folder nor the file is
    named after the space's folder, which may name a person (``blurred_stem``)."""
    folder = space["folder"] or space["id"]
    stem = blurred_stem(blurred, space["id"]) if blurred is not None else folder
    if output is None:
        return archive / (BLURRED if blurred is not None else folder) / f"{stem}.{fmt}"
    if output.suffix.lower() in (".html", ".json", ".txt"):
        return output.with_suffix(f".{fmt}")
    return output / f"{stem}.{fmt}"


def blurred_stem(title: str, space_id: str) -> str:
    """The file name of a blurred rendering: its blurred title, safe on every file system,
    and a digest of the space id, since blurring can give two spaces one title."""
    safe = re.sub(r"[^\w .()+,-]", "_", title).strip(" .")[:60].strip(" .") or "space"
    return f"{safe}-{hashlib.sha256(space_id.encode()).hexdigest()[:8]}"


def blurred_title(title: str, space: dict, blur: Pseudonyms) -> str:
    """The title with every known name replaced; a direct space's title is a person's name
    even when the archive knows it by no other (a renamed or removed person)."""
    hidden = redact(title, blur.replacements)
    return "direct space" if space.get("type") == "direct" and hidden == title else hidden


def output_root(archive: Path, space: dict, output: Path | None) -> Path:
    """The folder a rendering of ``space`` writes inside (render/output.py checks every path):
    the archive, whose space folder must be one the archive may use, or ``--output``'s."""
    if output is None:
        if space["folder"]:
            space_dir(archive, space["folder"])  # UnsafePath for a name the archive keeps
        return archive
    return output.parent if output.suffix.lower() in (".html", ".json", ".txt") else output


def build_page(
    conn: sqlite3.Connection,
    archive: Path,
    space: dict,
    options: RenderOptions,
    fmt: str,
    meta: dict[str, str],
    window: Window | None = None,
) -> Page:
    """A Page whose ``items`` streams the window from SQLite when the writer iterates it.

    ``window`` is the space's window under ``options.filters``, shared by the formats of one
    rendering; without it, the page makes its own."""
    zone = options.zone or datetime.now().astimezone().tzinfo
    me_email = meta.get("me_email") or ""
    blur = Pseudonyms.build(query.people_names(conn)) if options.blur else None
    title = clean_inline(space["title"] or "untitled space")
    title = blurred_title(title, space, blur) if blur else title
    path = default_path(archive, space, fmt, options.output, title if blur else None)
    ctx = Context(zone=zone, me_org=meta.get("me_org_id"),
                  me_domain=me_email.rsplit("@", 1)[-1].lower() if "@" in me_email else None,
                  output_dir=path.parent, archive_dir=archive, avatars=options.avatars,
                  blur=blur, html=fmt not in ("txt", "rsmf"), plain=fmt != "html",
                  groups=fmt == "html")  # fmt: skip
    window = window or Window(conn, space["id"], options.filters)
    stats = statistics(conn, window)
    stats["top_authors"] = [a | {"name": clean_inline(a["name"])} for a in stats["top_authors"]]
    members = [
        m | {"name": clean_inline(m["name"] or m["email"] or "unknown")}
        for m in query.members(conn, space["id"])
    ]
    if blur:
        stats = _blur_stats(stats, blur)
        members = [
            m | {"name": blur.name(m["person_id"]), "email": blur.email(m["person_id"])}
            for m in members
        ]
    return Page(
        space=space, title=title,
        generated_at=datetime.now(zone), options=options,
        me_name="(hidden)" if blur else meta.get("me_name") or "", stats=stats, members=members,
        toc=count_months(window, ctx.clock) if fmt == "html" else [],
        items=items(window.rows(avatars=ctx.avatars == "local" and not blur), ctx), path=path,
        clock=ctx.clock, root=output_root(archive, space, options.output), conn=conn,
    )  # fmt: skip


def _blur_stats(stats: dict, blur: Pseudonyms) -> dict:
    authors = [a | {"name": blur.replacements.get(a["name"], "Person ?"),
                    "email": blur.replacements.get(a["email"] or "", "hidden")}
               for a in stats["top_authors"]]  # fmt: skip
    domains = [d | {"domain": f"domain {i}"} for i, d in enumerate(stats["top_domains"], 1)]
    return stats | {"top_authors": authors, "top_domains": domains}

"""One rendering of one space: gather what the writers need, then run each writer.

Each format gets its own Page with a fresh row stream, so every writer streams from SQLite
to disk without holding the window in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import quote

from webex_layout import BLURRED_FOLDER, HOME_PAGE, space_dir

from . import query
from .clock import Clock
from .events import change_item, interleave, membership_changes
from .model import Context, Item, Pseudonyms, items
from .sanitize import clean_inline, redact
from .stats import counts, statistics
from .toc import count_months
from .window import Window

FORMATS = (
    "html",
    "json",
    "txt",
    "eml",
    "eml-zip",
    "mbox",
    "slack",
    "seed-json",
    "rsmf",
)
# What each format's output is called after the page's stem, where not ``.<format>``: a
# folder of mails, ZIPs, and a second JSON that must not take the JSON document's name.
NAMES = {"eml": "-eml", "eml-zip": "-eml.zip", "slack": ".slack.zip", "seed-json": ".seed.json"}
# The formats that show a message's sanitised HTML, and those that show its plain text:
# making a body is most of the cost of a message, so each format gets only those it uses.
HTML_BODIES = {"html", "json"}
PLAIN_BODIES = {"html", "json", "txt", "slack", "rsmf"}  # html: its search file
LATER_BODIES = {"eml", "eml-zip", "mbox"}  # both bodies, made where the mails are (render/mail.py)
MONTHS = {"html", "txt"}  # the formats that show months (render/model.py's ``sections``)
STATISTICS = {"html", "json", "txt"}  # the formats that show the statistics block
BLURRED = BLURRED_FOLDER  # where --blur renderings go (a name the archive keeps for it)


@dataclass
class RenderOptions:
    """How to render; filters choose the messages, the rest how they look."""

    filters: query.Filters = field(default_factory=query.Filters)
    zone: tzinfo | None = None
    zone_name: str = ""
    formats: tuple[str, ...] = ("html",)
    avatars: str = "auto"  # auto | initials | link | local (local: the same as auto)
    theme: str = "auto"  # auto | light | dark
    blur: bool = False
    split: str = "none"  # none | year | month
    output: Path | None = None
    filters_text: str = "all messages"
    events: bool = False  # members joining and leaving in the timeline (render/events.py)
    force: bool = False  # --split: rewrite every part, even those whose inputs are unchanged

    @property
    def avatar_files(self) -> bool:
        """Whether pages show the avatars sync downloaded (where it stored one)."""
        return self.avatars in ("auto", "local") and not self.blur


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
    changes: list[Item] = field(default_factory=list)  # --events: joins and leaves, in order
    home: str | None = None  # a relative link to the archive's home page; None outside it
    context: Context | None = None  # how rows become items (--split re-reads some rows)
    window: Window | None = None  # the rows of ``items``
    pseudonyms: Pseudonyms | None = None  # --blur's stand-ins, for formats that name people
    conn: sqlite3.Connection | None = None  # for writers that read more than the items (rsmf)
    # the sha256 of files the writer hashed as it wrote them (render/settle.py), for the
    # custody statement, which then does not read them again
    digests: dict[Path, str] = field(default_factory=dict)


Writer = Callable[[Page], None]


def default_path(
    archive: Path, space: dict, fmt: str, output: Path | None, blurred: str | None = None
) -> Path:
    """``<archive>/<folder>/<folder>.<fmt>``, or what ``--output`` says (a file or a folder).

    ``blurred``: the space's title under --blur; then neither the folder nor the file is
    named after the space's folder, which may name a person (``blurred_stem``)."""
    folder = space["folder"] or space["id"]
    stem = blurred_stem(blurred, space["id"]) if blurred is not None else folder
    name = stem + NAMES.get(fmt, f".{fmt}")
    if output is None:
        return archive / (BLURRED if blurred is not None else folder) / name
    if output.suffix.lower() in (".html", ".json", ".txt"):
        return output.with_name(output.stem + NAMES.get(fmt, f".{fmt}"))
    return output / name


def home_path(archive: Path, blur: bool) -> Path:
    """The home page of the archive (``index.html``), or of its --blur renderings."""
    return archive / BLURRED / HOME_PAGE if blur else archive / HOME_PAGE


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


def writes_into_archive(archive: Path, output: Path | None) -> bool:
    """Whether pages go into the archive folder (no --output, or an --output inside it, as
    ``run``'s ``outputfilename`` is): then the archive's home page lists them."""
    if output is None:
        return True
    folder = output.parent if output.suffix.lower() in (".html", ".json", ".txt") else output
    inside = archive.resolve()
    return folder.resolve() == inside or inside in folder.resolve().parents


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
    figures: tuple[dict, list] | None = None,
) -> Page:
    """A Page whose ``items`` streams the window from SQLite when the writer iterates it.

    ``window`` is the space's window under ``options.filters``, shared by the formats of one
    rendering; without it, the page makes its own. ``figures``: the statistics and the
    contents when the window holds only some months (an incremental --split rendering adds
    them up from each part's, render/incremental.py)."""
    zone = options.zone or datetime.now().astimezone().tzinfo
    me_email = meta.get("me_email") or ""
    blur = Pseudonyms.build(query.people_names(conn)) if options.blur else None
    title = clean_inline(space["title"] or "untitled space")
    title = blurred_title(title, space, blur) if blur else title
    path = default_path(archive, space, fmt, options.output, title if blur else None)
    ctx = Context(zone=zone, me_org=meta.get("me_org_id"),
                  me_domain=me_email.rsplit("@", 1)[-1].lower() if "@" in me_email else None,
                  output_dir=path.parent, archive_dir=archive, avatars=options.avatars,
                  blur=blur, html=fmt in HTML_BODIES, plain=fmt in PLAIN_BODIES,
                  groups=fmt == "html", months=fmt in MONTHS,
                  later=fmt in LATER_BODIES)  # fmt: skip
    window = window or Window(conn, space["id"], options.filters)
    stats, toc = _figures(conn, window, figures, fmt in STATISTICS)
    if "top_authors" in stats:  # the whole statistics block, not only its counts
        stats = _shown_stats(stats, blur)
    members = _members(conn, space["id"], blur)
    rows = items(window.rows(avatars=options.avatar_files), ctx)
    changes = _changes(conn, space["id"], options, stats)
    return Page(
        space=space, title=title,
        generated_at=datetime.now(zone), options=options,
        me_name="(hidden)" if blur else meta.get("me_name") or "", stats=stats, members=members,
        toc=_contents(window, ctx.clock, toc) if fmt == "html" else [],
        items=_with_changes(rows, changes, ctx, options, fmt), path=path, clock=ctx.clock,
        root=output_root(archive, space, options.output),
        changes=[change_item(c, ctx) for c in changes],
        home=relative_link(home_path(archive, bool(blur)), path)
        if writes_into_archive(archive, options.output) else None,
        context=ctx, window=window, pseudonyms=blur, conn=conn,
    )  # fmt: skip


def _figures(
    conn: sqlite3.Connection, window: Window, figures: tuple[dict, list] | None, block: bool
) -> tuple[dict, list | None]:
    """The statistics and the contents where they are known (summed from the parts), else
    the statistics over the window and the contents to count (``_contents``); ``block``:
    the whole statistics block, else only the counts (render/stats.py's ``counts``). Each
    is computed once per window, whatever the number of formats rendered from it."""
    if figures:
        return figures
    known = window.figures.get(block) or window.figures.get(True)
    if known is None:
        known = window.figures[block] = statistics(conn, window) if block else counts(conn, window)
    return dict(known), None


def _contents(window: Window, clock: Clock, toc: list | None) -> list:
    """The HTML's table of contents: ``toc`` where it is known (summed from the parts), else
    counted over the window."""
    return toc if toc is not None else count_months(window, clock)


def relative_link(target: Path, page: Path) -> str:
    """A percent-encoded relative URL from ``page`` to ``target`` (both in the archive)."""
    relative = os.path.relpath(target, page.parent)
    return "/".join(quote(part) for part in Path(relative).parts)


def _with_changes(
    rows: Iterator[Item], changes: list, ctx: Context, options: RenderOptions, fmt: str
) -> Iterator[Item]:
    """--events: the changes in the timeline (the JSON document lists them apart)."""
    if not changes or fmt == "json":
        return rows
    return interleave(rows, changes, ctx, options.filters.sort == "newest")


def _changes(conn: sqlite3.Connection, space_id: str, options: RenderOptions, stats: dict) -> list:
    """--events: the joins and leaves inside the window's time bounds (with --last: from its
    first message on); none without --events."""
    if not options.events:
        return []
    filters = options.filters
    since = filters.since or (stats["first_message"] if filters.last is not None else None)
    return membership_changes(conn, space_id, since, filters.until)


def _members(conn: sqlite3.Connection, space_id: str, blur: Pseudonyms | None) -> list[dict]:
    """The space's members with their names as shown (pseudonyms with --blur)."""
    members = [
        m | {"name": clean_inline(m["name"] or m["email"] or "unknown")}
        for m in query.members(conn, space_id)
    ]
    if blur:
        members = [
            m | {"name": blur.name(m["person_id"]), "email": blur.email(m["person_id"])}
            for m in members
        ]
    return members


def _shown_stats(stats: dict, blur: Pseudonyms | None) -> dict:
    """The statistics block with its authors' names as shown (pseudonyms with --blur)."""
    authors = [a | {"name": clean_inline(a["name"])} for a in stats["top_authors"]]
    stats = stats | {"top_authors": authors}
    return _blur_stats(stats, blur) if blur else stats


def _blur_stats(stats: dict, blur: Pseudonyms) -> dict:
    authors = [a | {"name": blur.replacements.get(a["name"], "Person ?"),
                    "email": blur.replacements.get(a["email"] or "", "hidden")}
               for a in stats["top_authors"]]  # fmt: skip
    domains = [d | {"domain": f"domain {i}"} for i, d in enumerate(stats["top_domains"], 1)]
    return stats | {"top_authors": authors, "top_domains": domains}

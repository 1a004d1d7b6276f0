"""The archive's home page: ``index.html`` at its root, one row per rendered space.

Whoever opens an archive opens a folder; the home page is what they double-click. It lists
every space whose pages are in the archive (as each page's manifest records them,
render/manifest.py, or the page itself for pages rendered before manifests), with the figures
a reader chooses by (type, messages, members, first and last message, last sync) and the
archive's own totals. The table is plain HTML, readable without JavaScript; a small script
under the page's CSP nonce sorts and filters it. Each row carries its values as ``data-``
attributes, which is what the script reads. Its search box (templates/search.js) searches
every listed space through the spaces' search files (render/search_index.py).

``--blur`` renderings get their own home page in ``blurred/``, listing only blurred pages
under blurred titles: the root's lists real titles, which may be people's names.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import datetime
from pathlib import Path

from webex_layout import atomic_write, check_inside, remove_leftovers

from . import query
from .clock import parse_utc, when
from .html import environment, href
from .manifest import SUFFIX, read_manifest
from .model import Pseudonyms, human_size
from .page import FORMATS, RenderOptions, blurred_title, default_path, home_path
from .sanitize import clean_inline
from .search_index import index_path
from .times import shown
from .version import VERSION

# Per space: its messages, first and last (the space-order index alone), and current members.
# The spaces just rendered (``:known``, their ids) were counted by their statistics in the same
# snapshot: counting again would read each one's index whole (a million entries: 0.25 s).
_SPACES = """
SELECT s.id, s.title, s.type, s.folder, s.last_synced_at,
       CASE WHEN s.id IN (SELECT value FROM json_each(:known)) THEN NULL
            ELSE (SELECT count(*) FROM messages AS m WHERE m.space_id = s.id) END AS messages,
       (SELECT min(created) FROM messages AS m WHERE m.space_id = s.id) AS first_message,
       (SELECT max(created) FROM messages AS m WHERE m.space_id = s.id) AS last_message,
       (SELECT count(*) FROM memberships AS ms
        WHERE ms.space_id = s.id AND ms.left_at IS NULL) AS members
FROM spaces AS s ORDER BY s.title, s.id
"""

_TOTALS = """
SELECT (SELECT count(*) FROM people) AS people,
       (SELECT count(*) FROM files) AS files,
       (SELECT coalesce(sum(size), 0) FROM files) AS bytes,
       (SELECT count(*) FROM files WHERE status = 'downloaded') AS downloaded,
       (SELECT coalesce(sum(size), 0) FROM files WHERE status = 'downloaded') AS downloaded_bytes
"""


def write_home(
    conn: sqlite3.Connection,
    archive: Path,
    options: RenderOptions,
    counted: dict[str, int] | None = None,
) -> Path:
    """Write the home page of ``archive`` (of its blurred renderings under ``--blur``);
    ``counted``: the messages of the spaces just rendered, by id."""
    zone = options.zone or datetime.now().astimezone().tzinfo
    generated = datetime.now(zone)
    blur = Pseudonyms.build(query.people_names(conn)) if options.blur else None
    counted = counted or {}
    known = {"known": json.dumps(sorted(counted))}
    spaces = [dict(row) for row in conn.execute(_SPACES, known)]
    for space in spaces:
        if space["messages"] is None:
            space["messages"] = counted[space["id"]]
    listed = [entry for space in spaces if (entry := _entry(archive, space, blur, zone))]
    totals = dict(conn.execute(_TOTALS).fetchone())
    numbers = [
        ("Spaces", f"{len(listed):,} rendered of {len(spaces):,} in the archive"),
        ("Messages", f"{sum(s['messages'] for s in spaces):,}"),
        ("People", f"{totals['people']:,}"),
        ("Files", f"{totals['files']:,} · {human_size(totals['bytes'])}"),
        ("Downloaded", f"{totals['downloaded']:,} · {human_size(totals['downloaded_bytes'])}"),
    ]
    settings = [
        ("Generated", when(generated)),
        ("Time zone", options.zone_name or str(generated.tzinfo)),
        ("Names", "hidden (blurred)" if blur else "shown"),
    ]
    path = home_path(archive, bool(blur))
    searches = [page["search"] for entry in listed for page in entry["pages"] if page["search"]]
    stream = environment().get_template("home.html.j2").generate(
        version=VERSION, theme=options.theme, nonce=secrets.token_urlsafe(16),
        settings=settings, numbers=numbers, spaces=listed,
        search_file="", search_sources=searches,
        types=sorted({s["type"] for s in listed if s["type"]}),
    )  # fmt: skip
    remove_leftovers(check_inside(path, archive).parent)  # a killed render's, as for pages
    with atomic_write(path, archive) as out:
        for chunk in stream:
            out.write(chunk)
    return path


def _entry(archive: Path, space: dict, blur: Pseudonyms | None, zone) -> dict | None:
    """The row of one space, or None when none of its pages is in the archive."""
    title = clean_inline(space["title"] or "untitled space")
    if blur:
        title = blurred_title(title, space, blur)
    pages = _pages(archive, space, title if blur else None)
    if not pages:
        return None

    def moment(text: str | None) -> str:
        return when(parse_utc(text).astimezone(zone)) if text else "–"

    # The archive's first, last and synced texts, each None where it is not a real time
    # (render/times.py): shown "–", and sorted as a space without one.
    times = ("first_message", "last_message", "last_synced_at")
    space = space | {key: shown(space[key]) for key in times}
    return space | {
        "title": title,
        "key": title.lower(),
        "pages": pages,
        "first": moment(space["first_message"]),
        "last": moment(space["last_message"]),
        "synced": moment(space["last_synced_at"]) if space["last_synced_at"] else "never",
    }


def _pages(archive: Path, space: dict, blurred: str | None) -> list[dict]:
    """The space's rendered files, each ``{"label", "href", "parts": [(label, href)],
    "search"}``: the page of each format its manifest lists (or that exists), with --split's
    parts and, for HTML, its search file's URL ("" for none; a --split index's leads to its
    parts'). Pages the space's folder holds under other names (``run``'s ``outputfilename``)
    follow its own."""
    home = home_path(archive, blurred is not None).parent
    default = default_path(archive, space, "html", None, blurred)
    stems = [default.stem]
    if blurred is None and default.parent.is_dir():
        others = (p.name[1 : -len(SUFFIX)] for p in default.parent.glob(f".*{SUFFIX}"))
        stems += sorted(stem for stem in others if stem and stem != default.stem)
    found = []
    for stem in stems:
        record = read_manifest(default.with_name(f"{stem}.html"))
        for fmt in FORMATS:
            page = default.with_name(f"{stem}.{fmt}")
            names = record.get(fmt) or [page.name]
            if page.name not in names or not page.is_file():
                continue
            prefix = f"{stem}-"
            parts = [
                (name[len(prefix) : -len(".html")], href(_relative(page.with_name(name), home)))
                for name in names
                if name.startswith(prefix) and (page.parent / name).is_file()
            ]
            label = fmt.upper() if stem == default.stem else f"{fmt.upper()} ({stem})"
            search = index_path(page)
            found.append({
                "label": label, "href": href(_relative(page, home)), "parts": parts,
                "search": href(_relative(search, home)) if fmt == "html" and search.is_file()
                else "",
            })  # fmt: skip
    return found


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()

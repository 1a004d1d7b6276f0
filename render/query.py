"""Render's connection to the archive, and its SQL for spaces, members, people and meta.

Render never calls Webex and never writes the archive: it opens ``archive.db`` read-only
and asks SQLite for exactly the rows a page shows, in the order it shows them, so that the
writers can stream them straight to disk. The message window and its order are in
render/window.py, the statistics in render/stats.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from webex_layout import DB_NAME

from .times import shown

SCHEMA_VERSION = "1"
# The bounds of a window without --since or --until: below and above every text (SQLite
# orders any text before any BLOB), so that a message whose time is not a real one (an empty
# or any other text, render/times.py) is still on the page, where its text sorts.
FAR_PAST, FAR_FUTURE = "", b""


class RenderError(Exception):
    """A render that cannot be done, with a one-line message that says what to do.

    ``written`` lists the files that were written all the same (other spaces of --all)."""

    def __init__(self, message: str, written: list | None = None):
        super().__init__(message)
        self.written = written or []


@dataclass(frozen=True)
class Filters:
    """Which messages a rendering shows. Times are the archive's UTC text form."""

    since: str | None = None  # inclusive
    until: str | None = None  # exclusive
    last: int | None = None  # the newest N messages (after the date bounds)
    sort: str = "oldest"  # top-level order; replies are always oldest first

    def params(self, space_id: str) -> dict:
        return {
            "space": space_id,
            "since": self.since or FAR_PAST,
            "until": self.until or FAR_FUTURE,
            "limit": self.last if self.last is not None else -1,
        }


def connect(archive: Path) -> sqlite3.Connection:
    """Open ``archive.db`` read-only; refuse what is not an archive of a known version."""
    path = archive / DB_NAME if archive.is_dir() or archive.suffix != ".db" else archive
    if not path.is_file():
        raise RenderError(f"no archive at {path}; run `webex-archive sync` first or pass --archive")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as error:
        raise RenderError(f"{path} is not a webex-archive database ({error})") from None
    problem = _version_problem(row[0] if row else None)
    if problem:
        conn.close()
        raise RenderError(f"{path} {problem}")
    conn.row_factory = sqlite3.Row
    # One read transaction for the whole rendering: while a sync writes (WAL), every query
    # of this render sees the same snapshot, so statistics agree with the messages listed.
    conn.execute("BEGIN")
    return conn


def _version_problem(found: str | None) -> str | None:
    """What is wrong with the archive's schema version, in the words etl/store uses for the
    same case, so that every command gives the same advice; None when it is ours."""
    try:
        version = int(found) if found is not None else None
    except ValueError:
        version = None
    if version is None:
        return "is not a webex-archive archive (no meta.schema_version): pick another --archive"
    if version > int(SCHEMA_VERSION):
        return (
            f"was written by a newer webex-archive (schema version {version}, this one knows "
            f"up to {SCHEMA_VERSION}): upgrade webex-archive"
        )
    if version < int(SCHEMA_VERSION):
        return "has an older or no schema: run `webex-archive sync` once to upgrade it"
    return None


def find_spaces(conn: sqlite3.Connection, queries: list[str], everything: bool) -> list[dict]:
    """Spaces by id, exact title, or a title search matching exactly one (case-insensitive)."""
    spaces = [dict(r) for r in conn.execute("SELECT * FROM spaces ORDER BY title, id")]
    if everything:
        return spaces
    chosen = []
    for query in queries:
        wanted = query.casefold()
        found = (
            [s for s in spaces if s["id"] == query]
            or [s for s in spaces if (s["title"] or "").casefold() == wanted]
            or [s for s in spaces if wanted in (s["title"] or "").casefold()]
        )
        if len(found) != 1:
            what = "no space in the archive" if not found else f"{len(found)} spaces"
            raise RenderError(
                f"{query!r} matches {what}; `webex-archive status` lists the archived spaces"
            )
        chosen.append(found[0])
    return list({s["id"]: s for s in chosen}.values())


def members(conn: sqlite3.Connection, space_id: str) -> list[dict]:
    """Current and former members, with the names people had; a join time that is not a
    real time (render/times.py) is None. ``left_at`` stays as it is: any value says the
    member left (the places that show its time check it)."""
    sql = """
    SELECT ms.person_id, coalesce(pe.display_name, ms.person_display_name) AS name,
           coalesce(ms.person_email, pe.email) AS email, ms.is_moderator, ms.created AS joined,
           ms.left_at
    FROM memberships AS ms LEFT JOIN people AS pe ON pe.id = ms.person_id
    WHERE ms.space_id = ? ORDER BY ms.left_at IS NOT NULL, name COLLATE NOCASE
    """
    found = [dict(r) for r in conn.execute(sql, [space_id])]
    for member in found:
        member["joined"] = shown(member["joined"])
    return found


def people_names(conn: sqlite3.Connection) -> list[tuple[str, str | None, str | None]]:
    """(id, display name, email) of everyone the archive knows, for pseudonyms (--blur)."""
    sql = """
    SELECT id, display_name, email FROM people
    UNION SELECT person_id, person_display_name, person_email FROM memberships
    UNION SELECT person_id, NULL, person_email FROM messages GROUP BY person_id
    """
    return [tuple(r) for r in conn.execute(sql)]


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    return {k: v for k, v in conn.execute("SELECT key, value FROM meta")}

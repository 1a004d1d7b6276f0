"""All of render's SQL: the message window, thread order, the month timeline and statistics.

Render never calls Webex and never writes the archive: it opens ``archive.db`` read-only
and asks SQLite for exactly the rows a page shows, in the order it shows them, so that the
writers can stream them straight to disk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = "1"
FAR_PAST, FAR_FUTURE = "0000", "9999"
IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff", "heic",
                    "heif", "avif")  # fmt: skip


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
    path = archive / "archive.db" if archive.is_dir() or archive.suffix != ".db" else archive
    if not path.is_file():
        raise RenderError(f"no archive at {path}; run `webex-archive sync` first or pass --archive")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as error:
        raise RenderError(f"{path} is not a webex-archive database ({error})") from None
    if row is None or row[0] != SCHEMA_VERSION:
        found = row[0] if row else "none"
        raise RenderError(
            f"{path} has schema version {found}; this render reads version {SCHEMA_VERSION} "
            "(run `webex-archive sync` with this version to upgrade it)"
        )
    conn.row_factory = sqlite3.Row
    # One read transaction for the whole rendering: while a sync writes (WAL), every query
    # of this render sees the same snapshot, so statistics agree with the messages listed.
    conn.execute("BEGIN")
    return conn


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


# The window, then the parents its replies need, then each thread's anchor time. A parent
# that was never archived still gets a row (all message columns NULL): the placeholder.
_WINDOW = """
WITH win AS MATERIALIZED (
    SELECT id FROM messages
    WHERE space_id = :space AND created >= :since AND created < :until
    ORDER BY created DESC, id DESC LIMIT :limit
),
picked (id, in_window) AS (
    SELECT id, 1 FROM win
    UNION
    SELECT m.parent_id, 0 FROM messages AS m JOIN win USING (id)
    WHERE m.parent_id IS NOT NULL AND m.parent_id NOT IN (SELECT id FROM win)
),
rows AS (
    SELECT p.id AS id, p.in_window, m.parent_id, m.created, m.person_id, m.person_email,
           m.text, m.html, m.files, m.attachments, m.mentioned_people, m.mentioned_groups,
           m.is_voice_clip, m.updated, m.deleted_at, m.id IS NOT NULL AS archived
    FROM picked AS p LEFT JOIN messages AS m ON m.id = p.id
),
threads AS (
    SELECT coalesce(parent_id, id) AS thread,
           coalesce(max(CASE WHEN parent_id IS NULL THEN created END), min(created)) AS anchor
    FROM rows GROUP BY thread
)
"""


def window_rows(conn: sqlite3.Connection, space_id: str, filters: Filters) -> Iterator[dict]:
    """The rows of a page in display order: threads by their anchor (the parent's time),
    the parent first, then its replies oldest first; files joined in as JSON."""
    direction = "DESC" if filters.sort == "newest" else "ASC"
    sql = f"""{_WINDOW}
    SELECT r.*, t.thread, t.anchor, pe.display_name AS author_name, pe.org_id AS author_org,
           pe.avatar AS avatar_url, av.local_path AS avatar_path,
           CASE WHEN r.files IS NOT NULL THEN (
               SELECT json_group_array(json_object(
                   'name', f.name, 'content_type', f.content_type, 'size', f.size,
                   'status', f.status, 'local_path', f.local_path, 'url', f.url))
               FROM (SELECT * FROM files WHERE message_id = r.id ORDER BY position) AS f
           ) END AS file_rows
    FROM rows AS r JOIN threads AS t ON t.thread = coalesce(r.parent_id, r.id)
    LEFT JOIN people AS pe ON pe.id = r.person_id
    LEFT JOIN avatars AS av ON av.space_id = :space AND av.person_id = r.person_id
    ORDER BY t.anchor {direction}, t.thread, r.parent_id IS NOT NULL, r.created, r.id
    """
    for row in conn.execute(sql, filters.params(space_id)):
        yield dict(row)


def thread_sizes(conn: sqlite3.Connection, space_id: str, filters: Filters) -> Iterator[tuple]:
    """(anchor time, rows in the thread) per thread, in display order: enough to count the
    month sections of the table of contents before the page body is written."""
    direction = "DESC" if filters.sort == "newest" else "ASC"
    sql = f"""{_WINDOW}
    SELECT t.anchor, count(*) FROM rows AS r JOIN threads AS t
    ON t.thread = coalesce(r.parent_id, r.id) GROUP BY t.thread ORDER BY t.anchor {direction}
    """
    yield from conn.execute(sql, filters.params(space_id))


def members(conn: sqlite3.Connection, space_id: str) -> list[dict]:
    """Current and former members, with the names people had."""
    sql = """
    SELECT ms.person_id, coalesce(pe.display_name, ms.person_display_name) AS name,
           coalesce(ms.person_email, pe.email) AS email, ms.is_moderator, ms.created AS joined,
           ms.left_at
    FROM memberships AS ms LEFT JOIN people AS pe ON pe.id = ms.person_id
    WHERE ms.space_id = ? ORDER BY ms.left_at IS NOT NULL, name COLLATE NOCASE
    """
    return [dict(r) for r in conn.execute(sql, [space_id])]


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


_STATS = """
SELECT
    (SELECT count(*) FROM messages WHERE space_id = :space) AS in_archive,
    (SELECT count(*) FROM memberships WHERE space_id = :space AND left_at IS NULL) AS members,
    (SELECT last_synced_at FROM spaces WHERE id = :space) AS last_synced,
    count(*) AS in_window,
    count(DISTINCT m.person_id) AS authors,
    coalesce(sum(m.parent_id IS NOT NULL), 0) AS replies,
    coalesce(sum(m.deleted_at IS NOT NULL), 0) AS deleted,
    coalesce(sum(m.updated IS NOT NULL), 0) AS edited,
    coalesce(sum(json_array_length(m.mentioned_people)), 0) AS mentions,
    coalesce(sum(m.mentioned_groups IS NOT NULL), 0) AS group_mentions,
    min(m.created) AS first_message,
    max(m.created) AS last_message
FROM messages AS m JOIN win USING (id)
"""

_TOP_AUTHORS = """
SELECT coalesce(pe.display_name, m.person_email, 'unknown') AS name, m.person_email AS email,
       count(*) AS messages
FROM messages AS m JOIN win USING (id) LEFT JOIN people AS pe ON pe.id = m.person_id
GROUP BY m.person_id ORDER BY messages DESC, name LIMIT 11
"""

_TOP_DOMAINS = """
SELECT lower(substr(m.person_email, instr(m.person_email, '@') + 1)) AS domain,
       count(*) AS messages
FROM messages AS m JOIN win USING (id) WHERE m.person_email LIKE '%@%'
GROUP BY domain ORDER BY messages DESC, domain LIMIT 11
"""

_FILES = """
SELECT kind, count(*) AS count, coalesce(sum(size), 0) AS bytes,
       sum(size IS NOT NULL) AS sized, sum(status = 'downloaded') AS downloaded
FROM (
    SELECT f.size, f.status,
           CASE WHEN f.content_type LIKE 'image/%' OR lower(
               substr(f.name, length(rtrim(f.name, replace(f.name, '.', ''))) + 1)
           ) IN ({images}) THEN 'images' ELSE 'files' END AS kind
    FROM files AS f JOIN win ON win.id = f.message_id
) GROUP BY kind
"""


def statistics(conn: sqlite3.Connection, space_id: str, filters: Filters) -> dict:
    """Every figure of the statistics block, computed by SQLite over the window."""
    params = filters.params(space_id)
    win = _WINDOW.split("picked")[0].rstrip().rstrip(",")
    stats = dict(conn.execute(f"{win} {_STATS}", params).fetchone())
    stats["top_authors"], stats["other_authors"] = _top(conn, f"{win} {_TOP_AUTHORS}", params)
    stats["top_domains"], stats["other_domains"] = _top(conn, f"{win} {_TOP_DOMAINS}", params)
    images = ", ".join(f"'{extension}'" for extension in IMAGE_EXTENSIONS)
    empty = {"count": 0, "bytes": 0, "sized": 0, "downloaded": 0}
    kinds = {"images": dict(empty), "files": dict(empty)}
    for row in conn.execute(f"{win} {_FILES.format(images=images)}", params):
        kinds[row["kind"]] = {k: row[k] for k in empty}
    stats.update(kinds)
    return stats


def _top(conn: sqlite3.Connection, sql: str, params: dict) -> tuple[list[dict], int]:
    """The first ten rows, and how many messages the rest account for."""
    rows = [dict(r) for r in conn.execute(sql, params)]
    if len(rows) <= 10:
        return rows, 0
    total = sum(r["messages"] for r in rows[:10])
    everything = sum(r["messages"] for r in conn.execute(sql.replace("LIMIT 11", ""), params))
    return rows[:10], everything - total

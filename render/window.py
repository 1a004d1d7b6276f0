"""The message window of a page, ordered once in SQL and kept in a temporary table.

A page shows the messages a filter selects, the parents their replies need (archived or
not), threads kept together under their parent, replies oldest first. Ordering that needs a
sort over the whole window; sorting rows that carry message bodies made SQLite move every
body through its sorter, and the table of contents and the statistics each recomputed the
window. So the window is computed once per space, from index entries only (schema.sql's
``messages_space_order`` covers it), into ``temp`` as (display position, messages.rowid)
pairs; the writers then read the bodies by rowid in that order, without a sort, and the
statistics and the table of contents read the same small table. The temporary table lives
in SQLite's temp store (spilled to disk when large), so memory stays flat for any window.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator

from .query import Filters

_NAMES = itertools.count(1)

# In-window rows come from the covering index; a reply's parent is looked up once, which says
# whether the parent is in the window too (else it joins as a context row, or as a
# placeholder when the archive never had it) and what the thread's anchor time is. A thread's
# anchor is its first message's time when that message is archived, top-level and shown;
# otherwise (a placeholder, a reply to a reply) the time of its earliest row: ``fallback``.
_FILL = """
WITH win AS MATERIALIZED (
    SELECT messages.rowid AS rid, id, parent_id, created FROM {source}
    WHERE {plus}space_id = :space AND {plus}created >= :since AND {plus}created < :until
    ORDER BY created DESC, id DESC LIMIT :limit
),
cut (created, id) AS (SELECT created, id FROM win ORDER BY created, id LIMIT 1),
replies AS MATERIALIZED (
    SELECT w.rid, w.id, w.parent_id, w.created, p.rowid AS prid, p.parent_id AS pparent,
           p.created AS pcreated, coalesce({in_window_p}, 0) AS parent_in_window
    FROM win AS w LEFT JOIN messages AS p ON p.id = w.parent_id
    WHERE w.parent_id IS NOT NULL
),
context AS MATERIALIZED (
    SELECT DISTINCT parent_id AS id, prid AS rid, pparent AS parent_id, pcreated AS created
    FROM replies WHERE NOT parent_in_window
),
others AS MATERIALIZED (
    SELECT rid, id, 1 AS in_window, parent_id, created, parent_id AS thread,
           CASE WHEN prid IS NOT NULL AND pparent IS NULL THEN pcreated END AS anchor
    FROM replies
    UNION ALL
    SELECT c.rid, c.id, 0, c.parent_id, c.created, coalesce(c.parent_id, c.id),
           CASE WHEN c.rid IS NULL THEN NULL
                WHEN c.parent_id IS NULL THEN c.created
                WHEN h.rowid IS NOT NULL AND h.parent_id IS NULL
                     AND (coalesce({in_window_h}, 0) OR h.id IN (SELECT id FROM context))
                THEN h.created END
    FROM context AS c LEFT JOIN messages AS h ON h.id = c.parent_id
),
fallback AS MATERIALIZED (
    SELECT thread, min(created) AS anchor FROM others
    WHERE anchor IS NULL AND parent_id IS NOT NULL GROUP BY thread
)
INSERT INTO {table} (rid, in_window, anchor, missing)
SELECT rid, in_window, anchor, CASE WHEN rid IS NULL THEN id END FROM (
    SELECT rid, id, 1 AS in_window, 0 AS is_reply, created, id AS thread, created AS anchor
    FROM win WHERE parent_id IS NULL
    UNION ALL
    SELECT o.rid, o.id, o.in_window, o.parent_id IS NOT NULL, o.created, o.thread,
           coalesce(o.anchor, f.anchor)
    FROM others AS o LEFT JOIN fallback AS f ON f.thread = o.thread
)
ORDER BY anchor {direction}, thread, is_reply, created, id
"""

# Whether message {m} is in the window: the date bounds, and with --last the cut-off row.
_IN_WINDOW = "({m}.space_id = :space AND {m}.created >= :since AND {m}.created < :until{last})"
_LAST = " AND ({m}.created, {m}.id) >= (SELECT created, id FROM cut)"

# The page's rows in display order: message columns by rowid, names and files joined in.
# Their names, in order, are COLUMNS.
_ROWS = """
SELECT coalesce(m.id, o.missing) AS id, o.in_window, o.anchor,
       m.rowid IS NOT NULL AS archived, m.parent_id, m.created, m.person_id,
       m.person_email AS email, m.text, m.html, m.attachments AS cards, m.updated,
       m.deleted_at AS deleted, pe.display_name AS name, pe.org_id, pe.avatar AS avatar_url,
       {avatar_path} AS avatar_path,
       CASE WHEN m.files IS NOT NULL THEN (
           SELECT json_group_array(json_object(
               'name', f.name, 'content_type', f.content_type, 'size', f.size,
               'status', f.status, 'local_path', f.local_path, 'url', f.url))
           FROM (SELECT * FROM files WHERE message_id = m.id ORDER BY position) AS f
       ) END AS files,
       {exact} AS deleted_exact
FROM {table} AS o LEFT JOIN messages AS m ON m.rowid = o.rid
LEFT JOIN people AS pe ON pe.id = m.person_id
{avatars}
{where}
ORDER BY o.seq
"""


# The columns of a row of ``Window.rows``: tuples, for speed; render/model.py unpacks them
# by these names. ``archived``: whether the archive has the message (else a placeholder);
# ``cards``: the message's attachments (adaptive cards); ``files``: a JSON list of its files.
COLUMNS = ("id", "in_window", "anchor", "archived", "parent_id", "created", "person_id", "email",
           "text", "html", "cards", "updated", "deleted", "name", "org_id", "avatar_url",
           "avatar_path", "files", "deleted_exact")  # fmt: skip

# ``deleted_exact``: the deletion time is the one Webex's events feed gave (a compliance
# officer's sync, etl/events.py), not the time a re-read found the message gone. Archives
# without an events table (older ones) have none.
_EXACT = (
    "CASE WHEN m.deleted_at IS NOT NULL THEN EXISTS (SELECT 1 FROM events AS e WHERE "
    "e.object_id = m.id AND e.resource = 'messages' AND e.type = 'deleted') ELSE 0 END"
)

_AVATARS = "LEFT JOIN avatars AS av ON av.space_id = :space AND av.person_id = m.person_id"


class Window:
    """One space's window under one filter: filled at creation, read as often as needed.

    ``only``: a temporary table of message rowids (``rid``) to which the window is cut: an
    incremental --split rendering reads the whole threads of a few months alone
    (render/incremental.py), in the order and with the anchors the whole window gives them,
    which holds for a window of all messages, where whether a parent is shown does not
    depend on which rows were read."""

    def __init__(
        self, conn: sqlite3.Connection, space_id: str, filters: Filters, only: str | None = None
    ):
        self.conn, self.space_id, self.filters = conn, space_id, filters
        self.table = f"temp.page_window_{next(_NAMES)}"
        self.figures: dict[bool, dict] = {}  # render/page.py's statistics of it, made once
        self._cursors: list[sqlite3.Cursor] = []  # those reading it, closed by close()
        last = _LAST if filters.last is not None else ""
        # ``only``: its rows drive the reading (by rowid); ``+`` keeps SQLite from reading
        # the space's index instead, which would visit every message of the space.
        sql = _FILL.format(
            source=f"{only} AS o CROSS JOIN messages ON messages.rowid = o.rid"
            if only
            else "messages",
            plus="+" if only else "",
            table=self.table,
            direction="DESC" if filters.sort == "newest" else "ASC",
            in_window_p=_IN_WINDOW.format(m="p", last=last.format(m="p")),
            in_window_h=_IN_WINDOW.format(m="h", last=last.format(m="h")),
        )
        conn.execute(
            f"CREATE TABLE {self.table} (seq INTEGER PRIMARY KEY, rid INTEGER, "
            "in_window INTEGER NOT NULL, anchor TEXT, missing TEXT)"
        )
        conn.execute(sql, filters.params(space_id))

    def rows(
        self, avatars: bool = True, ranges: list[tuple[int, int]] | None = None
    ) -> Iterator[tuple]:
        """The page's rows in display order, as tuples of COLUMNS;
        ``avatars``: with the path of each author's downloaded avatar (else NULL);
        ``ranges``: only the rows at these display positions (1-based, inclusive; the
        parts of a --split page that are written again, render/incremental.py)."""
        cursor = self._cursor()
        params: dict[str, object] = {"space": self.space_id}
        where = ""
        if ranges is not None:
            terms = [f"o.seq BETWEEN :lo{n} AND :hi{n}" for n in range(len(ranges))]
            where = "WHERE " + (" OR ".join(terms) or "0")
            for n, (low, high) in enumerate(ranges):
                params |= {f"lo{n}": low, f"hi{n}": high}
        sql = _ROWS.format(
            table=self.table,
            avatar_path="av.local_path" if avatars else "NULL",
            avatars=_AVATARS if avatars else "",
            exact=_EXACT if self.has_events() else "0",
            where=where,
        )
        yield from _rows(cursor.execute(sql, params))

    def has_events(self) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone()
        return found is not None

    def anchors(self) -> Iterator[str]:
        """The thread anchor times in display order, without the rows: what the table of
        contents counts (render/toc.py) before the page body is written. Rows without an
        anchor (a placeholder's) have no month and are left out; an anchor that is not text
        (an archive edited by hand) is "" (not a real time: render/times.py)."""
        cursor = self._cursor()
        sql = (
            "SELECT CASE WHEN typeof(anchor) = 'text' THEN anchor ELSE '' END "
            f"FROM {self.table} WHERE anchor IS NOT NULL ORDER BY seq"
        )
        for (anchor,) in cursor.execute(sql):
            yield anchor

    def raw_newest_first(self) -> Iterator[tuple[str]]:
        """The API objects (``raw``) of the window's archived messages, context parents
        included, newest first as the API lists them: the keys are sorted, then the objects
        read by rowid, so no object passes through the sorter."""
        cursor = self._cursor()
        sql = (
            f"SELECT m.raw FROM (SELECT o.rid FROM {self.table} AS o "
            "JOIN messages AS k ON k.rowid = o.rid ORDER BY k.created DESC, k.id DESC "
            "LIMIT -1) AS s JOIN messages AS m ON m.rowid = s.rid"
        )
        yield from _rows(cursor.execute(sql))

    def missing_parents(self) -> Iterator[tuple[str, str, str | None]]:
        """(id, created of its first reply, room type) of each thread start the window needs
        and the archive never had, in the window's order."""
        cursor = self._cursor()
        sql = (
            "SELECT o.missing, (SELECT min(r.created) FROM messages AS r "
            "WHERE r.parent_id = o.missing AND r.space_id = :space), "
            "(SELECT r.room_type FROM messages AS r "
            "WHERE r.parent_id = o.missing AND r.space_id = :space LIMIT 1) "
            f"FROM {self.table} AS o WHERE o.rid IS NULL ORDER BY o.seq"
        )
        yield from _rows(cursor.execute(sql, {"space": self.space_id}))

    def _cursor(self) -> sqlite3.Cursor:
        cursor = self.conn.cursor()
        cursor.row_factory = None
        self._cursors.append(cursor)
        return cursor

    def close(self) -> None:
        """Drop the table; first close every cursor that reads it: a writer that failed
        midway leaves its rows' cursor open, and SQLite refuses to drop a table being read
        ("database table is locked"), an error that would hide the writer's own."""
        for cursor in self._cursors:
            cursor.close()
        self._cursors.clear()
        self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")


def _rows(cursor: sqlite3.Cursor) -> Iterator[tuple]:
    """A cursor's rows, for a generator to yield from: a reader left unfinished (its writer
    failed) is closed when it is collected, which may be after the connection has closed;
    ``yield from`` a cursor would then close the cursor too, and SQLite's error ("Cannot
    operate on a closed database") would be printed as an ignored exception, a traceback
    on the screen after the render's one-line error. ``Window.close`` closes the cursors."""
    for row in cursor:  # noqa: UP028 (not ``yield from``: see above)
        yield row

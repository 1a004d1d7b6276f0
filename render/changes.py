"""What changed in a space since a rendering, read from the archive's own record of changes.

An incremental ``--split`` rendering (render/incremental.py) must not read a space of a
million messages to find the thousand a night added. The archive records changes itself
(schema.sql's ``changes`` table, filled by triggers, so every writer is covered): a new
message is a row above the highest rowid the last rendering saw; an edit, a deletion, a file's
new state, a person's new name or avatar is a row of ``changes`` above the last ``seq`` it
saw (a deletion too: then nothing can be said, and render reads everything). From those this
module finds the UTC days whose threads may show differently: a changed
message's own day, its thread parent's (a reply is shown under its parent), and the first
reply's of its thread and of the thread it starts (a thread whose first message the archive
lacks is placed at its first reply). Render then reads only the months those days fall in.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# The messages of the space that changed since the marks: new rows, logged messages and
# files, and every message of a person whose name or avatar changed.
# The messages of the space that changed since the marks: new rows, logged messages and
# files, and every message of a person whose name or avatar changed. CROSS JOIN and ``+``
# make SQLite start from the few rows that changed, not from the space's index.
_CHANGED = """
INSERT OR IGNORE INTO {table} (id)
SELECT id FROM messages WHERE rowid > :rowid AND +space_id = :space
UNION SELECT key FROM changes
WHERE seq > :seq AND tbl IN ('messages', 'files') AND space_id = :space
UNION SELECT m.id FROM (
    SELECT key FROM changes WHERE seq > :seq AND (tbl = 'people'
        OR (tbl = 'avatars' AND space_id = :space))
) AS c CROSS JOIN messages AS m ON m.person_id = c.key
WHERE +m.space_id = :space
"""

# The days (UTC, 'YYYY-MM-DD') where those messages' threads are anchored, or may have been.
_DAYS = """
SELECT DISTINCT substr(day, 1, 10) FROM (
    SELECT m.created AS day FROM {table} AS c CROSS JOIN messages AS m ON m.id = c.id
    UNION ALL
    SELECT p.created FROM {table} AS c CROSS JOIN messages AS m ON m.id = c.id
    CROSS JOIN messages AS p ON p.id = m.parent_id
    UNION ALL
    SELECT (SELECT min(s.created) FROM messages AS s WHERE s.parent_id = m.parent_id)
    FROM {table} AS c CROSS JOIN messages AS m ON m.id = c.id WHERE m.parent_id IS NOT NULL
    UNION ALL
    SELECT (SELECT min(s.created) FROM messages AS s WHERE s.parent_id = c.id)
    FROM {table} AS c
) WHERE day IS NOT NULL
"""


@dataclass(frozen=True)
class Marks:
    """How far a rendering saw the archive: the highest message rowid and the id of that
    message (a VACUUM that renumbered rows moves it), and the last change."""

    rowid: int
    newest: str | None
    seq: int

    def as_list(self) -> list:
        return [self.rowid, self.newest, self.seq]

    @classmethod
    def from_list(cls, value: object) -> Marks | None:
        """Marks from a manifest (render/manifest.py), or None when they are not marks."""
        if not isinstance(value, list) or len(value) != 3:
            return None
        rowid, newest, seq = value
        if type(rowid) is int and type(seq) is int and isinstance(newest, str | None):
            return cls(rowid, newest, seq)
        return None


def marks(conn: sqlite3.Connection) -> Marks | None:
    """The marks of the archive now (render's snapshot); None for an archive without a
    record of changes (one a sync of an earlier version made: the next sync adds it)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'"
    ).fetchone()
    if found is None:
        return None
    rowid, newest = conn.execute(
        "SELECT rowid, id FROM messages WHERE rowid = (SELECT max(rowid) FROM messages)"
    ).fetchone() or (0, None)
    (seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()
    return Marks(rowid, newest, seq)


# A message of the space deleted since (logged, and no longer there): what it showed is not
# known any more, so nothing can be said.
_GONE = """
SELECT 1 FROM changes AS c
WHERE c.seq > :seq AND c.tbl = 'messages' AND c.space_id = :space AND NOT EXISTS (
    SELECT 1 FROM messages AS m WHERE m.id = c.key AND m.space_id = :space)
LIMIT 1
"""


def changed_days(
    conn: sqlite3.Connection, space_id: str, then: Marks, now: Marks
) -> set[str] | None:
    """The UTC days whose threads may show differently since ``then``; None when that cannot
    be said (messages deleted or renumbered): render reads everything."""
    if now.rowid < then.rowid or now.seq < then.seq:
        return None
    (newest,) = conn.execute(
        "SELECT coalesce((SELECT id FROM messages WHERE rowid = ?), '')", [then.rowid]
    ).fetchone()
    params = {"space": space_id, "rowid": then.rowid, "seq": then.seq}
    if newest != (then.newest or "") or conn.execute(_GONE, params).fetchone():
        return None
    table = "temp.changed_messages"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY)")
    try:
        conn.execute(_CHANGED.format(table=table), params)
        return {day for (day,) in conn.execute(_DAYS.format(table=table))}
    finally:
        conn.execute(f"DROP TABLE {table}")

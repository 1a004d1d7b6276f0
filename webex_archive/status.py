"""``webex-archive status``: what an archive holds, as rows (SQL over the archive only)."""

from __future__ import annotations

from sqlite_utils import Database

from etl.store.coverage import get_spans

COUNTS = ("messages", "deleted", "members", "people", "files")
# The counts of one space. Deleted messages come from the partial index messages_deleted
# (they are few), not from a read of every message of the space. The authors still are: an
# index on (person_id, space_id) would answer them too (0.9 s instead of 1.4 s for this
# command at 1,000,000 messages), but costs every message a sync stores about 4 µs.
COUNTS_SQL = """
SELECT (SELECT count(*) FROM messages WHERE space_id = :s),
       (SELECT count(*) FROM messages WHERE space_id = :s AND deleted_at IS NOT NULL),
       (SELECT count(*) FROM memberships WHERE space_id = :s AND left_at IS NULL),
       (SELECT count(DISTINCT person_id) FROM messages WHERE space_id = :s),
       (SELECT count(*) FROM files WHERE space_id = :s)
"""


def space_status(db: Database) -> list[dict]:
    """One dict per space: counts, how complete its history is, and its last sync."""
    rows = []
    spaces = db.execute(
        "SELECT id, title, type, sync_since, last_synced_at, last_sync_status, last_sync_error "
        "FROM spaces ORDER BY title"
    ).fetchall()
    for space_id, title, kind, since, synced, outcome, error in spaces:
        counts = db.execute(COUNTS_SQL, {"s": space_id}).fetchone()
        rows.append(
            {"id": space_id, "title": title, "type": kind,
             **dict(zip(COUNTS, counts, strict=True)),
             "history": _history(get_spans(db, space_id), since),
             "last_sync": synced, "last_status": outcome, "last_error": error}
        )  # fmt: skip
    return rows


def _history(spans: list, since: str | None) -> str:
    if not spans:
        return "nothing synced yet"
    if len(spans) == 1 and spans[0].reaches_start:
        return f"complete, {spans[0].oldest_created} to {spans[0].newest_created}"
    oldest = spans[-1].oldest_created
    bound = f" (asked from {since})" if since else ""
    gaps = f", {len(spans) - 1} gap(s) still to fill" if len(spans) > 1 else ""
    return f"from {oldest} to {spans[0].newest_created}{bound}{gaps}; older history not synced"

"""What the sync keeps about its own work beside the archive's content: how each space's last
sync ended, how far back its history is wanted (``sync_since``), the page size that works
for it, when its members were last listed, the thread parents Webex will not give, and the
people to ask about again. Like every writer, each runs in the caller's ``transaction``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from .database import _json, get_meta, set_meta


def last_sync(db: Database, space_id: str) -> tuple[str | None, str | None]:
    """(lastActivity stored at the last sync, that sync's status); (None, None) if unknown."""
    row = db.execute(
        "SELECT last_activity, last_sync_status FROM spaces WHERE id = ?", [space_id]
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def sync_started(db: Database, space_id: str) -> None:
    """Until this run's sync of the space ends well, a later run must not take it as
    unchanged (its last error stays on record until then)."""
    db.execute("UPDATE spaces SET last_sync_status = 'running' WHERE id = ?", [space_id])


def sync_ended(db: Database, space_id: str, error: str | None) -> None:
    """The space's sync ended: 'ok', or 'failed' with its one-line error."""
    db.execute(
        "UPDATE spaces SET last_sync_status = ?, last_sync_error = ? WHERE id = ?",
        ["failed" if error else "ok", error, space_id],
    )


def sync_since(db: Database, space_id: str) -> str | None:
    """The oldest time earlier runs were asked to reach (--since, or where --last got to)."""
    row = db.execute("SELECT sync_since FROM spaces WHERE id = ?", [space_id]).fetchone()
    return row[0] if row else None


def lower_sync_since(db: Database, space_id: str, since: str) -> None:
    """Remember ``since`` as how far back the space's history is wanted, if it is older."""
    db.execute(
        "UPDATE spaces SET sync_since = min(coalesce(sync_since, ?), ?) WHERE id = ?",
        [since, since, space_id],
    )


def forget_unavailable(db: Database, space_id: str) -> None:
    """Forget which parents Webex refused for the space (--full asks for them again)."""
    db.execute("DELETE FROM unavailable_messages WHERE space_id = ?", [space_id])


def save_unavailable(db: Database, message_id: str, space_id: str, status: int, now: str) -> None:
    """Remember a parent Webex will not give (its answer's status), so that later runs do not
    ask again."""
    db.execute(
        "INSERT OR REPLACE INTO unavailable_messages VALUES (?, ?, ?, ?)",
        [message_id, space_id, status, now],
    )


def refetch_people(db: Database, ids: Iterable[str]) -> None:
    """People not fetched for good (Webex could not decrypt them): the next run asks again."""
    db.execute(
        "UPDATE people SET fetched_at = NULL WHERE id IN (SELECT value FROM json_each(?))",
        [_json(sorted(ids))],
    )


def page_size(db: Database, space_id: str) -> tuple[int | None, str | None]:
    """(the page size learnt for the space, when), or (None, None): see etl/paging.py."""
    row = db.execute(
        "SELECT page_size, page_size_at FROM spaces WHERE id = ?", [space_id]
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def save_page_size(db: Database, space_id: str, size: int | None, now: str) -> None:
    """Remember the page size that works for the space (None: the sync's own size works)."""
    db.execute(
        "UPDATE spaces SET page_size = ?, page_size_at = ? WHERE id = ?",
        [size, now if size is not None else None, space_id],
    )


def members_listed_at(db: Database, space_id: str) -> str | None:
    """When the space's members were last listed (None: never, or before this was kept)."""
    row = db.execute("SELECT members_listed_at FROM spaces WHERE id = ?", [space_id]).fetchone()
    return row[0] if row else None


def members_listed(db: Database, space_id: str, now: str) -> None:
    db.execute("UPDATE spaces SET members_listed_at = ? WHERE id = ?", [now, space_id])


def learnt_rate(db: Database) -> tuple[float | None, str | None]:
    """(the pace a run learnt from Webex's 429s, requests a minute; when), or (None, None):
    see etl/pacing.py. A value that does not read as a positive number counts as none."""
    text, at = get_meta(db, "learnt_rate"), get_meta(db, "learnt_rate_at")
    try:
        rate = float(text) if text is not None else None
    except ValueError:
        rate = None
    return (rate, at) if rate is not None and 0 < rate < float("inf") else (None, None)


def save_learnt_rate(db: Database, rate: float | None, now: str | None) -> None:
    """Remember the pace learnt (None: forget it, so that the next run learns again)."""
    set_meta(db, "learnt_rate", None if rate is None else f"{rate:.1f}")
    set_meta(db, "learnt_rate_at", None if rate is None else now)

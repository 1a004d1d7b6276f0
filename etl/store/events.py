"""The events table and its checkpoint: the organisation's change feed as a compliance officer's
sync read it, and which events the sync of their space has applied. Like every writer, each
runs in the caller's ``transaction``: a feed page's events go in with the checkpoint, an
event's effects with its ``applied_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from .database import get_meta, set_meta
from .rows import membership_row

CHECKPOINT = "events_checkpoint"


def checkpoint(db: Database) -> str | None:
    """The time up to which the feed was read completely, or None (never)."""
    return get_meta(db, CHECKPOINT)


def set_checkpoint(db: Database, moment: str) -> None:
    set_meta(db, CHECKPOINT, moment)


def save_events(db: Database, events: Iterable[Mapping[str, Any]], now: str) -> int:
    """Store events not stored yet (a re-read after a kill, or an overlap, changes nothing);
    returns how many were new."""
    rows = [
        (
            e["id"], e.get("resource") or "", e.get("type") or "", e.get("actorId"),
            e.get("orgId"), _data(e).get("roomId"), _data(e).get("id"), e.get("created") or "",
            json.dumps(e, ensure_ascii=False, separators=(",", ":")), now,
        )
        for e in events
        if isinstance(e.get("id"), str)
    ]  # fmt: skip
    before = db.conn.total_changes
    db.conn.executemany(
        "INSERT OR IGNORE INTO events (id, resource, type, actor_id, org_id, space_id, "
        "object_id, created, raw, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return db.conn.total_changes - before


def pending_spaces(db: Database) -> list[str]:
    """Spaces with events their sync has yet to apply, oldest event first."""
    rows = db.conn.execute(
        "SELECT space_id FROM events WHERE applied_at IS NULL AND space_id IS NOT NULL "
        "GROUP BY space_id ORDER BY min(created), space_id"
    )
    return [row[0] for row in rows]


def pending_events(db: Database, space_id: str) -> list[dict]:
    """A space's events not applied yet, in the order they happened."""
    rows = db.conn.execute(
        "SELECT raw FROM events WHERE space_id = ? AND applied_at IS NULL ORDER BY created, id",
        [space_id],
    )
    return [json.loads(row[0]) for row in rows]


def mark_applied(db: Database, ids: Iterable[str], now: str) -> None:
    db.conn.execute(
        "UPDATE events SET applied_at = ? WHERE id IN (SELECT value FROM json_each(?))",
        [now, json.dumps(list(ids))],
    )


def deleted_at(db: Database, space_id: str, message_id: str, moment: str) -> int:
    """A message's deletion time from its event: set, or made exact when a re-read had marked
    it later (the run's time). Returns 1 when it was not marked before. Only a message of
    the event's space: an event never reaches into another space."""
    before = db.conn.execute(
        "SELECT deleted_at FROM messages WHERE id = ? AND space_id = ?", [message_id, space_id]
    ).fetchone()
    if before is None or (before[0] is not None and before[0] <= moment):
        return 0
    db.conn.execute("UPDATE messages SET deleted_at = ? WHERE id = ?", [moment, message_id])
    return int(before[0] is None)


def joined(db: Database, space_id: str, api_membership: Mapping[str, Any], now: str) -> None:
    """A member's join from its event (the membership as it was): recorded even when they
    left again before any listing saw them; the join time is the event's. Applied in time
    order with ``left``, the last event of a membership decides whether it is current."""
    row = membership_row(api_membership)
    if not isinstance(row.get("id"), str):
        return
    row |= {"space_id": space_id, "first_seen_at": now, "last_seen_at": now, "left_at": None}
    db["memberships"].insert(row, ignore=True)
    db.conn.execute(
        "UPDATE memberships SET left_at = NULL, created = coalesce(?, created) WHERE id = ? "
        "AND space_id = ? AND (left_at IS NULL OR left_at <= coalesce(?, left_at))",
        [row.get("created"), row["id"], space_id, row.get("created")],
    )


def left(db: Database, space_id: str, membership_id: str, moment: str) -> None:
    """A member's exact leaving time (not before they joined), in the event's space."""
    db.conn.execute(
        "UPDATE memberships SET left_at = ? WHERE id = ? AND space_id = ? "
        "AND (created IS NULL OR created <= ?)",
        [moment, membership_id, space_id, moment],
    )


def stored_updated(db: Database, message_id: str) -> tuple[str | None, str | None]:
    """(the space of the message, None when the archive does not hold it; its ``updated``)."""
    row = db.conn.execute(
        "SELECT space_id, updated FROM messages WHERE id = ?", [message_id]
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def _data(event: Mapping[str, Any]) -> dict:
    data = event.get("data")
    return data if isinstance(data, dict) else {}

"""The sync_runs table: one row per `webex-archive sync` run, opened first and closed however
the run ends (a killed process leaves it 'running'; the next run marks it interrupted)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from .database import _json, utc_now

RUN_COUNTERS = ("requests", "pages", "new_messages", "edited_messages", "deleted_messages")
RUN_STATUSES = ("ok", "failed", "interrupted")


def mark_interrupted_runs(db: Database) -> int:
    """Turn runs left 'running' by a killed process into 'interrupted'; returns how many.
    Their finished_at stays NULL: when they died is unknown. Assumes one sync per archive
    at a time (start_run calls this)."""
    cursor = db.conn.execute("UPDATE sync_runs SET status = 'interrupted' WHERE status = 'running'")
    return cursor.rowcount


def start_run(
    db: Database, arguments: Mapping[str, Any], spaces: Iterable[str], now: str | None = None
) -> int:
    """Insert a 'running' run (arguments as JSON: never put the token in) and return its id,
    after marking earlier runs still 'running' as interrupted."""
    mark_interrupted_runs(db)
    cursor = db.conn.execute(
        "INSERT INTO sync_runs (started_at, status, arguments, spaces) VALUES (?, 'running', ?, ?)",
        [now or utc_now(), _json(dict(arguments)), _json(list(spaces))],
    )
    return int(cursor.lastrowid or 0)


def finish_run(
    db: Database,
    run_id: int,
    status: str,
    counters: Mapping[str, int],
    error: str | None = None,
    now: str | None = None,
) -> None:
    """Close a run with its outcome and counters (keys from RUN_COUNTERS; others are a bug)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"run status must be one of {RUN_STATUSES}, not {status!r}")
    unknown = set(counters) - set(RUN_COUNTERS)
    if unknown:
        raise ValueError(f"unknown run counters: {sorted(unknown)}")
    sets = "".join(f", {name} = :{name}" for name in counters)
    db.conn.execute(
        f"UPDATE sync_runs SET status = :status, finished_at = :now, error = :error{sets} "
        "WHERE id = :id",
        {"status": status, "now": now or utc_now(), "error": error, "id": run_id, **counters},
    )

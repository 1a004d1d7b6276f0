"""The sync_runs table: one row per `webex-archive sync` run, opened first and closed however
the run ends (a killed process leaves it 'running'; the next run marks it interrupted)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils import Database

from .database import _json, utc_now

RUN_COUNTERS = (
    "requests", "pages", "new_messages", "edited_messages", "deleted_messages", "retries",
    "rate_limited", "waited_seconds", "paced_seconds", "bytes", "file_info",
)  # fmt: skip
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
    row = {"started_at": now or utc_now(), "status": "running",
           "arguments": _json(dict(arguments)), "spaces": _json(list(spaces))}  # fmt: skip
    return int(db["sync_runs"].insert(row).last_pk)


def finish_run(
    db: Database,
    run_id: int,
    status: str,
    counters: Mapping[str, float],
    error: str | None = None,
    now: str | None = None,
) -> None:
    """Close a run with its outcome and counters (keys from RUN_COUNTERS; others are a bug)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"run status must be one of {RUN_STATUSES}, not {status!r}")
    unknown = set(counters) - set(RUN_COUNTERS)
    if unknown:
        raise ValueError(f"unknown run counters: {sorted(unknown)}")
    outcome = {"status": status, "finished_at": now or utc_now(), "error": error}
    db["sync_runs"].update(run_id, outcome | dict(counters))

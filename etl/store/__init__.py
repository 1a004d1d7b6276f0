"""The archive database, one import away: open and migrate it, turn API objects into rows,
write them. The work lives in small modules, each with one job; this module gathers their
public names so that callers (the sync, the commands, the tests) say ``store.save_messages``.

  database.py  open/migrate/connect, transactions, meta, one-line errors
  rows.py      API objects to rows (pure): times, booleans, lists, raw
  writers.py   messages (revisions, file rows), spaces, people, memberships
  runs.py      the sync_runs table
  fts.py       the full-text index during bulk loads

Everything that knows table and column names for writing lives in those modules (and in
coverage.py), so the sync loop only speaks in API objects. No HTTP here.

Transactions: no writer commits. The sync wraps one page of messages and its coverage change
in ONE transaction (``with transaction(db): ...``), so that a process killed at any instant
leaves either the whole page or none of it. Only ``open_archive`` (schema migrations) commits
on its own.
"""

from __future__ import annotations

from .bookkeeping import (
    forget_unavailable,
    last_sync,
    lower_sync_since,
    refetch_people,
    save_unavailable,
    sync_ended,
    sync_since,
    sync_started,
)
from .database import (
    BUSY_TIMEOUT_SECONDS,
    DB_NAME,
    FTS_TRIGGERS,
    SCHEMA_VERSION,
    ArchiveError,
    connect_readonly,
    environment_error,
    get_meta,
    open_archive,
    schema_sql,
    set_meta,
    transaction,
    utc_now,
)
from .rows import (
    Received,
    archive_time,
    file_rows,
    membership_row,
    message_row,
    person_row,
    received,
    space_row,
)
from .runs import RUN_COUNTERS, RUN_STATUSES, finish_run, mark_interrupted_runs, start_run
from .writers import (
    assign_folder,
    holds_messages,
    live_message_ids,
    live_messages_since,
    mark_deleted,
    people_to_fetch,
    save_me,
    save_memberships,
    save_messages,
    save_not_found_people,
    save_people,
    save_space,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS", "DB_NAME", "FTS_TRIGGERS", "RUN_COUNTERS", "RUN_STATUSES",
    "SCHEMA_VERSION", "ArchiveError", "Received", "archive_time", "assign_folder",
    "connect_readonly", "environment_error", "file_rows", "finish_run", "forget_unavailable",
    "get_meta", "holds_messages", "last_sync", "live_message_ids", "live_messages_since",
    "lower_sync_since", "mark_deleted", "mark_interrupted_runs", "membership_row",
    "message_row", "open_archive", "people_to_fetch", "person_row", "received",
    "refetch_people", "save_me", "save_memberships", "save_messages", "save_not_found_people",
    "save_people", "save_space", "save_unavailable", "schema_sql", "set_meta", "space_row",
    "start_run", "sync_ended", "sync_since", "sync_started", "transaction", "utc_now",
]  # fmt: skip

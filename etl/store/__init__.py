"""The archive database, one import away: open and migrate it, turn API objects into rows,
write them. The work lives in small modules, each with one job; this module gathers their
public names so that callers (the sync, the commands, the tests) say ``store.save_messages``.

  database.py     open/migrate/connect, transactions, meta, one-line errors
  rows.py         API objects to rows (pure): times, booleans, lists, raw
  writers.py      messages (revisions, file rows), spaces, people, memberships
  bookkeeping.py  the sync's own marks: each space's sync status and sync_since, the parents
                  Webex will not give, the people to ask about again
  coverage.py     the spans of each space's history known to be complete
  runs.py         the sync_runs table
  fts.py          the full-text index during bulk loads
  lock.py         one sync at a time per archive
  forget.py       removing a space

Every statement that writes the sync's rows lives in those modules, so the sync (sync.py,
walk.py, backfill.py, pages.py, byid.py, people.py) only speaks in API objects. The one
exception is etl/files/, which records the outcome of its own transfers (the files' download
state, avatars) beside the code that makes them. No HTTP here.

The handle is sqlite-utils' Database. Its table API is used where it is shorter (meta,
sync_runs, listing tables); the writers keep hand-written SQL where a page's speed or an
upsert's rules need it (writers.py says which). Its writes join the caller's transaction as
savepoints (sqlite-utils 4; pinned in pyproject.toml): 3.x committed it.

Transactions: no writer commits. The sync wraps one page of messages and its coverage change
in ONE transaction (``with transaction(db): ...``), so that a process killed at any instant
leaves either the whole page or none of it. Only ``open_archive`` (schema migrations) commits
on its own.
"""

from __future__ import annotations

from .bookkeeping import (
    forget_unavailable,
    last_sync,
    learnt_rate,
    lower_sync_since,
    members_listed,
    members_listed_at,
    page_size,
    refetch_people,
    save_learnt_rate,
    save_page_size,
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
    "get_meta", "holds_messages", "last_sync", "learnt_rate", "live_message_ids",
    "live_messages_since", "lower_sync_since", "mark_deleted", "mark_interrupted_runs",
    "members_listed", "members_listed_at", "membership_row", "message_row", "open_archive",
    "page_size", "people_to_fetch", "person_row", "received", "refetch_people", "save_learnt_rate",
    "save_me", "save_memberships", "save_messages", "save_not_found_people",
    "save_page_size", "save_people", "save_space", "save_unavailable", "schema_sql",
    "set_meta", "space_row", "start_run", "sync_ended", "sync_since", "sync_started",
    "transaction", "utc_now",
]  # fmt: skip

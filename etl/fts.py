"""The full-text index (messages_fts) during bulk loads.

schema.sql keeps messages_fts current with per-row triggers, which are fine for the odd edit
but make bulk inserts several times slower (design.md, measured notes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

from .database import FTS_TRIGGERS, rebuild_fts, set_meta, transaction


@contextmanager
def fts_deferred(db: Database) -> Iterator[Database]:
    """Bulk-load mode: the FTS triggers are off inside the block and the index is rebuilt once
    at its end (per-row triggers make bulk inserts ~4x slower).

    Crash-safe: meta.fts_stale is committed with the trigger drop, and the next
    open_archive rebuilds the index if a killed process left it stale. The rebuild covers
    the whole archive, so use this for large first syncs, not for a page or two.
    """
    with transaction(db):
        for trigger in FTS_TRIGGERS:
            db.conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        set_meta(db, "fts_stale", "1")
    try:
        yield db
    finally:
        with transaction(db):
            rebuild_fts(db)

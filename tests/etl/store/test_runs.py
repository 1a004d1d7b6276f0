"""etl/store/runs.py: the sync_runs table, including a run whose process died."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from etl import store
from tests.etl.store.conftest import LATER, LATEST, NOW, ROOM, ROOM2, rows

NO_COSTS = {"retries": 0, "rate_limited": 0, "waited_seconds": 0.0, "paced_seconds": 0.0,
            "bytes": 0, "file_info": 0}  # fmt: skip


def test_sync_runs(db: Database):
    with store.transaction(db):
        first = store.start_run(db, {"days": 7, "full": False}, [ROOM], now=NOW)
    with store.transaction(db):  # the first process died; the next run says so
        second = store.start_run(db, {"all": True}, [ROOM, ROOM2], now=LATER)
        counters = {"requests": 12, "pages": 9, "new_messages": 400, "edited_messages": 2}
        store.finish_run(db, second, "ok", counters, now=LATEST)
    assert rows(db, "SELECT * FROM sync_runs ORDER BY id") == [
        {"id": first, "started_at": NOW, "finished_at": None, "status": "interrupted",
         "error": None, "arguments": '{"days":7,"full":false}', "requests": 0, "pages": 0,
         "new_messages": 0, "edited_messages": 0, "deleted_messages": 0,
         "spaces": f'["{ROOM}"]', **NO_COSTS},
        {"id": second, "started_at": LATER, "finished_at": LATEST, "status": "ok",
         "error": None, "arguments": '{"all":true}', "requests": 12, "pages": 9,
         "new_messages": 400, "edited_messages": 2, "deleted_messages": 0,
         "spaces": f'["{ROOM}","{ROOM2}"]', **NO_COSTS},
    ]  # fmt: skip
    with store.transaction(db):
        third = store.start_run(db, {}, [], now=LATEST)
        store.finish_run(db, third, "failed", {"requests": 1}, error="HTTP 500", now=LATEST)
    assert rows(db, "SELECT status, error FROM sync_runs WHERE id = ?", [third]) == [
        {"status": "failed", "error": "HTTP 500"}
    ]
    with pytest.raises(ValueError, match="run status"):
        store.finish_run(db, third, "running", {})
    with pytest.raises(ValueError, match="unknown run counters"):
        store.finish_run(db, third, "ok", {"reqests": 1})

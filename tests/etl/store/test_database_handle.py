"""The database handle (sqlite-utils' Database): the store uses its table API for small tables
inside the sync's own transactions, which holds only while its writes join an open
transaction instead of committing it (sqlite-utils 4; 3.x's ``with conn:`` committed it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import store


def test_table_api_writes_commit_or_roll_back_with_the_callers_transaction(
    tmp_path: Path,
) -> None:
    db = store.open_archive(tmp_path)
    with pytest.raises(RuntimeError), store.transaction(db):
        store.set_meta(db, "probe", "written")
        run_id = store.start_run(db, {"full": True}, ["space"], now="2024-01-01T00:00:00.000Z")
        store.finish_run(db, run_id, "ok", {"pages": 1}, now="2024-01-01T00:00:01.000Z")
        raise RuntimeError("killed before the commit")
    assert store.get_meta(db, "probe") is None
    assert db.execute("SELECT count(*) FROM sync_runs").fetchall() == [(0,)]
    with store.transaction(db):
        run_id = store.start_run(db, {"full": True}, ["space"], now="2024-01-01T00:00:00.000Z")
        store.finish_run(db, run_id, "ok", {"pages": 1}, now="2024-01-01T00:00:01.000Z")
        store.set_meta(db, "probe", "written")
        store.set_meta(db, "gone", "soon")
        store.set_meta(db, "gone", None)
    assert db.conn.in_transaction is False
    rows = db.execute(
        "SELECT id, started_at, finished_at, status, arguments, spaces, pages, error FROM sync_runs"
    ).fetchall()
    assert rows == [(run_id, "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:01.000Z", "ok",
                     '{"full":true}', '["space"]', 1, None)]  # fmt: skip
    meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('probe', 'gone')"))
    assert meta == {"probe": "written"}

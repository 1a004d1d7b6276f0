"""Kill -9 in the middle of the parallel backfill: the resumed archive is complete and exact.

The real command (``webex-archive sync --all --workers 4 --download no``) walks a 300-message
space in pages of 10 (the emulator caps ``max``) with 10 ms latency, and is killed once 12
message pages were answered: four slices are then half walked, side by side. The archive
must pass SQLite's checks with its coverage spans each complete (every message a span claims
is stored), and a second run must fill exactly what is missing: the same rows and coverage as
an uninterrupted one-worker sync, the full-text index complete, its trigger back.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from etl import store
from tests.conftest import make_dataset
from tests.reliability.helpers import assert_same, integrity, run_sync, snapshot, snapshot_of
from webex_emulator import DataSet, Emulator, Faults

ROOT = Path(__file__).resolve().parents[2]


def command(emu: Emulator, archive: Path) -> subprocess.Popen:
    env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token}
    argv = [sys.executable, "-m", "webex_archive", "--archive", str(archive), "-q", "sync"]
    return subprocess.Popen(
        [*argv, "--all", "--workers", "4", "--download", "no"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def pages_answered(emu: Emulator) -> int:
    return sum(1 for e in emu.log.entries() if e.path.startswith("/v1/messages?"))


def spans_hold_their_messages(db_path: Path, ds: DataSet) -> int:
    """Every span's messages are stored: count them by time and compare with the listing
    the emulator gives (no span may claim what was not written). Returns the spans."""
    conn = sqlite3.connect(db_path)
    try:
        spans = conn.execute(
            "SELECT space_id, newest_created, oldest_created FROM coverage"
        ).fetchall()
        for space, newest, oldest in spans:
            stored = conn.execute(
                "SELECT count(*) FROM messages WHERE space_id = ? AND created BETWEEN ? AND ?",
                [space, oldest, newest],
            ).fetchone()[0]
            listed = sum(
                m["roomId"] == space and oldest <= m["created"] <= newest
                for m in ds.messages.values()
            )
            assert stored == listed > 0, (space, newest, oldest)
        return len(spans)
    finally:
        conn.close()


def test_a_run_killed_mid_backfill_resumes_to_the_exact_archive(tmp_path: Path) -> None:
    ds = make_dataset(messages=300, spaces=1, seed=17, hostile_rate=0)
    with Emulator(ds, Faults(latency_ms=10, page_cap=10)) as emu:
        rooms = sorted(ds.rooms)
        _, clean = run_sync(emu, tmp_path / "clean", rooms, workers=1, download="no")
        expected = snapshot(clean)
        total = {
            room: sum(1 for m in ds.messages.values() if m["roomId"] == room) for room in rooms
        }
        archive = tmp_path / "killed"
        emu.log.clear()
        process = command(emu, archive)
        while process.poll() is None and pages_answered(emu) < 12:
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert process.returncode == -signal.SIGKILL, "the run ended before the kill"
        db_path = archive / store.DB_NAME
        assert integrity(db_path) == []
        assert spans_hold_their_messages(db_path, ds) >= 2  # slices stopped half way
        conn = sqlite3.connect(db_path)
        stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        conn.close()
        assert 0 < stored < sum(total.values())
        emu.log.clear()
        process = command(emu, archive)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
        assert all(e.status == 200 for e in emu.log.entries())
    assert integrity(db_path) == []
    assert_same(snapshot_of(archive), expected, "resumed after a kill mid-backfill")
    conn = sqlite3.connect(db_path)
    indexed = conn.execute("SELECT count(*) FROM messages_fts_docsize").fetchone()[0]
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    triggers -= {name for name in triggers if name.startswith("changes_")}  # the record of changes
    conn.close()
    assert indexed == sum(total.values()) and triggers == set(store.FTS_TRIGGERS)

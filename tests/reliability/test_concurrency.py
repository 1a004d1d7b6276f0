"""Two processes on one archive: a second sync refuses in one line, render reads a snapshot.

Both syncs are the real command in subprocesses against an emulator started here, slowed
down (latency, small pages) so that they overlap for sure. A second sync must never corrupt or
duplicate anything: it refuses at once with "another sync is running on the archive … (pid N)"
(etl/store/lock.py), and the first one's archive is exactly an uninterrupted sync's. ``render``
needs no lock: rendering in a loop while a sync writes, every rendering must succeed and its
JSON must agree with itself (the statistics with the messages listed), which holds only if
render reads one consistent snapshot (SQLite WAL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from etl import store
from etl.store.lock import ArchiveBusy, archive_lock
from render import Filters, RenderOptions, render_spaces
from render import query as render_query
from tests.reliability.helpers import (
    assert_same,
    one_line,
    reliability_dataset,
    run_sync,
    snapshot,
    snapshot_of,
    whole,
)
from webex_emulator import Emulator, Faults, Rule
from webex_layout import LOCK_NAME

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    ds = reliability_dataset(messages=150, seed=31, files_every=10)
    with Emulator(ds, Faults(latency_ms=10, page_cap=10)) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def expected(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The archive an uninterrupted ``sync --all --download files`` makes."""
    saved, emu.faults.latency_ms = emu.faults.latency_ms, 0
    rooms = list(emu.dataset.rooms)
    _, db = run_sync(emu, tmp_path_factory.mktemp("reference"), rooms, download="files")
    emu.faults.latency_ms = saved
    return snapshot(db)


def start_sync(emu: Emulator, archive: Path) -> subprocess.Popen:
    env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token}
    argv = [sys.executable, "-m", "webex_archive", "--archive", str(archive), "-q"]
    return subprocess.Popen(
        [*argv, "sync", "--all", "--download", "files"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def people_held(emu: Emulator) -> Iterator[None]:
    """Every request for people (a sync makes one inside its lock, after the walk and before
    the files) held until the block ends: a sync that reached it cannot end meanwhile, however
    slowly the test acts. A set of faults of its own, released at the end (a release is for
    good: the module's emulator must keep holding for the next test)."""
    saved = emu.faults
    held = replace(saved, rules=[Rule("delay", rate=1.0, path="/v1/people?", seconds=120.0)])
    emu.faults = held
    try:
        yield
    finally:
        held.release()
        emu.faults = saved


def wait_for_request(emu: Emulator, path: str, process: subprocess.Popen) -> None:
    """Until the emulator has answered a request for ``path`` (or the process ended)."""
    while process.poll() is None and not any(e.path.startswith(path) for e in emu.log.entries()):
        time.sleep(0.005)


def lock_holder(archive: Path, processes: list[subprocess.Popen]) -> subprocess.Popen:
    """The process that holds the archive's sync lock, once one does: the lock file names
    its holder, which writes its pid there only once it has the lock."""
    by_pid = {process.pid: process for process in processes}
    while True:
        try:
            named = (archive / LOCK_NAME).read_text(encoding="ascii").strip()
        except OSError:  # not created yet, or removed by a holder that ended
            named = ""
        if named.isdigit() and int(named) in by_pid:
            return by_pid[int(named)]
        assert any(p.poll() is None for p in processes), "no sync took the lock"
        time.sleep(0.002)


def test_a_second_sync_refuses_in_one_line_while_the_first_runs(
    emu: Emulator, expected: dict, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    emu.log.clear()
    # The people come after the walk, inside the lock: held there until the second sync has
    # ended, the first cannot end before it, however slowly this test sees its first message
    # page (the parallel walk alone is over in a blink). It is also stopped (SIGSTOP) until
    # the second one has ended: however slowly a loaded machine starts the second process,
    # it meets the lock held.
    with people_held(emu):
        first = start_sync(emu, archive)
        wait_for_request(emu, "/v1/messages", first)  # inside sync_spaces: the lock is held
        os.kill(first.pid, signal.SIGSTOP)
        try:
            second = start_sync(emu, archive)
            _, refusal = second.communicate(timeout=60)
        finally:
            os.kill(first.pid, signal.SIGCONT)
        assert first.poll() is None, "the first sync ended before the second one started"
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 0, stderr
    assert second.returncode == 1
    assert one_line(refusal.strip()) and "Traceback" not in refusal
    assert f"another sync is running on the archive {archive}" in refusal
    assert f"(pid {first.pid})" in refusal and "--archive" in refusal
    assert_same(snapshot_of(archive), expected, "after two overlapping syncs")
    whole(archive)


def test_two_syncs_started_together_one_runs_one_refuses(
    emu: Emulator, expected: dict, tmp_path: Path
) -> None:
    """Both open a new archive at the same moment (schema creation races too).

    Started together is not yet running together: on a loaded machine one process may start
    so late that the other has finished (then both succeed, one after the other). So the one
    that takes the lock is held in it (at the people until the other ends, and stopped)."""
    archive = tmp_path / "archive"
    with people_held(emu):
        processes = [start_sync(emu, archive) for _ in range(2)]
        holder = lock_holder(archive, processes)
        os.kill(holder.pid, signal.SIGSTOP)
        try:
            [other] = [p for p in processes if p is not holder]
            other.wait(timeout=60)
        finally:
            os.kill(holder.pid, signal.SIGCONT)
    outcomes = sorted((p.communicate(timeout=60)[1], p.wait()) for p in processes)
    codes = sorted(code for _, code in outcomes)
    assert codes == [0, 1], outcomes
    refusal = next(err for err, code in outcomes if code == 1)
    # The loser meets the sync lock, taken before the archive is opened (or created): never
    # SQLite's own lock while the other one creates the schema.
    assert one_line(refusal.strip()), refusal
    assert f"another sync is running on the archive {archive}" in refusal, refusal
    assert_same(snapshot_of(archive), expected, "after two syncs started together")
    whole(archive)


def check_statistics(document: dict) -> None:
    """The JSON's statistics agree with its own messages (only true of one snapshot)."""
    stats, threads = document["statistics"], document["messages"]
    shown = [m for t in threads for m in [t, *t.get("replies", [])] if m["in_window"]]
    assert stats["in_window"] == len(shown) == stats["in_archive"]
    assert stats["replies"] == sum(r["in_window"] for t in threads for r in t.get("replies", []))
    top = sum(a["messages"] for a in stats["top_authors"]) + stats["other_authors"]
    assert top == stats["in_window"]
    files = [f for m in shown for f in m["files"]]
    assert stats["files"]["count"] + stats["images"]["count"] == len(files)
    assert stats["files"]["downloaded"] + stats["images"]["downloaded"] == sum(
        f["status"] == "downloaded" for f in files
    )
    created = sorted(m["created"] for m in shown)
    assert (stats["first_message"], stats["last_message"]) == (
        (created[0], created[-1]) if created else (None, None)
    )


# Whether a rendering straddles a commit depends on timing; the test below makes the
# interleaving certain.
def test_render_while_sync_writes_sees_a_consistent_snapshot(emu: Emulator, tmp_path: Path) -> None:
    archive, out = tmp_path / "archive", tmp_path / "out"
    emu.log.clear()
    sync = start_sync(emu, archive)
    wait_for_request(emu, "/v1/messages", sync)
    options = RenderOptions(filters=Filters(), formats=("json",), output=out)
    renders, growing = 0, set()
    while sync.poll() is None:
        for path in render_spaces(archive, [], True, options):
            document = json.loads(path.read_text(encoding="utf-8"))
            check_statistics(document)
            growing.add(document["statistics"]["in_archive"])
        renders += 1
    _, stderr = sync.communicate()
    assert sync.returncode == 0, stderr
    assert renders >= 5 and len(growing) >= 3, (renders, growing)  # it did read mid-sync


def test_a_commit_between_two_statements_of_a_rendering_is_not_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving made certain: before each statement render runs, another connection
    commits a new message to the space (as a sync's page would). One rendering must not see
    any of them, or its statistics and its messages disagree."""
    ds = reliability_dataset(messages=20, seed=6)
    room = next(r for r in ds.rooms.values() if r["type"] == "group")["id"]
    with Emulator(ds) as emulator:
        run_sync(emulator, tmp_path, [room], download="no")
    writer = store.open_archive(tmp_path)
    template = json.loads(writer.execute("SELECT raw FROM messages LIMIT 1").fetchone()[0])
    added = []

    def commit_a_message(statement: str) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            number = len(added)
            message = {
                **template,
                "id": f"late-{number}",
                "created": f"2026-11-27T00:00:{number:02d}.000Z",
            }
            with store.transaction(writer):
                store.save_messages(writer, [message], store.utc_now())
            added.append(message["id"])

    real_connect = render_query.connect

    def traced(archive: Path):  # the real connection, watched
        conn = real_connect(archive)
        conn.set_trace_callback(commit_a_message)
        return conn

    monkeypatch.setattr(render_query, "connect", traced)
    options = RenderOptions(filters=Filters(), formats=("json",), output=tmp_path / "out")
    [path] = [p for p in render_spaces(tmp_path, [room], False, options)]
    assert len(added) >= 3  # the commits did happen, between the statements
    check_statistics(json.loads(path.read_text(encoding="utf-8")))


def test_a_read_only_connection_reads_one_snapshot(tmp_path: Path) -> None:
    """store.connect_readonly (``status``): what a writer commits meanwhile stays unseen
    until the reader opens again."""
    ds = reliability_dataset(messages=20, seed=5)
    with Emulator(ds) as emulator:
        run_sync(emulator, tmp_path, [next(iter(ds.rooms))], download="no")
        reader = store.connect_readonly(tmp_path)
        before = reader.execute("SELECT count(*) FROM messages").fetchone()
        emulator.add_messages(next(iter(ds.rooms)), 5)
        run_sync(emulator, tmp_path, [next(iter(ds.rooms))], download="no")
        assert reader.execute("SELECT count(*) FROM messages").fetchone() == before
        reader.close()
        fresh = store.connect_readonly(tmp_path)
        assert fresh.execute("SELECT count(*) FROM messages").fetchone()[0] == before[0] + 5
        fresh.close()


def test_the_lock_names_its_holder_and_is_gone_after_the_run(tmp_path: Path) -> None:
    """In-process: a held lock refuses a sync at once (with this pid), before it writes
    anything; the file is removed when the run ends, however it ends."""
    ds = reliability_dataset(messages=10, seed=8)
    room = next(iter(ds.rooms))
    with Emulator(ds) as emulator:
        run_sync(emulator, tmp_path, [room], download="no")
        assert not (tmp_path / "archive.lock").exists()
        holder = store.open_archive(tmp_path)
        with archive_lock(holder):
            assert (tmp_path / "archive.lock").read_text() == str(os.getpid())
            with pytest.raises(ArchiveBusy, match=rf"\(pid {os.getpid()}\); wait for it"):
                run_sync(emulator, tmp_path, [room], download="no")
        assert not (tmp_path / "archive.lock").exists()
        runs = holder.execute("SELECT count(*) FROM sync_runs").fetchone()[0]
        assert runs == 1  # the refused run did not even open a run record
        run_sync(emulator, tmp_path, [room], download="no")  # free again

"""The parallel backfill (etl/backfill.py): the same archive as one walk, exactly stitched.

Each test syncs over real HTTP from the emulator into real archives and compares whole tables
(tests/reliability/helpers.snapshot) with a one-worker sync of the same data.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from etl import store
from etl.api import RetryPolicy, WebexClient
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import make_dataset
from tests.reliability.helpers import (
    assert_same,
    group_room_id,
    owned_space,
    run_sync,
    snapshot,
)
from webex_emulator import Emulator, Faults, Rule
from webex_emulator.ids import make_id

FAST = RetryPolicy(tries=3, backoff=0.01, backoff_cap=0.05)
PAUSE = 2  # seconds of Retry-After in the 429 test


def message_requests(emu: Emulator) -> list[dict[str, list[str]]]:
    """The query of every /v1/messages list request the emulator answered, in order."""
    return [
        parse_qs(urlsplit(entry.path).query)
        for entry in emu.log.entries()
        if urlsplit(entry.path).path == "/v1/messages"
    ]


def sync_both(emu: Emulator, tmp_path: Path, rooms: list[str], **options: object) -> tuple:
    """The same rooms synced with one worker and with four; the second run's requests."""
    _, one = run_sync(emu, tmp_path / "one", rooms, FAST, workers=1, **options)
    emu.log.clear()
    results, four = run_sync(emu, tmp_path / "four", rooms, FAST, workers=4, **options)
    assert [r.error for r in results] == [None] * len(rooms)
    return one, four, message_requests(emu)


def fts_complete(db: object) -> None:
    """Every message indexed once (FTS5's own check), and the insert trigger is back."""
    conn = db.conn  # type: ignore[attr-defined]
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    count = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    indexed = conn.execute("SELECT count(*) FROM messages_fts_docsize").fetchone()[0]
    assert indexed == count
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    triggers -= {name for name in triggers if name.startswith("changes_")}  # the record of changes
    assert triggers == set(store.FTS_TRIGGERS)


def test_four_workers_archive_exactly_what_one_walk_does(tmp_path: Path) -> None:
    ds = make_dataset(messages=400, spaces=2, seed=3, hostile_rate=0.05)
    with Emulator(ds) as emu:
        rooms = [r["id"] for r in ds.rooms.values()]
        one, four, requests = sync_both(emu, tmp_path, rooms, page_size=10, download="info")
    assert_same(snapshot(four), snapshot(one), "four workers against one")
    starts = [q for q in requests if "before" in q]
    assert len(starts) >= 4  # slices did start at time bounds, side by side
    coverage = four.execute("SELECT space_id, reaches_start FROM coverage").fetchall()
    assert sorted(coverage) == sorted((room, 1) for room in rooms)  # one span a space
    assert four.execute("SELECT count(*) FROM messages").fetchone()[0] == len(ds.messages)
    fts_complete(four)


def tied_space(emu: Emulator, per_ms: int, milliseconds: int) -> tuple[str, list[str]]:
    """A space whose messages share their created time, ``per_ms`` at each of the first
    ``milliseconds`` milliseconds after the space was created: every slice bound is a tie."""
    ds = emu.dataset
    owner = ds.tokens[emu.token]
    ids = []
    with ds.lock:
        room_id = owned_space(ds, owner, "Ties", "2024-01-01T00:00:00.100Z")
        for ms in range(1, milliseconds + 1):
            for n in range(per_ms):
                message_id = make_id("MESSAGE", str(uuid.uuid4()))
                ids.append(message_id)
                created = f"2024-01-01T00:00:00.{ms:03d}Z"
                ds.add_message({"id": message_id, "roomId": room_id, "personId": owner,
                                "text": f"{ms} ms, {n}", "created": created})  # fmt: skip
    return room_id, ids


def test_messages_sharing_a_time_at_slice_bounds_are_neither_lost_nor_doubled(
    tmp_path: Path,
) -> None:
    """Twenty milliseconds of five messages each, pages of three: the slices' bounds are whole
    milliseconds, so every bound falls among messages created at the same instant."""
    ds = make_dataset(messages=5, spaces=1, seed=5, hostile_rate=0)
    with Emulator(ds) as emu:
        room, ids = tied_space(emu, per_ms=5, milliseconds=20)
        one, four, requests = sync_both(emu, tmp_path, [room], page_size=3, download="no")
    bounds = sorted({q["before"][0] for q in requests if "before" in q})
    assert len(bounds) >= 5 and all(b.startswith("2024-01-01T00:00:00.0") for b in bounds)
    stored = [r[0] for r in four.execute("SELECT id FROM messages WHERE space_id = ?", [room])]
    assert sorted(stored) == sorted(ids)  # all 100, each once (the primary key: once)
    assert_same(snapshot(four), snapshot(one), "ties at slice bounds")
    assert four.execute("SELECT space_id, oldest_id, reaches_start FROM coverage").fetchall() == [
        (room, ids[0], 1)  # the first message Webex lists last (the emulator: as added)
    ]


def test_a_429_on_one_worker_pauses_all_of_them(tmp_path: Path) -> None:
    """Retry-After 2 on a message page in the middle of the backfill: no worker sends a
    request while the pause lasts, but for those already on their way when it began (at most
    one each of the other three), and the archive is complete afterwards. A worker that
    ignored the pause would go on fetching its slice in it, a page every few milliseconds.

    The pause begins when the client reads the 429, some time after the emulator answered it
    (0.3 s under a load average of 9, when this test counted from the answer and failed), and
    lasts Retry-After from then: so it surely covers the time from the client's notice of it
    (its ``notify``, called once the pause is set) to the answer's time plus Retry-After,
    whatever the load; that window is the one counted."""
    ds = make_dataset(messages=300, spaces=1, seed=9, hostile_rate=0)
    room = group_room_id(ds)
    noticed: list[float] = []

    def notify(message: str) -> None:
        if message.startswith("rate-limited by Webex (429)"):
            noticed.append(time.time())

    with Emulator(ds, Faults(latency_ms=5)) as emu:
        run_sync(emu, tmp_path / "clean", [room], FAST, workers=1, page_size=10, download="no")
        clean = snapshot(store.open_archive(tmp_path / "clean"))
        emu.log.clear()
        emu.add_fault(Rule("status", 429, at=[8], retry_after=PAUSE, path="/v1/messages"))
        db = store.open_archive(tmp_path / "paused")
        options = SyncOptions(
            workers=4, page_size=10, download="no", archive_dir=tmp_path / "paused"
        )
        with WebexClient(emu.token, emu.api_url, (2.0, 2.0), FAST, notify=notify) as client:
            results = sync_spaces(db, client, [room], options)
        log = emu.log.entries()
    assert [r.error for r in results] == [None]
    [struck] = [e for e in log if e.status == 429]
    [begun] = noticed
    paused_until = struck.started + struck.seconds + PAUSE  # at the earliest
    # half a second at least to count in: the client read the 429 within 1.5 s of its answer
    assert paused_until - begun >= 0.5, (begun, paused_until)
    during = [e for e in log if begun < e.started < paused_until]
    assert len(during) <= 3, during  # every worker waited out the pause
    after = [e for e in log if e.started >= begun + PAUSE and "/v1/messages" in e.path]
    assert len(after) >= 2
    assert_same(snapshot(db), clean, "after a 429 mid-backfill")


def test_gaps_between_spans_are_filled_in_parallel_and_joined(tmp_path: Path) -> None:
    """A first sync that stops at --since, then one asking for all history: the gap below
    is walked in slices and the coverage ends as one span, as a single walk leaves it."""
    ds = make_dataset(messages=300, spaces=1, seed=13, hostile_rate=0)
    room = group_room_id(ds)
    times = sorted(m["created"] for m in ds.messages.values() if m["roomId"] == room)
    with Emulator(ds) as emu:
        _, reference = run_sync(emu, tmp_path / "ref", [room], FAST, workers=1, page_size=10)
        archive = tmp_path / "gaps"
        run_sync(emu, archive, [room], FAST, workers=4, page_size=10, since=times[200])
        conn = sqlite3.connect(archive / store.DB_NAME)
        assert conn.execute("SELECT reaches_start FROM coverage").fetchall() == [(0,)]
        conn.close()
        emu.log.clear()
        results, db = run_sync(emu, archive, [room], FAST, workers=4, page_size=10, since=times[0])
        requests = message_requests(emu)
    assert [r.error for r in results] == [None]
    assert any("before" in q for q in requests)
    want, have = snapshot(reference), snapshot(db)
    assert have["messages"] == want["messages"] and have["coverage"] == want["coverage"]

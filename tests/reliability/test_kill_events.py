"""Kill -9 at random moments during a compliance officer's events-driven sync: the resumed
archive is always the one an uninterrupted officer sync makes (test_kill.py's method).

The real command, ``webex-archive sync --org --custodian <owner>``, runs in a subprocess with
an officer's token against an emulator (8 ms a request, lists capped at 15 items a page, the
feed too), and is killed with SIGKILL after a random number of answered requests: in the feed
read (each page its own transaction, the checkpoint with the last), in a space's walk, in the
recovery of a deleted message by id, in the people. Between rounds the organisation changes:
new messages, edits, deletions of archived messages and of one never archived, a member
leaving and joining again, some dated hours back so that only a complete read of the feed
finds them (each round starts both archives' checkpoints a day back). Each completed resume
must leave the archive equal, table by table and the events table included, to the reference
synced without interruption at the same moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from etl import store
from etl.api import WebexClient
from etl.compliance import CompliancePlan, Selection
from etl.store import events as feed_store
from etl.sync import SyncOptions, sync_spaces
from tests.reliability.helpers import (
    FAST,
    TABLES,
    assert_same,
    group_room_id,
    integrity,
    reliability_dataset,
    snapshot,
)
from webex_emulator import Emulator, Faults
from webex_emulator.ids import format_time

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261206
KILLS = 14
ROUNDS = 12  # at most: the chain stops at KILLS; an attempt that completes first kills nothing
KILLS_PER_ROUND = 2


def officer_snapshot(db) -> dict[str, list]:
    """helpers.snapshot with the events table; its checkpoint is a time, not history."""
    shot = snapshot(db, (*TABLES, "events"))
    shot["meta"] = [row for row in shot["meta"] if ("key", "events_checkpoint") not in row]
    shot["events"] = [
        tuple((n, v is not None) if n == "applied_at" else (n, v) for n, v in row)
        for row in shot["events"]
    ]
    return shot


def kind(entry) -> str:
    path = entry.path.partition("?")[0]
    if path == "/v1/events":
        return "events"
    if path.startswith("/v1/messages/"):
        return "recovery"
    return "pages" if path == "/v1/messages" else "other"


class Chain:
    def __init__(self, emu: Emulator, tmp: Path, rng: random.Random):
        self.emu, self.tmp, self.rng = emu, tmp, rng
        self.token = emu.officer_token()
        self.owner = emu.dataset.people[emu.dataset.tokens[emu.token]]["emails"][0]
        self.kills: Counter = Counter()

    def reference(self) -> dict:
        db = store.open_archive(self.tmp / "reference")
        with WebexClient(self.token, self.emu.api_url, retry=FAST) as client:
            selection = Selection(org=True, custodians=[self.owner])
            plan = CompliancePlan(client, selection, lambda line: None)
            results = sync_spaces(db, client, [], SyncOptions(download="no"), plan=plan)
        assert all(r.error is None for r in results)
        return officer_snapshot(db)

    def attempt(self, kill_after: int) -> bool:
        self.emu.log.clear()
        env = {**os.environ, "WEBEX_API_URL": self.emu.api_url, "WEBEX_ARCHIVE_TOKEN": self.token}
        argv = [sys.executable, "-m", "webex_archive", "--archive", str(self.tmp / "killed")]
        process = subprocess.Popen(
            [*argv, "-q", "sync", "--org", "--custodian", self.owner, "--download", "no"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        while process.poll() is None and len(self.emu.log.entries()) < kill_after:
            time.sleep(0.002)
        last = []
        if process.poll() is None:
            time.sleep(self.rng.uniform(0, 0.016))
            last = self.emu.log.entries()[-1:]
            process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate()
        if process.returncode == -signal.SIGKILL:
            self.kills[kind(last[0]) if last else "start-up"] += 1
            database = self.tmp / "killed" / "archive.db"
            assert not database.exists() or integrity(database) == []
            return True
        assert process.returncode == 0, stderr.decode()
        return False


def ago(hours: float) -> str:
    return format_time(datetime.now(timezone.utc) - timedelta(hours=hours))


def change(emu: Emulator, rng: random.Random) -> None:
    """A day in the organisation: messages, edits and deletions (one of a message no sync
    saw), a member who joins and leaves. The old messages' edits and deletions, the join and
    the leave are dated hours ago: only the feed tells of them, and only a feed read from
    the round's checkpoint (a day back, see the test) through its last page."""
    ds, room = emu.dataset, group_room_id(emu.dataset)
    fresh = emu.add_messages(room, 14, seed=rng.randrange(1 << 30))
    emu.edit_message(fresh[0]["id"], text="edited the same day")
    emu.delete_message(fresh[1]["id"])
    old = [m for m in ds.messages.values() if m["roomId"] == room and "text" in m][:30]
    edited, deleted = rng.sample(old, 2)
    emu.edit_message(edited["id"], text=f"edited {rng.random()}", updated=ago(rng.uniform(2, 20)))
    emu.delete_message(deleted["id"], at=ago(rng.uniform(2, 20)))
    gone = emu.post_message(room, text="said and taken back before any sync")
    emu.delete_message(gone["id"])
    members = [m for m in ds.memberships[room] if m["personId"] != ds.tokens[emu.token]]
    member = rng.choice(members)
    emu.remove_member(member["id"], at=ago(rng.uniform(2, 10)))
    emu.add_member(room, member["personId"], at=ago(rng.uniform(0.5, 1.5)))


def checkpoint_a_day_back(archive: Path) -> None:
    """Both archives read the same day of the feed this round (their checkpoints would
    otherwise be seconds apart, and the feed's overlap would hide a lost page)."""
    if (archive / "archive.db").exists():
        db = store.open_archive(archive)
        with store.transaction(db):
            feed_store.set_checkpoint(db, ago(24))
        db.conn.close()


def test_kill_9_during_an_events_driven_sync_resumes_identically(tmp_path: Path) -> None:
    ds = reliability_dataset(messages=45, seed=31, files_every=5)
    rng = random.Random(SEED)
    with Emulator(ds, Faults(latency_ms=8, page_cap=15)) as emu:
        chain = Chain(emu, tmp_path, rng)
        for round_number in range(ROUNDS):
            if round_number:
                change(emu, rng)
            for archive in ("reference", "killed"):
                checkpoint_a_day_back(tmp_path / archive)
            emu.log.clear()
            expected = chain.reference()
            points = [e.number + 1 for e in emu.log.entries()]
            killed = 0
            while killed < KILLS_PER_ROUND and chain.attempt(rng.choice(points)):
                killed += 1
            if killed == KILLS_PER_ROUND:
                assert not chain.attempt(10**9)
            db = store.connect_readonly(tmp_path / "killed")
            try:
                assert_same(officer_snapshot(db), expected, f"round {round_number}")
            finally:
                db.conn.close()
            if sum(chain.kills.values()) >= KILLS:
                break
    print(f"\n{sum(chain.kills.values())} kills: {dict(chain.kills)}")
    assert sum(chain.kills.values()) >= KILLS
    assert chain.kills["events"] >= 2

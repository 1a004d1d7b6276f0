"""Kill -9 at random moments: the resumed archive is always the one an uninterrupted sync makes.

The real command, ``python -m webex_archive --archive DIR sync --all --download files``, runs in
a subprocess against an emulator started here (8 ms latency per request; lists capped at 15
items a page, as Webex caps ``max``, so that the walk has pages). It is killed with SIGKILL
when the emulator has answered a random number of its requests (seeded), resumed, killed
again... and each run that completes must leave the archive equal to a reference archive
synced without interruption at the same moments (``helpers.snapshot``), with SQLite's
integrity check ok, no ``.part`` or stray file, and every file's sha256 matching its row.

Between rounds the space changes (new messages with files, a reply to an old thread, an edit,
a deletion), so later runs walk the look-back window and kills land there too. Two chains
(two emulators, two archives) run side by side to use both cores.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.helpers import (
    assert_same,
    group_room_id,
    integrity,
    kind_of,
    reliability_dataset,
    run_sync,
    snapshot,
    snapshot_of,
    whole,
)
from webex_emulator import Emulator, Faults

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261128
KILLS_PER_CHAIN = 16  # two chains: 32 kills
ROUNDS = 12  # data-set changes per chain, at most (the chain stops at its kills)
KILLS_PER_ROUND = 3
LATENCY_MS = 8
PAGE_CAP = 15


@dataclass
class Chain:
    """One archive killed again and again, and its uninterrupted reference."""

    name: str
    emu: Emulator
    tmp: Path
    rng: random.Random
    kills: Counter = field(default_factory=Counter)  # kind of the last request → kills
    completed: int = 0

    @property
    def archive(self) -> Path:
        return self.tmp / "killed"

    def command(self) -> subprocess.Popen:
        env = {
            **os.environ,
            "WEBEX_API_URL": self.emu.api_url,
            "WEBEX_ARCHIVE_TOKEN": self.emu.token,
        }
        argv = [sys.executable, "-m", "webex_archive", "--archive", str(self.archive), "-q"]
        return subprocess.Popen(
            [*argv, "sync", "--all", "--download", "files"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def attempt(self, kill_after: int) -> bool:
        """Run the command; kill it once ``kill_after`` requests were answered (and a few ms
        more). True if it was killed, False if it completed first."""
        self.emu.log.clear()
        process = self.command()
        while process.poll() is None and len(self.emu.log.entries()) < kill_after:
            time.sleep(0.002)
        last = []
        if process.poll() is None:
            time.sleep(self.rng.uniform(0, LATENCY_MS / 1000 * 2))
            last = self.emu.log.entries()[-1:]
            process.send_signal(signal.SIGKILL)  # a no-op if it has just completed
        _, stderr = process.communicate()
        if process.returncode == -signal.SIGKILL:
            phase = kind_of(last[0]) if last else "start-up"
            self.kills[phase + (" (look-back)" if self.lookback(last) else "")] += 1
            if (self.archive / "archive.db").exists():
                assert integrity(self.archive / "archive.db") == [], self.name
            return True
        assert process.returncode == 0, stderr.decode()
        return False

    def lookback(self, last: list) -> bool:
        """A page that re-reads known history: the look-back (every round but the first)."""
        return bool(last) and self.completed > 0 and kind_of(last[0]).startswith("page")


def change_the_space(emu: Emulator, rng: random.Random) -> None:
    """What happens in a space between two syncs: new messages (four with files, one of
    them the same bytes as another), a reply to an older thread, an edit and a deletion of
    recent messages."""
    ds, room = emu.dataset, group_room_id(emu.dataset)
    fresh = emu.add_messages(room, 6, seed=rng.randrange(1 << 30))
    blobs = [rng.randbytes(rng.randint(500, 20_000)) for _ in range(3)]
    for index, name in enumerate(("minutes.txt", "plan.pdf", "minutes.txt", "copy.bin")):
        data = blobs[min(index, 2)] if index < 3 else blobs[0]
        emu.post_message(room, text=f"file {index}", files=[{"filename": name, "data": data}])
    parent = rng.choice(
        [m for m in ds.messages.values() if m["roomId"] == room and "parentId" not in m]
    )
    emu.post_message(room, text="a late reply", parent_id=parent["id"])
    emu.edit_message(fresh[0]["id"], text="edited after the last sync")
    emu.delete_message(fresh[1]["id"])


def reference(chain: Chain) -> dict:
    """The uninterrupted archive at this moment (in-process, same options as the command)."""
    rooms = sorted(chain.emu.dataset.rooms, key=lambda r: chain.emu.dataset.rooms[r]["created"])
    results, db = run_sync(chain.emu, chain.tmp / "reference", rooms, download="files")
    assert all(r.error is None for r in results)
    return snapshot(db)


PHASES = {"pages": ("page-first", "page-cursor"), "file info": ("head",), "downloads": ("file",)}


def kill_points(chain: Chain) -> dict[str, list[int]]:
    """Request counts after which to kill, by phase, from the reference run's log (+1: the
    command first lists the spaces). "other" is start-up, rooms, members and people."""
    points: dict[str, list[int]] = {phase: [] for phase in [*PHASES, "other"]}
    for entry in chain.emu.log.entries():
        phase = next((p for p, kinds in PHASES.items() if kind_of(entry) in kinds), "other")
        points[phase].append(entry.number + 1)
    points["other"] += [0, 1]
    return points


def pick(chain: Chain, points: dict[str, list[int]]) -> int:
    """A phase at random (so that short phases are hit as often as long ones), then a moment
    in it: each phase gets about a quarter of the kills."""
    return chain.rng.choice(points[chain.rng.choice([p for p in points if points[p]])])


def run_chain(chain: Chain) -> None:
    for round_number in range(ROUNDS):
        if round_number:
            change_the_space(chain.emu, chain.rng)
        chain.emu.log.clear()
        expected = reference(chain)
        points = kill_points(chain)
        killed = 0
        while killed < KILLS_PER_ROUND and chain.attempt(pick(chain, points)):
            killed += 1
        if killed == KILLS_PER_ROUND:
            assert not chain.attempt(10**9)  # the resume that completes
        chain.completed += 1
        assert_same(snapshot_of(chain.archive), expected, f"{chain.name} round {round_number}")
        whole(chain.archive)
        if sum(chain.kills.values()) >= KILLS_PER_CHAIN:
            return


def test_kill_9_at_random_moments_never_loses_or_duplicates(tmp_path: Path) -> None:
    chains, errors = [], []
    for index in range(2):
        ds = reliability_dataset(messages=45, seed=20 + index, files_every=5)
        faults = Faults(latency_ms=LATENCY_MS, page_cap=PAGE_CAP)
        emu = Emulator(ds, faults).start()
        tmp = tmp_path / f"chain{index}"
        tmp.mkdir()
        chains.append(Chain(f"chain {index}", emu, tmp, random.Random(SEED + index)))

    def guarded(chain: Chain) -> None:
        try:
            run_chain(chain)
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(chain,)) for chain in chains]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for chain in chains:
            chain.emu.stop()
    if errors:
        raise errors[0]
    kills = sum((chain.kills for chain in chains), Counter())
    runs = sum(chain.completed for chain in chains)
    print(f"\n{sum(kills.values())} kills, {runs} completed resumes compared: {dict(kills)}")
    assert sum(kills.values()) >= 30
    assert kills["file"] >= 3 and sum(n for k, n in kills.items() if "look-back" in k) >= 2
    assert sum(n for k, n in kills.items() if k.startswith("page")) >= 3

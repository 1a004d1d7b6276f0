"""The fault matrix over a compliance officer's run (test_faults.py's method, /events too).

An officer's first run over an organisation that changed within the retention window (posts,
edits, deletions of messages no sync saw, a member who came and went): the officer check, who
am I, the feed (capped at 10 events a page, so several pages), the custodian's memberships,
each space's room, pages and members, the recoveries by id and the people. Every retried
fault at EVERY request (two variants of the 429 at one request of each kind: see
test_faults.SAMPLED) leaves the archive identical to the fault-free one; a fault beyond
the retries at any feed request ends the run in one line, and a fault-free run heals it.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from etl import store
from etl.api import WebexClient, WebexError
from etl.compliance import CompliancePlan, Selection
from etl.sync import SyncOptions, sync_spaces
from tests.reliability.helpers import (
    FAST,
    assert_same,
    group_room_id,
    one_line,
    reliability_dataset,
    short_sleep,
    snapshot,
    whole,
)
from tests.reliability.test_faults import EVERY_K, strike_points
from webex_emulator import Emulator, Faults, Rule
from webex_emulator.faults import LogEntry

PAGE_CAP = 10


@dataclass
class World:
    emu: Emulator
    token: str
    custodian: str
    clean: dict
    log: list[LogEntry]
    tmp: Path

    def points(self, events_only: bool = False) -> list[int]:
        return [e.number for e in self.log if not events_only or e.path.startswith("/v1/events")]


def officer_run(world_or_emu, token: str, custodian: str, archive: Path) -> tuple[list, object]:
    emu = world_or_emu
    db = store.open_archive(archive)
    client = WebexClient(token, emu.api_url, (1.0, 0.25), FAST, sleep=short_sleep)
    with client:
        plan = CompliancePlan(client, Selection(custodians=[custodian]), lambda line: None)
        plan.check_officer()
        options = SyncOptions(page_size=10, download="no")
        return sync_spaces(db, client, [], options, plan=plan), db


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    ds = reliability_dataset(messages=30, seed=41)
    room = group_room_id(ds)
    tmp = tmp_path_factory.mktemp("officer-faults")
    with Emulator(ds, Faults(page_cap=PAGE_CAP)) as emu:
        token = emu.officer_token()
        fresh = emu.add_messages(room, 20, seed=5)
        emu.edit_message(fresh[0]["id"], text="edited")
        for message in fresh[1:4]:
            emu.delete_message(message["id"])
        owner = ds.tokens[emu.token]
        member = next(m for m in ds.memberships[room] if m["personId"] != owner)
        emu.remove_member(member["id"])  # a member who leaves and comes back
        emu.add_member(room, member["personId"])
        custodian = ds.people[ds.tokens[emu.token]]["emails"][0]
        results, db = officer_run(emu, token, custodian, tmp / "clean")
        assert all(r.error is None for r in results) and sum(r.deleted for r in results) == 3
        log = emu.log.entries()
        assert sum(e.path.startswith("/v1/events?from=") or "cursor=" in e.path for e in log) >= 3
        yield World(emu, token, custodian, shot(db), log, tmp)


def shot(db) -> dict:
    full = snapshot(db, ("messages", "memberships", "events"))
    full["events"] = [tuple(c for c in row if c[0] != "applied_at") for row in full["events"]]
    return full


@contextlib.contextmanager
def faulted(world: World, *rules: Rule) -> Iterator[None]:
    world.emu.faults = Faults(rules=list(rules), page_cap=PAGE_CAP)
    world.emu.log.clear()
    try:
        yield
    finally:
        world.emu.faults = Faults(page_cap=PAGE_CAP)


def fresh_archive(world: World, label: str) -> Path:
    path = world.tmp / label.replace(" ", "-").replace(",", "").replace(":", "")
    shutil.rmtree(path, ignore_errors=True)
    return path


@pytest.mark.parametrize("fault", [*EVERY_K, "empty page"])
def test_a_retried_fault_at_every_request_of_an_officer_run_changes_nothing(world, fault):
    clean = world.clean
    for k in strike_points(world.log, fault, world.points(events_only=fault == "empty page")):
        label = f"{fault} at {k}"
        rules = [Rule("empty_page", at=[k])] if fault == "empty page" else EVERY_K[fault](k)
        archive = fresh_archive(world, label)
        with faulted(world, *rules):
            results, db = officer_run(world.emu, world.token, world.custodian, archive)
            struck = [e for e in world.emu.log.settled() if e.fault]
        assert struck, f"{label}: the fault never struck"
        assert all(r.error is None for r in results), label
        assert_same(shot(db), clean, label)
        whole(archive)


def test_a_feed_failing_beyond_the_retries_ends_in_one_line_and_heals(world):
    clean = world.clean
    for k in world.points(events_only=True)[1:]:  # the first is the officer check
        label = f"503 from feed request {k}"
        archive = fresh_archive(world, label)
        rule = Rule("status", 503, at=list(range(k, k + FAST.tries)))
        with faulted(world, rule), pytest.raises(WebexError) as failed:
            officer_run(world.emu, world.token, world.custodian, archive)
        assert one_line(str(failed.value)) and "503" in str(failed.value), label
        db = store.open_archive(archive)
        assert db.execute("SELECT status FROM sync_runs").fetchall() == [("failed",)], label
        assert store.events.checkpoint(db) is None, label  # the feed was not read through
        whole(archive)
        _, db = officer_run(world.emu, world.token, world.custodian, archive)
        assert_same(shot(db), clean, f"{label}, then a fault-free run")

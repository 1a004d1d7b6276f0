"""The correctness matrix of issue 14: the change scenarios under each reading of what Webex
leaves undocumented (docs/undocumented.md), each run ending with the archive a full re-read
into a fresh archive gives.

Two group spaces, both with messages inside the 7-day look-back: a busy one and a quiet one
(three recent messages). A first ``sync --all``, then a change, then a second ``sync --all``
into the same archive; then a fresh archive synced once. The incremental archive must hold
exactly the fresh one's live messages, files, members and spaces, plus the history only it
can know: the earlier version of each edited message (``message_revisions``), each deleted
message marked, each member who left marked. Members are listed again when their listing is
due (``stale_days``; 0 here): Webex does not say whether joining or leaving moves
``lastActivity``, and the emulator's does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from etl import store
from etl.api import RetryPolicy, WebexClient
from etl.spaces import list_spaces
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import make_dataset
from webex_emulator import DataSet, Emulator, Latency, Quirks, Quota

PATIENT = RetryPolicy(tries=3, backoff=0.01, backoff_cap=0.05, max_retry_after=2)
OPTIONS = {"page_size": 100, "stale_days": 0, "workers": 2}


@dataclass
class Expected:
    """What only the incremental archive knows: ids edited (with their text before), deleted,
    and memberships ended."""

    revisions: set[tuple[str, str]] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    left: set[str] = field(default_factory=set)


@dataclass
class World:
    emu: Emulator
    ds: DataSet
    busy: str
    quiet: str

    def recent(self, room: str) -> list[dict]:
        """The room's messages newest first."""
        mine = [m for m in self.ds.messages.values() if m["roomId"] == room]
        return sorted(mine, key=lambda m: m["created"], reverse=True)


def new_messages(world: World, expected: Expected) -> None:
    world.emu.add_messages(world.busy, 7, seed=1)
    world.emu.add_messages(world.quiet, 1, seed=2)


def edit(room: Callable[[World], str], index: int) -> Callable[[World, Expected], None]:
    def change(world: World, expected: Expected) -> None:
        message = world.recent(room(world))[index]
        expected.revisions.add((message["id"], message["text"]))
        world.emu.edit_message(message["id"], text="edited: " + message["text"])

    return change


def delete(room: Callable[[World], str], index: int) -> Callable[[World, Expected], None]:
    def change(world: World, expected: Expected) -> None:
        message = world.recent(room(world))[index]
        expected.deleted.add(message["id"])
        world.emu.delete_message(message["id"])

    return change


def late_reply(world: World, expected: Expected) -> None:
    """A reply to the quiet space's oldest message, whose parent lies far below the window."""
    parent = world.recent(world.quiet)[-1]
    world.emu.post_message(world.quiet, "a late reply", parent_id=parent["id"])


def new_file(world: World, expected: Expected) -> None:
    world.emu.post_message(world.quiet, "a file", files=[{"filename": "plan ä.pdf", "size": 2000}])


def members(world: World, expected: Expected) -> None:
    """Someone joins the quiet space and one of its members leaves."""
    current = world.ds.memberships[world.quiet]
    inside = {m["personId"] for m in current}
    newcomer = next(p for p in world.ds.people if p not in inside)
    leaver = next(m for m in current if m["personId"] != world.ds.tokens[world.emu.token])
    world.emu.add_member(world.quiet, newcomer)
    world.emu.remove_member(leaver["id"])
    expected.left.add(leaver["id"])


def everything(world: World, expected: Expected) -> None:
    """Every scenario, the edits and deletions first (of messages the archive holds)."""
    first = [change for name, change in SCENARIOS.items() if name.startswith(("edit", "delet"))]
    for change in first + [change for change in SCENARIOS.values() if change not in first]:
        if change is not everything:
            change(world, expected)


def busy(world: World) -> str:
    return world.busy


def quiet(world: World) -> str:
    return world.quiet


SCENARIOS: dict[str, Callable[[World, Expected], None]] = {
    "new messages": new_messages,
    "edit in the busy space": edit(busy, 2),
    "edit in the quiet space": edit(quiet, 1),
    "deletion in the busy space": delete(busy, 3),
    "deletion of the quiet space's newest": delete(quiet, 0),
    "late thread reply": late_reply,
    "new file": new_file,
    "members join and leave": members,
    "everything at once": everything,
}
SETTINGS: dict[str, Callable[[], dict]] = {
    "documented defaults": dict,
    "lastActivity stays": lambda: {"quirks": Quirks(last_activity="stays")},
    "504 above 60": lambda: {"latency": Latency(page_limit=60)},
    "quota": lambda: {"quota": Quota(limits={"other": 40}, window=1.0)},
    "stays, 504, quota, mixed times": lambda: {
        "quirks": Quirks(last_activity="stays", timestamps="mixed"),
        "latency": Latency(page_limit=60),
        "quota": Quota(limits={"other": 40}, window=1.0),
    },
}
# Every scenario under each reading of lastActivity; the rest with everything at once.
MATRIX = [
    (setting, scenario)
    for setting in SETTINGS
    for scenario in SCENARIOS
    if setting in ("documented defaults", "lastActivity stays") or scenario == "everything at once"
]


def sync_all(emu: Emulator, archive: Path) -> None:
    db = store.open_archive(archive)
    with WebexClient(emu.token, emu.api_url, retry=PATIENT) as client:
        rooms = {room["id"]: room for room in list_spaces(client)}
        results = sync_spaces(db, client, list(rooms), SyncOptions(**OPTIONS), rooms=rooms)
    db.close()
    assert [r.error for r in results] == [None] * len(results)


def world(settings: dict) -> World:
    ds = make_dataset(messages=120, spaces=2, seed=5, hostile_rate=0)
    groups = [r["id"] for r in ds.rooms.values() if r["type"] == "group"]
    groups.sort(key=lambda room: -len(ds.memberships[room]))  # the quiet one has room to join
    emu = Emulator(ds, **settings)
    emu.start()
    world = World(emu, ds, *groups)
    emu.add_messages(world.busy, 12, seed=3)  # inside the look-back window
    emu.add_messages(world.quiet, 3, seed=4)
    return world


LIVE_MESSAGES = (
    "SELECT id, space_id, parent_id, person_id, text, html, created, updated, raw "
    "FROM messages WHERE deleted_at IS NULL"
)
FILES = (
    "SELECT f.url, f.message_id, f.position, f.name, f.content_type, f.size, f.status "
    "FROM files AS f JOIN messages AS m ON m.id = f.message_id WHERE m.deleted_at IS NULL"
)
MEMBERS = "SELECT id, space_id, person_id, is_moderator, raw FROM memberships WHERE left_at IS NULL"
SPACES = "SELECT id, title, type, last_activity, raw FROM spaces"


def rows(archive: Path, sql: str) -> set[tuple]:
    db = store.open_archive(archive)
    try:
        return set(db.execute(sql).fetchall())
    finally:
        db.close()


@pytest.mark.parametrize(("setting", "scenario"), MATRIX)
def test_every_change_under_every_setting_ends_as_a_full_re_read(
    tmp_path: Path, setting: str, scenario: str
) -> None:
    here = world(SETTINGS[setting]())
    incremental, fresh = tmp_path / "incremental", tmp_path / "fresh"
    try:
        sync_all(here.emu, incremental)
        expected = Expected()
        SCENARIOS[scenario](here, expected)
        sync_all(here.emu, incremental)
        sync_all(here.emu, fresh)
    finally:
        here.emu.stop()
    for sql in (LIVE_MESSAGES, FILES, MEMBERS, SPACES):
        assert rows(incremental, sql) == rows(fresh, sql), sql
    revisions = "SELECT message_id, text FROM message_revisions"
    assert rows(incremental, revisions) == expected.revisions
    deleted = "SELECT id FROM messages WHERE deleted_at IS NOT NULL"
    assert rows(incremental, deleted) == {(i,) for i in expected.deleted}
    left = "SELECT id FROM memberships WHERE left_at IS NOT NULL"
    assert rows(incremental, left) == {(i,) for i in expected.left}
    assert rows(fresh, revisions) == rows(fresh, deleted) == rows(fresh, left) == set()

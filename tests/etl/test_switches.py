"""The sync under each reading of what Webex leaves undocumented (docs/undocumented.md): the
same data set, served with each switch of the emulator, ends in the same archive as under the
default (tests/reliability/helpers.py's ``snapshot``: every table, row for row)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.spaces import select
from etl.store import archive_time
from tests.conftest import make_dataset
from tests.reliability.helpers import (
    add_file,
    assert_same,
    kind_of,
    run_sync,
    short_sleep,
    snapshot,
)
from webex_emulator import DataSet, Emulator, Faults, Quirks
from webex_emulator.media import Recipe

# Names each form carries differently (webex_emulator/disposition.py), with real bytes.
NAMES = (
    "notes.txt",
    'say "hi" \\ back.txt',
    "图片.png",
    "café.txt",
    "会議の議事録と来期の予算案についての最終確認版です.pdf",
    "😀 emoji.png",
    "100% é.txt",
    "a%20b.txt",
    "..%2F..%2Fetc%2Fpasswd",
)
TIME_KEYS = ("created", "updated", "lastActivity", "lastModified")


def switch_dataset(whole_seconds: bool = False) -> DataSet:
    """Two group spaces and the direct one, a file with each of NAMES; with ``whole_seconds``
    every time falls on a second (so the ``offset`` form, which has no fraction, loses
    nothing)."""
    ds = make_dataset(messages=30, spaces=2, seed=21, hostile_rate=0)
    messages = sorted(ds.messages.values(), key=lambda m: (m["created"], m["id"]))
    for index, name in enumerate(NAMES):
        add_file(ds, messages[3 * index + 1], name, "text/plain", Recipe("filler", index, 700))
    data = ds.to_json()
    if whole_seconds:
        for kind in ("rooms", "messages", "memberships", "people"):
            for item in data[kind]:
                for key in TIME_KEYS:
                    if key in item:
                        item[key] = item[key][:19] + ".000Z"
    return DataSet.from_json(data)


def times_as_archived(snap: dict[str, list]) -> dict[str, list]:
    """The snapshot with the times inside ``raw`` (and meta's ``me_json``) in the archive's
    form: those keep the object exactly as sent, so only there does the form Webex used
    show."""

    def value(name: str, value: object) -> object:
        if not isinstance(value, str) or not value.startswith("{"):
            return value
        data = json.loads(value)
        for key in TIME_KEYS:
            if isinstance(data.get(key), str):
                data[key] = archive_time(data[key])
        return json.dumps(data, sort_keys=True)

    raw = {table: "raw" for table in snap} | {"meta": "value", "coverage": ""}  # meta: me_json
    return {
        table: sorted(
            tuple((n, value(n, v) if n == raw[table] else v) for n, v in row) for row in rows
        )
        if table != "coverage"
        else rows
        for table, rows in snap.items()
    }


def archive_under(emu: Emulator, path: Path, quirks: Quirks, faults: Faults) -> dict:
    """A first sync (file information: HEAD) and a second one that downloads the files (GET),
    served with ``quirks``: the archive."""
    emu.quirks, emu.faults = quirks, faults
    rooms = list(emu.dataset.rooms)
    for download in ("info", "files"):
        results, db = run_sync(emu, path, rooms, download=download, sleep=short_sleep)
        assert [r.error for r in results] == [None] * len(rooms)
        snap = snapshot(db)
        db.conn.close()
    return snap


SWITCHES = [
    Quirks(file_names="raw-utf8"),
    Quirks(file_names="plain"),
    Quirks(file_names="rfc2047"),
    Quirks(file_names="percent"),
    Quirks(over_cap="400"),
    Quirks(memberships_without_room="list"),
    Quirks(lock_head=True),
    Quirks(timestamps="mixed"),
    Quirks(last_activity="stays"),
    Quirks(file_names="rfc2047", timestamps="mixed", over_cap="400", lock_head=True),
]


@pytest.fixture(scope="module")
def served():
    with Emulator(switch_dataset()) as emu:
        yield emu


@pytest.fixture(scope="module")
def default_archive(served, tmp_path_factory):
    return archive_under(served, tmp_path_factory.mktemp("default"), Quirks(), Faults())


@pytest.mark.parametrize("quirks", SWITCHES, ids=lambda q: json.dumps(q.to_json()))
def test_each_switch_ends_in_the_default_archive(served, default_archive, tmp_path, quirks):
    # Files being scanned the first time they are asked for: 423 on GET, or on HEAD too.
    faults = Faults(lock_files=1, lock_retry_after=0)
    served.log.clear()
    archived = archive_under(served, tmp_path, quirks, faults)
    locked = {e.method for e in served.log.entries() if e.status == 423}
    assert locked == ({"HEAD"} if quirks.lock_head else {"GET"})
    if quirks.timestamps == "millis-z":
        assert_same(archived, default_archive, f"served with {quirks.to_json()}")
    else:
        assert_same(times_as_archived(archived), times_as_archived(default_archive), "mixed")
        assert archived != default_archive  # raw keeps the forms as sent
    names = {dict(row)["name"] for row in archived["files"]}
    assert names == {content.filename for content in served.dataset.contents.values()} > set(NAMES)


def test_times_without_milliseconds_end_in_the_same_archive(tmp_path):
    with Emulator(switch_dataset(whole_seconds=True)) as emu:
        default = archive_under(emu, tmp_path / "default", Quirks(), Faults())
        offset = archive_under(emu, tmp_path / "offset", Quirks(timestamps="offset"), Faults())
    assert_same(times_as_archived(offset), times_as_archived(default), "offset")


@pytest.mark.parametrize("form", ["offset", "mixed"])
def test_an_unchanged_space_is_skipped_whatever_form_its_times_have(tmp_path, form):
    """lastActivity as stored (the archive's form) and as listed (Webex's) are the same time:
    the second sync of an unchanged space reads no message page."""
    with Emulator(switch_dataset(), quirks=Quirks(timestamps=form)) as emu:
        rooms = list(emu.dataset.rooms)
        run_sync(emu, tmp_path, rooms, sleep=short_sleep)[1].conn.close()
        emu.log.clear()
        results, db = run_sync(emu, tmp_path, rooms, sleep=short_sleep)
        db.conn.close()
        kinds = [kind_of(entry) for entry in emu.log.entries()]
    assert [r.unchanged for r in results] == [True] * len(rooms)
    assert not [k for k in kinds if k.startswith("page")], kinds


def test_active_since_compares_times_not_their_forms():
    rooms = [
        {"id": "a", "title": "A", "type": "group", "lastActivity": "2026-01-01T00:00:00+00:00"},
        {"id": "b", "title": "B", "type": "group", "lastActivity": "2025-12-31T23:59:59.999Z"},
        {"id": "c", "title": "C", "type": "group", "lastActivity": "2026-01-01T01:00:00+01:00"},
        {"id": "d", "title": "D", "type": "group", "lastActivity": "2026-01-01T00:00:00.001Z"},
    ]
    selected = select(rooms, active_since="2026-01-01T00:00:00.000Z")
    assert [room["id"] for room in selected] == ["a", "c", "d"]

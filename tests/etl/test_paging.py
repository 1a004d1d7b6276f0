"""504 → smaller pages (etl/paging.py, pages.Reader): the same cursor asked again for half as
many, the size that worked kept per space, tried larger again a week later. Here 504s are
injected at chosen requests; test_undocumented.py runs the emulator's own page limit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from etl import store
from etl.api import WebexClient
from etl.paging import FLOOR, PageSize
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room, make_dataset
from tests.etl.conftest import FAST
from tests.reliability.helpers import assert_same, snapshot
from webex_emulator import Emulator, Rule

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


def test_a_page_size_starts_where_it_worked_and_is_tried_larger_after_a_week():
    assert PageSize(1000).current() == 1000
    assert PageSize(1000, 250, at(1), NOW).current() == 250
    probe = PageSize(1000, 250, at(8), NOW)
    assert (probe.current(), probe.probing) == (500, True)
    assert PageSize(1000, 800, at(30), NOW).current() == 1000  # never above what is asked
    assert PageSize(100, 500, at(1), NOW).current() == 100  # a stored size above it: ignored
    hinted = PageSize(1000, None, None, NOW, hint=500)  # the run's other spaces took 500
    assert (hinted.current(), hinted.to_store()) == (500, (500, True))
    assert PageSize(1000, 250, at(1), NOW, hint=500).current() == 250  # its own size first


def test_a_504_halves_once_per_size_down_to_the_floor():
    size = PageSize(1000)
    assert size.too_big(1000) == 500
    assert size.too_big(1000) == 500  # another thread's 504 at the old size: not halved again
    assert [size.too_big(n) for n in (500, 250, 125, 62)] == [250, 125, 62, FLOOR]
    assert size.too_big(FLOOR) is None
    assert size.to_store() == (FLOOR, True)
    assert PageSize(1000).to_store() == (None, False)  # nothing learnt, nothing to write
    grown = PageSize(1000, 500, at(8), NOW)  # tried at 1000, which worked: back to NULL
    assert grown.to_store() == (None, True)
    failed = PageSize(1000, 500, at(8), NOW)
    failed.too_big(1000)
    assert failed.to_store() == (500, True)  # the same size, its date renewed


def max_of(path: str) -> int:
    return int(parse_qs(urlsplit(path).query)["max"][0])


def message_pages(emu: Emulator) -> list:
    return [e for e in emu.log.entries() if e.path.startswith("/v1/messages?")]


def sync(emu: Emulator, archive, room: str, **options):
    db = store.open_archive(archive)
    with WebexClient(emu.token, emu.api_url, retry=FAST) as client:
        results = sync_spaces(db, client, [room], SyncOptions(download="no", **options))
    return results, db


def test_a_504_asks_the_same_cursor_for_half_and_the_space_remembers(tmp_path):
    """A 504 on the second page of a walk at max=200 (workers=1: one walk): the same request
    again at max=100, every later page at 100, no message lost; the next run starts at 100."""
    ds = make_dataset(messages=900, spaces=1, seed=3, hostile_rate=0)
    room = group_room(ds)["id"]
    with Emulator(ds) as emu:
        _, clean = sync(emu, tmp_path / "clean", room, page_size=200, workers=1)
        emu.log.clear()
        emu.add_fault(Rule("status", 504, at=[4], path="/v1/messages?"))
        [result], db = sync(emu, tmp_path / "shrunk", room, page_size=200, workers=1)
        pages = message_pages(emu)
        assert result.error is None
        struck = next(k for k, e in enumerate(pages) if e.status == 504)
        assert struck == 1 and max_of(pages[0].path) == 200 and max_of(pages[1].path) == 200
        again = pages[struck + 1]
        assert max_of(again.path) == 100 and again.status == 200
        assert (
            parse_qs(urlsplit(again.path).query)["beforeMessage"]
            == parse_qs(urlsplit(pages[struck].path).query)["beforeMessage"]
        )
        assert {max_of(e.path) for e in pages[struck + 1 :]} == {100}
        assert_same(snapshot(db), snapshot(clean), "after a 504")
        assert store.page_size(db, room)[0] == 100
        emu.add_messages(room, 30, seed=5)
        emu.log.clear()
        sync(emu, tmp_path / "shrunk", room, page_size=200, workers=1)
        assert {max_of(e.path) for e in message_pages(emu)} == {100}


def test_504s_at_the_floor_are_retried_as_any_5xx(tmp_path):
    """At 50 a 504 is a server failure like the others: retried at the same size."""
    ds = make_dataset(messages=120, spaces=1, seed=3, hostile_rate=0)
    room = group_room(ds)["id"]
    with Emulator(ds) as emu:
        emu.add_fault(Rule("status", 504, at=[3, 4], path="/v1/messages?"))
        [result], db = sync(emu, tmp_path, room, page_size=FLOOR, workers=1)
        pages = message_pages(emu)
    assert result.error is None
    assert [max_of(e.path) for e in pages[:3]] == [FLOOR] * 3
    assert [e.status for e in pages[:3]] == [504, 504, 200]
    assert store.page_size(db, room) == (None, None)


def test_the_run_s_next_spaces_start_at_the_size_a_504_taught(tmp_path):
    """Three spaces, every one 504 above 60 items: one 504 in the run, not one per space."""
    from webex_emulator import Latency

    ds = make_dataset(messages=150, spaces=3, seed=3, hostile_rate=0)
    rooms = sorted(ds.rooms)
    with Emulator(ds, latency=Latency(page_limit=60)) as emu:
        db = store.open_archive(tmp_path)
        with WebexClient(emu.token, emu.api_url, retry=FAST) as client:
            options = SyncOptions(download="no", page_size=200, workers=1)
            results = sync_spaces(db, client, rooms, options)
        pages = message_pages(emu)
    assert [r.error for r in results] == [None] * len(rooms)
    assert [e.status for e in pages].count(504) == 2  # 200, then 100, then 50 works
    assert {store.page_size(db, room)[0] for room in rooms} == {50}

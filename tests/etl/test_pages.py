"""The page loop (etl/pages.py) that the walk and the backfill share: each rule pinned once for
both paths (one worker: the walk reads every page; four: the walk hands over after its first
page and the slices read the rest), over real HTTP from the emulator into real archives."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from etl import store
from etl.api import WebexClient
from etl.pages import EMPTY_PAGE_LIMIT, Reader, SpaceMessages
from etl.paging import PageSize
from etl.store import coverage
from etl.times import plus_ms
from tests.conftest import expected_ids, make_dataset
from tests.reliability.helpers import FAST, assert_same, group_room_id, run_sync, snapshot
from webex_emulator import Emulator, Faults, Rule
from webex_emulator.ids import make_id

OPTIONS = {"page_size": 10, "download": "no"}
STOPPED = "Webex keeps answering empty pages; run again later"


def list_paths(emu: Emulator) -> list[str]:
    """The path and query of every /v1/messages list request, in order."""
    return [e.path for e in emu.log.entries() if urlsplit(e.path).path == "/v1/messages"]


@pytest.mark.parametrize("workers", [1, 4], ids=["walk", "backfill"])
def test_ten_empty_pages_in_a_row_are_read_through_and_an_eleventh_stops_the_space(
    tmp_path: Path, workers: int
) -> None:
    """Empty pages that still link on, at the walk's first page (one worker) or at the first
    page of the backfill's top slice (four): ten in a row cost ten requests and change
    nothing; the eleventh stops the space in one line, and a run without them completes."""
    ds = make_dataset(messages=80, spaces=1, seed=21, hostile_rate=0)
    room = group_room_id(ds)
    with Emulator(ds) as emu:
        _, clean = run_sync(emu, tmp_path / "clean", [room], FAST, workers=workers, **OPTIONS)
        paths = list_paths(emu)
        # The walk's first request, or the top slice's (the first below the walk's page).
        target = paths[0] if workers == 1 else next(p for p in paths if "beforeMessage" in p)
        for empties in (EMPTY_PAGE_LIMIT, EMPTY_PAGE_LIMIT + 1):
            rule = Rule("empty_page", rate=1.0, path=target, times=empties)
            emu.faults = Faults(rules=[rule])
            archive = tmp_path / f"empties-{empties}"
            results, db = run_sync(emu, archive, [room], FAST, workers=workers, **OPTIONS)
            emu.faults = Faults()
            assert rule.struck == empties
            if empties == EMPTY_PAGE_LIMIT:
                assert [r.error for r in results] == [None]
            else:
                assert [r.error for r in results] == [STOPPED]
                results, db = run_sync(emu, archive, [room], FAST, workers=workers, **OPTIONS)
                assert [r.error for r in results] == [None]
            assert_same(snapshot(db), snapshot(clean), f"{empties} empty pages")


def test_a_cursor_deleted_while_the_look_back_re_reads_joined_history_is_passed_by_its_time(
    tmp_path: Path,
) -> None:
    """A second sync re-reads everything (--full) over new messages: its first page joins
    the stored span, which reaches the space's first message. The next page's cursor
    message is deleted (404): the walk goes on just below that message's time, not below
    the joined span's oldest message (which would skip the whole window and mark every
    message it skipped as deleted)."""
    ds = make_dataset(messages=40, spaces=1, seed=23, hostile_rate=0)
    room = group_room_id(ds)
    newest = max((m for m in ds.messages.values() if m["roomId"] == room),
                 key=lambda m: m["created"])  # fmt: skip
    with Emulator(ds) as emu:
        _, db = run_sync(emu, tmp_path / "archive", [room], FAST, workers=1, **OPTIONS)
        for n in range(1, 6):  # five new messages, one millisecond apart, after the newest
            ds.add_message({"id": make_id("MESSAGE", str(uuid.uuid4())), "roomId": room,
                            "personId": newest["personId"], "text": f"new {n}",
                            "created": plus_ms(newest["created"], n)})  # fmt: skip
        shutil.copytree(tmp_path / "archive", tmp_path / "dry")
        emu.log.clear()  # a dry run finds the request of the second page
        run_sync(emu, tmp_path / "dry", [room], FAST, workers=1, full=True, **OPTIONS)
        second = list_paths(emu)[1]
        emu.log.clear()
        emu.faults = Faults(rules=[Rule("delete_cursor", rate=1.0, path=second, times=1)])
        results, db = run_sync(
            emu, tmp_path / "archive", [room], FAST, workers=1, full=True, **OPTIONS
        )
        emu.faults = Faults()
        paths = list_paths(emu)
    assert [r.error for r in results] == [None]
    assert paths[1] == second
    [cursor] = parse_qs(urlsplit(second).query)["beforeMessage"]  # deleted: answered 404
    assert cursor not in ds.messages
    assert "before" in parse_qs(urlsplit(paths[2]).query)  # passed by time...
    # ...and nothing it passed was taken for deleted (the cursor message itself was read on
    # the page before it went: the next re-read marks it).
    assert db.execute("SELECT id FROM messages WHERE deleted_at IS NOT NULL").fetchall() == []
    in_room = sum(m["roomId"] == room for m in ds.messages.values()) + 1  # the deleted one
    stored = db.execute("SELECT count(*) FROM messages WHERE space_id = ?", [room]).fetchone()
    assert stored == (in_room,)


def test_each_page_says_which_message_it_continues_below(tmp_path: Path) -> None:
    """``Page.follows``, the proof coverage joins on: none for a run from the newest message
    or from a time; the page before's last message through a next link; the span's oldest
    after a jump; and the deleted cursor message when the run goes on by its time (404)."""
    ds = make_dataset(messages=40, spaces=1, seed=23, hostile_rate=0)
    room = group_room_id(ds)
    with Emulator(ds) as emu, WebexClient(emu.token, emu.api_url, retry=FAST) as client:
        db = store.open_archive(tmp_path)
        space = SpaceMessages(db, client, room, store.utc_now(), PageSize(5), lambda n, e: None)
        top = Reader(space, {}, None)
        first, second = top.read(), top.read()
        assert first.follows is None and second.follows == first.items[-1]["id"]
        [span] = [coverage.page_span(first.items)]
        top.jump(span)
        assert top.read().follows == span.oldest_id
        at_time = Reader(space, {"before": second.items[-1]["created"]}, None)
        assert at_time.read().follows is None
        cursor = second.items[-1]["id"]
        ids = expected_ids(ds, room)
        emu.faults = Faults(rules=[Rule("delete_cursor", rate=1.0, times=1)])
        fallback = Reader(space, {"beforeMessage": cursor}, second.items[-1]["created"])
        page = fallback.read()
        assert cursor not in ds.messages and page.follows == cursor
        assert page.items[0]["id"] == ids[ids.index(cursor) + 1]
        db.conn.close()

"""etl/store/coverage.py: the spans of a space the archive holds without a gap, as pure logic
and as rows of the coverage table written in the page's transaction."""

from __future__ import annotations

import itertools

import pytest
from sqlite_utils import Database

from etl import store
from etl.store import coverage
from etl.store.coverage import Span, get_spans, record_page
from tests.etl.store.conftest import M1, NOW, PLAIN, ROOM, ROOM2, rows

# ----- pure logic --------------------------------------------------------------------------------


def msg(number: int, millisecond: int | None = None) -> dict:
    """A message stub: higher numbers are newer; ``millisecond`` forces a shared created."""
    stamp = number if millisecond is None else millisecond
    return {
        "id": f"m{number:04d}",
        "created": f"2024-01-01T00:{stamp // 60:02d}:{stamp % 60:02d}.000Z",
    }


def page(newest: int, oldest: int) -> list[dict]:
    """A page as the API returns it: newest first, both ends included."""
    return [msg(n) for n in range(newest, oldest - 1, -1)]


def span(newest: int, oldest: int, reaches_start: bool = False, span_id: int | None = None) -> Span:
    return Span(span_id, msg(newest)["id"], msg(newest)["created"], msg(oldest)["id"],
                msg(oldest)["created"], reaches_start)  # fmt: skip


def test_union_and_touches():
    assert coverage.union(span(100, 51, span_id=3), span(50, 1, True)) == span(100, 1, True, 3)
    assert coverage.union(span(100, 51), span(80, 71)) == span(100, 51)  # inside: unchanged
    assert coverage.touches(span(100, 51), span(50, 1), {"m0050"})
    assert not coverage.touches(span(100, 51), span(50, 1))
    assert coverage.touches(span(100, 40), span(50, 1))  # ranges overlap
    assert coverage.touches(span(100, 51), span(51, 1))  # same end message
    assert coverage.page_span(page(9, 5), True) == span(9, 5, True)


def test_ties_in_created_never_stall_the_walk_or_join_blindly():
    tied = [msg(n, millisecond=7) for n in (30, 20, 10)]  # one millisecond, API order
    walked = coverage.page_span(tied[:2])  # m0030, m0020
    assert coverage.union(walked, coverage.page_span(tied[2:])).oldest_id == "m0010"
    later = Span(None, "m0040", msg(40)["created"], "m0030", tied[0]["created"])
    older = coverage.page_span(tied[1:])  # starts in the same millisecond as later ends
    assert not coverage.touches(later, older)
    assert coverage.touches(later, older, {"m0020"})


def test_absorb_joins_every_span_it_touches():
    others = [span(50, 45, span_id=2), span(60, 55, span_id=1), span(30, 1, True, span_id=3)]
    joined, absorbed = coverage.absorb(span(70, 52), others, {"m0052"})
    assert (joined, [s.id for s in absorbed]) == (span(70, 52, span_id=1), [1])
    joined, absorbed = coverage.absorb(span(70, 45), others)
    assert (joined, [s.id for s in absorbed]) == (span(70, 45, span_id=2), [2, 1])
    joined, absorbed = coverage.absorb(span(70, 31), others, {"m0031", "m0030"})
    assert (joined, [s.id for s in absorbed]) == (span(70, 1, True, span_id=2), [2, 1, 3])


# ----- the table ---------------------------------------------------------------------------------


def spans(db: Database) -> list[tuple]:
    """(newest, oldest, reaches_start) of the room's spans, newest first; checks disjointness."""
    stored = get_spans(db, ROOM)
    for upper, lower in itertools.pairwise(stored):
        assert lower.newest_created < upper.oldest_created
    return [(s.newest_id, s.oldest_id, s.reaches_start) for s in stored]


def walk(db: Database, current: Span | None, *pages: list[dict], last: bool = False) -> Span | None:
    for number, items in enumerate(pages, 1):
        with store.transaction(db):
            current = record_page(db, ROOM, current, items, last and number == len(pages))
    return current


def test_walk_down_to_the_start(db: Database):
    first = walk(db, None, page(100, 91))
    assert spans(db) == [("m0100", "m0091", False)]
    second = walk(db, first, page(90, 81))
    assert second.id == first.id and spans(db) == [("m0100", "m0081", False)]
    done = walk(db, second, page(80, 71), page(70, 61), last=True)
    assert done.reaches_start and spans(db) == [("m0100", "m0061", True)]


def test_page_within_a_span_changes_nothing(db: Database):
    whole = walk(db, None, page(100, 51))
    assert walk(db, whole, page(80, 71)) == whole
    assert walk(db, None, page(100, 91)) == whole  # a re-run with nothing new: same span
    assert spans(db) == [("m0100", "m0051", False)]


def test_new_messages_above_a_span_join_it(db: Database):
    old = walk(db, None, page(100, 51))
    joined = walk(db, None, page(103, 94))
    assert joined.id == old.id and joined.oldest_id == "m0051"  # the walk jumps to m0051
    assert spans(db) == [("m0103", "m0051", False)]


def test_walk_reaching_an_older_span_merges_and_jumps_below_it(db: Database):
    older = walk(db, None, page(50, 1), last=True)
    current = walk(db, None, page(120, 111), page(110, 101))
    assert spans(db) == [("m0120", "m0101", False), ("m0050", "m0001", True)]
    current = walk(db, current, page(100, 51))  # ends just above the older span: still apart
    assert spans(db) == [("m0120", "m0051", False), ("m0050", "m0001", True)]
    merged = walk(db, current, page(50, 41))  # holds the older span's newest message
    assert merged.id == current.id and merged.oldest_id == "m0001" and merged.reaches_start
    assert spans(db) == [("m0120", "m0001", True)]
    assert older.id not in [s.id for s in get_spans(db, ROOM)]


def test_merge_when_the_older_spans_newest_message_was_deleted(db: Database):
    walk(db, None, page(50, 1))
    current = walk(db, None, page(60, 51))
    merged = walk(db, current, [m for m in page(50, 41) if m["id"] != "m0050"])
    assert merged.oldest_id == "m0001" and spans(db) == [("m0060", "m0001", False)]


def test_two_disjoint_spans_stay_apart(db: Database):
    walk(db, None, page(50, 41))
    current = walk(db, None, page(100, 91))
    current = walk(db, current, page(90, 81))
    assert spans(db) == [("m0100", "m0081", False), ("m0050", "m0041", False)]
    assert [s.newest_id for s in get_spans(db, ROOM2)] == []


def test_empty_pages(db: Database):
    assert walk(db, None, []) is None
    current = walk(db, None, page(10, 5))
    assert walk(db, current, []) == current
    assert walk(db, current, [], last=True).reaches_start
    assert spans(db) == [("m0010", "m0005", True)]


def test_coverage_and_page_commit_together(db: Database):
    with pytest.raises(RuntimeError), store.transaction(db):
        store.save_messages(db, [PLAIN], NOW)
        record_page(db, ROOM, None, [PLAIN])
        raise RuntimeError("connection dropped")
    with store.transaction(db):
        store.save_messages(db, [PLAIN], NOW)
        current = record_page(db, ROOM, None, [PLAIN])
    assert get_spans(db, ROOM) == [current]
    assert rows(db, "SELECT id FROM messages") == [{"id": M1}]


@pytest.mark.parametrize("passed", ["none", "wrong"])
@pytest.mark.parametrize("follows", [None, "m0061"], ids=["no-cursor", "cursor"])
def test_a_page_read_below_a_spans_oldest_message_joins_that_span(
    db: Database, passed: str, follows: str | None
):
    """``follows`` (the message the page's request continued below) is proof, as a message
    on the page is: the span ending there is joined whatever the walker passes, no span or
    another one. Without it, a page that starts one message below a span stays apart
    (nothing shows that they touch): a walker standing in the wrong span (issue 14) left
    two spans that did."""
    upper = walk(db, None, page(100, 61))
    below = walk(db, None, page(55, 41))
    with store.transaction(db):
        current, gone = coverage.record_page_joined(
            db, ROOM, None if passed == "none" else below, page(60, 51), False, follows
        )
    assert current is not None
    if follows is None:
        assert spans(db) == [("m0100", "m0061", False), ("m0060", "m0041", False)]
        return
    assert spans(db) == [("m0100", "m0041", False)]
    assert current.id in (upper.id, below.id) and set(gone) | {current.id} == {upper.id, below.id}

"""render/window.py's SQL against a plain Python statement of the same rules, on threads that
the other tests do not have: replies to replies, parents never archived, ties in time."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from render import query
from render.clock import Clock
from render.query import Filters
from render.toc import day_anchors, month_counts
from render.window import _EXACT, _ROWS, COLUMNS, Window
from tests.render.conftest import SEEN, SPACE_ID, build_archive


def tangled_archive(folder: Path) -> Path:
    """The small archive plus 300 messages: replies to anything (replies too), replies to
    parents the archive never had, many at the same second."""
    build_archive(folder)
    conn = sqlite3.connect(folder / "archive.db")
    ids = [row[0] for row in conn.execute("SELECT id FROM messages")]
    chance = random.Random(9)
    for n in range(300):
        roll = chance.random()
        parent = chance.choice(ids) if roll < 0.3 else f"gone-{n % 20}" if roll < 0.4 else None
        day, hour = chance.randrange(120), chance.choice([0, 9, 23])
        created = f"2024-{1 + day // 30:02d}-{1 + day % 28:02d}T{hour:02d}:30:00.000Z"
        conn.execute(
            "INSERT INTO messages (id, space_id, parent_id, person_id, created, raw, "
            "first_seen_at, last_seen_at) VALUES (?, ?, ?, 'p-bob', ?, '{}', ?, ?)",
            [f"x-{n:03d}", SPACE_ID, parent, created, SEEN, SEEN],
        )
        ids.append(f"x-{n:03d}")
    for n, created in enumerate(["2024-01-31T18:10", "2024-01-31T18:40", "2024-02-29T18:50"]):
        conn.execute(  # on both sides of a month's start in India (18:30 UTC)
            "INSERT INTO messages (id, space_id, person_id, created, raw, first_seen_at, "
            "last_seen_at) VALUES (?, ?, 'p-bob', ?, '{}', ?, ?)",
            [f"edge-{n}", SPACE_ID, f"{created}:00.000Z", SEEN, SEEN],
        )
    conn.commit()
    conn.close()
    return folder


def expected(conn: sqlite3.Connection, filters: Filters) -> list[tuple]:
    """(id, in window, anchor) in display order, as the design states the rules."""
    rows = {r[0]: tuple(r) for r in conn.execute("SELECT id, parent_id, created FROM messages")}
    chosen = sorted(
        (r for r in rows.values() if (filters.since or "0") <= r[2] < (filters.until or "9")),
        key=lambda r: (r[2], r[0]),
        reverse=True,
    )[: filters.last]
    window = {r[0] for r in chosen}
    picked = {i: int(i in window) for i in [*window, *(rows[i][1] for i in window if rows[i][1])]}
    shown = [(*rows.get(i, (i, None, None)), picked[i]) for i in picked]

    def thread(row: tuple) -> str:
        return row[1] or row[0]

    anchors: dict[str, str] = {}
    for key in {thread(r) for r in shown}:
        members = [r for r in shown if thread(r) == key]
        tops = [r[2] for r in members if r[1] is None and r[2] is not None]
        anchors[key] = max(tops) if tops else min(r[2] for r in members if r[2])
    shown.sort(key=lambda r: (thread(r), r[1] is not None, r[2] or "", r[0]))
    shown.sort(key=lambda r: anchors[thread(r)], reverse=filters.sort == "newest")
    return [(r[0], r[3], anchors[thread(r)]) for r in shown]


@pytest.fixture(scope="module")
def tangled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tangled_archive(tmp_path_factory.mktemp("tangled") / "archive")


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(sort="newest"),
        Filters(since="2024-02-10", until="2024-03-20"),
        Filters(last=40),
        Filters(last=9, since="2024-02-01", sort="newest"),
    ],
)
def test_window_order_follows_the_rules(tangled: Path, filters: Filters) -> None:
    conn = query.connect(tangled)
    try:
        window = Window(conn, SPACE_ID, filters)
        found = [(row[0], row[1], row[2]) for row in window.rows()]
        assert found == expected(conn, filters)
        for zone in ("Asia/Kolkata", "Europe/Amsterdam"):  # months start at :30 UTC, or :00
            clock = Clock(ZoneInfo(zone))
            per_row = month_counts([(anchor, 1) for _, _, anchor in found], clock)
            assert month_counts(day_anchors(window.anchors(), clock), clock) == per_row
    finally:
        conn.close()


@pytest.mark.parametrize("avatars", ["av.local_path", "NULL"])
def test_the_rows_columns_are_named_as_the_model_reads_them(tmp_path: Path, avatars: str) -> None:
    """render/model.py unpacks a row by COLUMNS: the SQL must give them in that order."""
    conn = query.connect(build_archive(tmp_path))
    try:
        window = Window(conn, SPACE_ID, Filters())
        joins = "LEFT JOIN avatars AS av ON av.person_id = m.person_id" if avatars != "NULL" else ""
        sql = _ROWS.format(
            table=window.table, avatar_path=avatars, avatars=joins, exact=_EXACT, where=""
        )
        cursor = conn.execute(sql, {"space": SPACE_ID})
        assert tuple(column[0] for column in cursor.description) == COLUMNS
        assert len(cursor.fetchall()) == 15  # 14 messages and one placeholder
    finally:
        conn.close()


def test_a_window_read_halfway_still_closes(tmp_path: Path) -> None:
    """A writer that fails midway leaves its readers of the window open (generators not yet
    closed): closing the window closes them first, so that dropping its table does not fail
    with "database table is locked", an error that would hide the writer's own."""
    archive = tangled_archive(tmp_path / "archive")
    conn = query.connect(archive)
    window = Window(conn, SPACE_ID, Filters())
    readers = [window.rows(), window.anchors(), window.raw_newest_first(),
               window.missing_parents()]  # fmt: skip
    for reader in readers:
        next(reader)  # each holds its statement open, halfway through
    window.close()
    assert conn.execute(f"SELECT count(*) FROM sqlite_temp_master WHERE name = "
                        f"'{window.table.removeprefix('temp.')}'").fetchone()[0] == 0  # fmt: skip
    with pytest.raises(sqlite3.ProgrammingError, match="closed cursor"):
        next(readers[0])  # what is left of a closed window is not read

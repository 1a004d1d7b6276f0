"""render/slack_days.py: the day files, each day's entries in time order, entries of one
``ts`` in the order they came, whatever order the page gave them in."""

from __future__ import annotations

import random

from render.slack_days import Days


def test_each_day_holds_its_entries_in_time_order_ties_as_they_came():
    rng = random.Random(5)
    rows = [(f"2024-03-{rng.randint(1, 9):02d}", f"17{rng.randint(0, 40):08d}.000123", str(n))
            for n in range(5000)]  # fmt: skip
    days = Days(entries=None)  # type: ignore[arg-type]  # rows added directly
    try:
        days.db.executemany("INSERT INTO entries VALUES (?, ?, ?)", rows)
        files = list(days.files())
    finally:
        days.close()
    ordered = sorted(rows, key=lambda row: (row[0], row[1]))  # stable: ties as they came
    expected = {}
    for day, _, text in ordered:
        expected.setdefault(day, []).append(text)
    assert [day for day, _ in files] == sorted(expected)
    for day, data in files:
        assert data == ("[\n" + ",\n".join(expected[day]) + "\n]\n").encode()
    assert sum(len(texts) for texts in expected.values()) == 5000
    assert len({(day, ts) for day, ts, _ in rows}) < 400  # many ties

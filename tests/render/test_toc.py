"""The table of contents (render/toc.py): months counted in local time, entries and links."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from render.clock import Clock
from render.toc import anchor, day_anchors, month_counts, section_id, years


def test_month_counts_use_local_time():
    anchors = [("2024-01-31T23:30:00.000Z", 2), ("2024-01-31T22:30:00.000Z", 1)]
    assert month_counts(anchors, ZoneInfo("Europe/Amsterdam")) == [(2024, 2, 2), (2024, 1, 1)]
    assert month_counts(anchors, ZoneInfo("UTC")) == [(2024, 1, 3)]


def test_a_day_counts_at_once_only_when_it_stays_in_one_local_month():
    """Amsterdam: 2024-01-31 22:30 UTC is still January, 23:30 is February; 2024-03-31 has
    a clock change (per row); a time not in the archive's form is not a real one
    (render/times.py): counted on its own, without a month (None), for month_counts."""
    clock = Clock(ZoneInfo("Europe/Amsterdam"))
    anchors = ["2024-01-30T08:00:00.000Z", "2024-01-30T09:00:00.000Z",
               "2024-01-31T22:30:00.000Z", "2024-01-31T23:30:00.000Z",
               "2024-03-31T00:30:00.000Z", "2024-03-31T01:30:00.000Z",
               "2024-04-01T10:00:00.000Z", "2024-04-01T11:00:00Z"]  # fmt: skip
    assert list(day_anchors(anchors, clock)) == [
        ("2024-01-30T08:00:00.000Z", 2),
        ("2024-01-31T22:30:00.000Z", 1), ("2024-01-31T23:30:00.000Z", 1),
        ("2024-03-31T00:30:00.000Z", 1), ("2024-03-31T01:30:00.000Z", 1),
        ("2024-04-01T10:00:00.000Z", 1), (None, 1),
    ]  # fmt: skip
    counted = [("2024-01-31T23:30:00.000Z", 1), (None, 2), ("2024-03-31T00:30:00.000Z", 1)]
    assert month_counts([(None, 3), *counted], clock) == [(2024, 2, 6), (2024, 3, 1)]
    assert month_counts([(None, 3)], clock) == [(1970, 1, 3)]


def test_years_fold_their_months_with_english_names_and_links():
    counts = [(2023, 12, 5), (2024, 1, 1_234), (2024, 3, 2)]
    assert years(counts) == [
        {"year": 2023, "count": 5,
         "months": [{"name": "December", "count": 5, "href": "#m-2023-12"}]},
        {"year": 2024, "count": 1_236,
         "months": [{"name": "January", "count": 1_234, "href": "#m-2024-01"},
                    {"name": "March", "count": 2, "href": "#m-2024-03"}]},
    ]  # fmt: skip
    linked = years(counts[:1], lambda year, month: f"part%20{year}.html{anchor(year, month)}")
    assert linked[0]["months"][0]["href"] == f"part%20{2023}.html#{section_id(2023, 12)}"

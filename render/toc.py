"""The HTML page's table of contents: years (folding) and their months, with message counts.

The contents come before the page body, but the body streams from SQLite and is never held:
so the months and their counts are worked out first, from the window's thread anchors alone
(render/window.py), in the page's time zone (render/clock.py). A month's entry links to its
section of the page (``#m-2024-03``), or with ``--split`` to that section in its part's file
(render/split.py). The markup is the template's (page.html.j2); month names are English
whatever the machine's locale, like every other text of an archive.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import tzinfo

from .clock import MONTH_NAMES, Clock
from .times import form, real
from .window import Window

Counts = list[tuple[int, int, int]]  # (year, month, rows) in display order
NO_MONTH = (1970, 1)  # the month of a page none of whose threads has a real time


def section_id(year: int, month: int) -> str:
    """The ``id`` of a month's section of the page: what the contents link to."""
    return f"m-{year:04d}-{month:02d}"


def anchor(year: int, month: int) -> str:
    """A link to a month's section on the same page."""
    return f"#{section_id(year, month)}"


def count_months(window: Window, clock: Clock) -> Counts:
    """The rows of each month of ``window``, before its body is written."""
    return month_counts(day_anchors(window.anchors(), clock), clock)


def day_anchors(anchors: Iterable[str], clock: Clock) -> Iterator[tuple[str | None, int]]:
    """(anchor time, rows) from thread anchors in display order. Display order is anchor
    order, so one UTC day's rows come together: a day counts as one anchor where its first
    and last anchor fall in one local month with the day's offset constant (``Clock.steady``)
    and every anchor is a real time (render/times.py; another form may hide another day);
    otherwise each row counts on its own, an anchor not real as None (no month).
    (Grouping in SQL sorted the window again: three times slower.)
    """
    for _, group in itertools.groupby(anchors, key=_day):
        day = list(group)
        first, last = min(day[0], day[-1]), max(day[0], day[-1])
        if all(map(form, day)) or all(map(real, day)):  # form: real but February 29th
            if clock.steady(first) and clock.month(first) == clock.month(last):
                yield first, len(day)
            else:
                yield from ((anchor, 1) for anchor in day)
        else:  # a time not real has no month (None): month_counts places it
            yield from ((anchor if real(anchor) else None, 1) for anchor in day)


def _day(anchor: str) -> str:
    return anchor[:10]


def month_counts(anchors: Iterable[tuple[str | None, int]], zone: tzinfo | Clock) -> Counts:
    """(year, month, rows) in display order, from the rows per thread anchor (or per thread).
    An anchor None (not a real time) counts in the month before it, the page's first ones in
    the first month after them, as render/model.py's ``sections`` shows them."""
    clock = zone if isinstance(zone, Clock) else Clock(zone)
    counts: dict[tuple[int, int], int] = {}
    key, leading = None, 0
    for anchor_time, size in anchors:
        if anchor_time is None:
            if key is None:
                leading += size
                continue
        else:
            key = clock.month(anchor_time)
        counts[key] = counts.get(key, 0) + size + leading
        leading = 0
    if leading:
        counts[NO_MONTH] = leading
    return [(year, month, count) for (year, month), count in counts.items()]


def years(counts: Counts, link: Callable[[int, int], str] = anchor) -> list[dict]:
    """The contents as the template prints them: years with their total and their months,
    in page order; ``link`` says where a month is (its ``href``, percent-encoded)."""
    entries: list[dict] = []
    for year, month, count in counts:
        if not entries or entries[-1]["year"] != year:
            entries.append({"year": year, "count": 0, "months": []})
        entries[-1]["count"] += count
        entries[-1]["months"].append(
            {"name": MONTH_NAMES[month - 1], "count": count, "href": link(year, month)}
        )
    return entries

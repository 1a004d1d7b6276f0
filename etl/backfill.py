"""The parallel backfill: history the archive is still missing, walked in slices side by side.

The messages list pages only backwards, so one walk down a long history is one request after
another. Below the look-back window (walk.py hands over there), the missing history is a set
of gaps between the stored coverage spans (a first sync: one gap, from the walk's span down
to the space's first message). Each gap is cut by time into slices, and each slice is walked
backwards on its own worker thread:

* the top slice of a gap continues exactly below the span above it (``beforeMessage`` = that
  span's oldest message) and walks on in that span, as the sequential walk would;
* every other slice starts at ``before=<its upper time bound>`` and walks down until the last
  message of a page is created strictly before its lower time bound (or the space's first
  message, or the ``--since`` bound, or the gap's lower span, whose newest message it sees).

So every slice reads all of its own range, ties at a bound included: a message created at the
bound is read by the slice above (which goes strictly below the bound), and also by the slice
below if Webex's ``before`` were inclusive — a second upsert of the same row changes nothing.
The slices' pages are read and written by the walk's own page loop (pages.py): written by
ONE thread (the caller's, on its connection) from a bounded queue, each page with its
coverage change in one transaction, exactly as the sequential walk writes them: the coverage
joins a slice's span with its neighbours when a page holds a neighbour's end message or
their times overlap, which is proof that nothing lies between.
A run killed at any moment leaves spans that are each complete; the next run's gaps are
exactly what is missing. All workers share the client, so a 429 pauses every one of them.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from . import store
from .pages import Page, Reader, SpaceMessages, commit
from .store.coverage import Span, get_span, get_spans
from .times import from_ms, to_ms

PAGES_PER_SLICE = 3  # slices are cut so that each holds about this many pages (estimated)
SLICES_PER_WORKER = 2  # more slices than workers: one that ends early frees its worker


@dataclass(frozen=True)
class Density:
    """What the walk read before handing over (messages between two times): the estimate of
    how many messages a gap of history holds, which decides how many slices it is worth."""

    messages: int
    newest: str
    oldest: str
    page: int  # items of the longest page so far: Webex may cap ``max`` below what we ask

    def pages(self, newest: int, oldest: int) -> float:
        """Pages estimated between two times (milliseconds)."""
        per_ms = self.messages / max(1, to_ms(self.newest) - to_ms(self.oldest))
        return per_ms * (newest - oldest) / max(1, self.page)


@dataclass
class Slice:
    """One stretch of a gap, walked by one worker from its top down to ``floor``."""

    before: str | None = None  # first request: before=<time> ...
    cursor: Span | None = None  # ... or continue below this span (beforeMessage=its oldest)
    floor: str | None = None  # done once a page ends strictly below this created
    lower_id: str | None = None  # done once a page holds this message (the lower span's newest)
    span_id: int | None = None  # the coverage row the slice's walk stands in (writer side)

    def reader(self, space: SpaceMessages) -> Reader:
        """The slice's run of pages: below its span's oldest message, or from its time."""
        if self.cursor is not None:
            start = {"beforeMessage": self.cursor.oldest_id}
            return Reader(space, start, self.cursor.oldest_created)
        return Reader(space, {"before": self.before} if self.before else {}, None)

    def done(self, items: list[dict]) -> bool:
        if not items:
            return False
        if self.floor is not None and items[-1]["created"] < self.floor:
            return True
        return self.lower_id is not None and any(m["id"] == self.lower_id for m in items)


@dataclass
class Gap:
    upper: Span  # the span above the gap (the walk continues below its oldest message)
    lower: Span | None  # the span below it, if any
    floor: str | None  # the gap's lower time bound (lower span's newest, --since, or None)


class Backfill:
    """The parallel walk of one space's missing history (see the module docstring)."""

    def __init__(self, space: SpaceMessages, since: str | None, density: Density, workers: int):
        self.space, self.since, self.density, self.workers = space, since, density, workers
        self.db, self.space_id = space.db, space.space_id
        # A page on its way from a worker to the writer, a worker's error, or a finished slice.
        self.pages: queue.Queue[tuple[Slice, Page] | BaseException | Slice] = queue.Queue(
            maxsize=2 * workers
        )
        self.stop = threading.Event()
        self.slices: list[Slice] = []  # every slice of the run, started or not (writer side)

    def run(self, top: Span) -> None:
        self.slices = [part for gap in self.gaps(top) for part in self.cut(gap)]
        if self.slices:
            self.walk(self.slices)

    # ----- planning ----------------------------------------------------------------------

    def gaps(self, top: Span) -> Iterator[Gap]:
        """The missing stretches below ``top``, newest first, down to the start or --since."""
        below = [s for s in get_spans(self.db, self.space_id) if s.id != top.id]
        below = [s for s in below if s.newest_created <= top.oldest_created]
        upper = top
        for lower in [*below, None]:
            if upper.reaches_start or (self.since and upper.oldest_created < self.since):
                return
            floor = lower.newest_created if lower else None
            if self.since and (floor is None or floor < self.since):
                yield Gap(upper, None, self.since)  # the bound comes first
                return
            yield Gap(upper, lower, floor)
            if lower is None:
                return
            upper = lower

    def cut(self, gap: Gap) -> list[Slice]:
        """The gap's slices, top first: as many as its estimated pages call for."""
        lower_id = gap.lower.newest_id if gap.lower else None
        high = to_ms(gap.upper.oldest_created)
        low = to_ms(gap.floor) if gap.floor else self.first_time(high)
        count = 1
        if low is not None and high - low > 1:
            pages = self.density.pages(high, low)
            count = max(1, min(math.ceil(pages / PAGES_PER_SLICE), high - low - 1))
            count = min(count, SLICES_PER_WORKER * self.workers)
        assert low is not None or count == 1
        bounds = [from_ms(low + (high - low) * k // count) for k in range(1, count)]  # type: ignore[operator]
        tops: list[str | None] = [None, *reversed(bounds)]
        floors = [*reversed(bounds), gap.floor]
        return [
            Slice(
                before=before,
                cursor=gap.upper if before is None else None,
                floor=floor,
                lower_id=lower_id if floor == gap.floor else None,
                span_id=gap.upper.id if before is None else None,
            )
            for before, floor in zip(tops, floors, strict=True)
        ]

    def first_time(self, high: int) -> int | None:
        """Milliseconds of the space's creation (no message is older), if it is before
        ``high``; else None (one slice walks the gap down to the first message)."""
        row = self.db.execute("SELECT created FROM spaces WHERE id = ?", [self.space_id]).fetchone()
        created = store.archive_time(row[0]) if row else None
        if created is None or to_ms(created) >= high:
            return None
        return to_ms(created)

    # ----- the workers (HTTP) ------------------------------------------------------------

    def fetch(self, part: Slice) -> None:
        """Walk one slice, handing each page to the writer; errors go to the writer too."""
        try:
            self.fetch_pages(part)
            self.put(part)  # this slice is finished
        except BaseException as error:
            self.put(error)

    def fetch_pages(self, part: Slice) -> None:
        """The slice's pages to the writer, until it is done (pages.Reader reads them)."""
        pages = part.reader(self.space)
        while not self.stop.is_set():
            timed = pages.newer is not None
            page = pages.read()
            if not timed and page.items and untimed(page.items[0]):
                return  # see untimed() below
            self.put((part, page))
            if page.last or part.done(page.items):
                return

    def put(self, item: tuple[Slice, Page] | BaseException | Slice) -> None:
        while not self.stop.is_set():
            try:
                self.pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    # ----- the writer (this thread, the archive's connection) ----------------------------

    def walk(self, slices: list[Slice]) -> None:
        """Run the slices on the workers and write their pages as they come."""
        self.space.client.widen_pool(self.workers)
        todo = list(slices)
        running: dict[int, threading.Thread] = {}
        try:
            while todo or running:
                while todo and len(running) < self.workers:
                    part = todo.pop(0)
                    running[id(part)] = threading.Thread(
                        target=self.fetch, args=(part,), daemon=True
                    )
                    running[id(part)].start()
                item = self.pages.get()
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, Slice):
                    running.pop(id(item)).join()
                else:
                    self.write(*item)
        finally:  # on an error: the others stop at their next page (a request in flight
            self.stop.set()  # ends in the background: daemon threads, results dropped)
            deadline = time.monotonic() + 1.0
            for thread in running.values():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def write(self, part: Slice, page: Page) -> None:
        """One page and its coverage change (pages.commit), in the slice's span.

        The rows the page joined into its span are deleted, and every slice standing in one
        of them moves to the joined row at once, before the next page: SQLite gives a new
        row the highest rowid plus one, so a deleted row's id is reused by the next span a
        slice starts. A map from deleted ids to their rows (as this once kept) then sends a
        slice into another slice's span, and its page does not join the span it continues."""
        stored = get_span(self.db, part.span_id) if part.span_id is not None else None
        assert stored is not None or part.span_id is None, "a slice stands in a deleted span"
        span, gone = commit(self.space, page, stored)
        if span is None:
            return
        part.span_id = span.id
        for other in self.slices:
            if other.span_id in gone:
                other.span_id = span.id


def untimed(message: store.Received) -> bool:
    """Whether the message came without a usable ``created`` (it has its neighbour's now).

    A slice that starts at ``before=<time>`` and meets such a message first stops there,
    writing nothing. Webex always sends ``created``; where one is missing (the emulator lists
    such messages last) the message belongs with its newer neighbour, whose time it takes
    (rows.received), and that neighbour is not below this slice's bound (or Webex would have
    listed it first): the slice that reads the neighbour reads on through the untimed
    messages after it, since they take its time."""
    return store.archive_time(message.sent.get("created")) is None

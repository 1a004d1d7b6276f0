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
The slices' pages are written by ONE thread (the caller's, on its connection) from a bounded
queue, each page with its coverage change in one transaction, exactly as the sequential walk
writes them: coverage.record_page joins a slice's span with its neighbours when a page holds
a neighbour's end message or their times overlap, which is proof that nothing lies between.
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
from typing import TYPE_CHECKING, Any

from . import store
from .api import NotFoundError
from .errors import SyncError
from .people import decrypted_or_stored
from .store import transaction
from .store.coverage import Span, get_span, get_spans, record_page_joined
from .store.writers import MessageRows, message_rows, write_messages
from .times import from_ms, plus_ms, to_ms

if TYPE_CHECKING:
    from .sync import SpaceSync

EMPTY_PAGE_LIMIT = 10
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

    def first_request(self, base: dict[str, Any]) -> dict[str, Any]:
        if self.cursor is not None:
            return {**base, "beforeMessage": self.cursor.oldest_id}
        return {**base, "before": self.before} if self.before else dict(base)

    def done(self, items: list[dict]) -> bool:
        if not items:
            return False
        if self.floor is not None and items[-1]["created"] < self.floor:
            return True
        return self.lower_id is not None and any(m["id"] == self.lower_id for m in items)


@dataclass
class Page:
    """A fetched page on its way to the writer, with its rows made by the worker.

    Making rows is Python (~10 µs a message) and the writer's own Python is what limits a
    sync on two cores: made here, it overlaps the writer's SQLite work, which runs without
    the GIL. (An earlier measurement found the opposite — 19 s against 12 s — when the
    writer ran one statement per row and so had to win the GIL back from busy workers once
    a row; it now runs about ten statements a page.)"""

    part: Slice
    items: list[dict]
    last: bool  # no next link: the page holds the space's first message
    rows: MessageRows | None = None  # None: the writer makes them (see Backfill.write)


@dataclass
class Gap:
    upper: Span  # the span above the gap (the walk continues below its oldest message)
    lower: Span | None  # the span below it, if any
    floor: str | None  # the gap's lower time bound (lower span's newest, --since, or None)


class Backfill:
    """The parallel walk of one space's missing history (see the module docstring)."""

    def __init__(self, space: SpaceSync, space_id: str, since: str | None, density: Density):
        self.space, self.space_id, self.since, self.density = space, space_id, since, density
        self.db, self.client, self.options = space.db, space.client, space.options
        self.pages: queue.Queue[Page | BaseException | Slice] = queue.Queue(
            maxsize=2 * self.options.workers
        )
        self.stop = threading.Event()
        self.alias: dict[int, int] = {}  # coverage rows joined into another row → that row

    def run(self, top: Span) -> None:
        slices = [part for gap in self.gaps(top) for part in self.cut(gap)]
        if slices:
            self.walk(slices)

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
            count = min(count, SLICES_PER_WORKER * self.options.workers)
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
        base = {"roomId": self.space_id, "max": self.options.page_size}
        url, params = "messages", part.first_request(base)
        newer = part.cursor.oldest_created if part.cursor else None  # for received()
        empty = 0
        while not self.stop.is_set():
            try:
                items, next_url = self.client.page(url, params)
            except NotFoundError:
                if newer is None or (params is not None and "before" in params):
                    raise
                # The cursor message was deleted between pages: go on by time instead.
                url, params = "messages", {**base, "before": plus_ms(newer, 1)}
                continue
            if newer is None and items and store.archive_time(items[0].get("created")) is None:
                return  # see untimed() below
            items = store.received(items, self.space.now, newer)
            empty = empty + 1 if not items else 0
            if empty > EMPTY_PAGE_LIMIT:
                raise SyncError("Webex keeps answering empty pages; run again later")
            self.put(Page(part, items, next_url is None, self.rows(items)))
            if next_url is None or part.done(items):
                return
            newer = items[-1]["created"] if items else newer
            url, params = next_url, None

    def rows(self, items: list[dict]) -> MessageRows | None:
        """The page's rows, or None for the writer to make them (and raise what is wrong
        with the page there, at its turn, as the sequential walk would)."""
        try:
            return message_rows(items, self.space.now)
        except ValueError:
            return None

    # untimed(): a slice that starts at ``before=<time>`` and meets, first, a message without
    # a usable ``created`` stops there, writing nothing. Webex always sends ``created``; where
    # one is missing (the emulator lists such messages last) the message belongs with its
    # newer neighbour, whose time it takes (rows.received), and that neighbour is not below
    # this slice's bound (or Webex would have listed it first): the slice that reads the
    # neighbour reads on through the untimed messages after it, since they take its time.

    def put(self, item: Page | BaseException | Slice) -> None:
        while not self.stop.is_set():
            try:
                self.pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    # ----- the writer (this thread, the archive's connection) ----------------------------

    def walk(self, slices: list[Slice]) -> None:
        """Run the slices on the workers and write their pages as they come."""
        self.client.widen_pool(self.options.workers)
        todo = list(slices)
        running: dict[int, threading.Thread] = {}
        try:
            while todo or running:
                while todo and len(running) < self.options.workers:
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
                    self.write(item)
        finally:  # on an error: the others stop at their next page (a request in flight
            self.stop.set()  # ends in the background: daemon threads, results dropped)
            deadline = time.monotonic() + 1.0
            for thread in running.values():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def write(self, page: Page) -> None:
        """One page and its coverage change in one transaction, in the slice's span."""
        items = page.items
        kept, _ = decrypted_or_stored(self.db, "messages", items)
        rows = page.rows
        if kept is not items:  # the archive's own copies came in
            items = store.received(kept, self.space.now)
            rows = None
        if rows is None:
            rows = message_rows(items, self.space.now)
        with transaction(self.db):
            new, edited = write_messages(self.db, rows, self.space.now, index_new=True)
            span = self.resolve(page.part.span_id)
            span, gone = record_page_joined(self.db, self.space_id, span, items, page.last)
        if span is not None:
            self.alias.update(dict.fromkeys(gone, span.id))
            page.part.span_id = span.id
        self.space.count_page(len(new), len(edited))

    def resolve(self, span_id: int | None) -> Span | None:
        """The stored span a slice stands in, following rows joined into others since."""
        while span_id is not None and span_id in self.alias:
            span_id = self.alias[span_id]
        return get_span(self.db, span_id) if span_id is not None else None

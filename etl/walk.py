"""The message walk of one space, from its newest message down (docs/design.md, "Sync, precisely").

Messages page only backwards, so the walk starts at the newest message. Every page is written
with its coverage update in one transaction (pages.py); a walk that reaches a span it already
has jumps below it with ``beforeMessage``. The newest part of history (the look-back window)
is always re-read, which finds edits (kept as revisions) and deletions (marked, content kept).
Below the window, the history still missing is handed to the parallel backfill (backfill.py)
when the run has several workers; with one worker this walk goes on alone, as it always did.
"""

from __future__ import annotations

from collections.abc import Callable

from . import store
from .backfill import Backfill, Density
from .pages import Page, Reader, SpaceMessages, commit
from .store import transaction
from .store.coverage import Span

END_OF_TIME = "9999-12-31T23:59:59.999Z"  # above every time the API writes


class Walk:
    """One space's walk: its state between pages (span, what was seen, the newest time)."""

    def __init__(
        self,
        space: SpaceMessages,
        since: str | None,
        *,
        cutoff: str | None,
        last: int | None,
        workers: int,
        deleted: Callable[[int], None],
    ):
        """``since`` and ``last`` bound how far back history goes (sync.SyncOptions);
        ``cutoff``: the look-back window's lower end, None to re-read all; ``deleted``: told
        how many messages a re-read found gone (and marked)."""
        self.space, self.since, self.cutoff, self.last = space, since, cutoff, last
        self.workers, self.deleted = workers, deleted
        self.db, self.space_id = space.db, space.space_id
        self.span: Span | None = None
        self.seen: set[str] = set()
        self.top: str | None = None  # created of the newest message walked
        self.lowest: str | None = None  # created of the last message walked so far
        self.longest = 0  # items of the longest page (Webex may cap ``max``)
        self.rescanned = False  # the window was read to its end and vanished ones marked
        self.fresh = self.parallel() and not store.holds_messages(self.db, self.space_id)

    def parallel(self) -> bool:
        """Whether history below the look-back window may go to the parallel backfill
        (not for --last, whose bound is a count of messages, known only walking down)."""
        return self.workers > 1 and self.last is None

    def run(self) -> None:
        """Page down from the newest message; see the module docstring for the rules."""
        pages = Reader(self.space, {}, None)
        while True:
            page = pages.read()
            self.save(page)
            if page.last:
                break
            if not self.goes_on(page, pages):
                return
        if self.cutoff is None or not self.rescanned:
            self.mark_vanished("")  # re-read down to the very start

    def save(self, page: Page) -> None:
        """Write the page (pages.commit) and remember what it showed."""
        span, _ = commit(self.space, page, self.span)
        assert span is not None or not page.items
        self.span = span
        items = page.items
        self.seen.update(m["id"] for m in items)
        self.longest = max(self.longest, len(items))
        if items:
            self.top = self.top or items[0]["created"]
            self.lowest = items[-1]["created"]

    def goes_on(self, page: Page, pages: Reader) -> bool:
        """After a page that links on: whether the walk reads on (by the link, or below its
        span when that goes further down); False when it stopped at a bound or handed the
        rest to the parallel backfill."""
        if self.fresh and page.items:  # nothing stored to re-read: all of it in parallel
            if not self.bound_reached():
                self.hand_over()
            return False
        lowest, span, top = self.lowest, self.span, self.top
        if not page.items or self.cutoff is None:
            return True  # an empty page links on; or everything is to be re-read
        assert lowest is not None and span is not None and top is not None
        if lowest >= self.cutoff:
            return True  # inside the look-back window: read everything
        if not self.rescanned:
            self.mark_vanished(lowest)
            self.rescanned = True
        if span.reaches_start or self.bound_reached():
            return False
        if self.parallel():
            self.hand_over()
            return False
        if span.oldest_created < lowest:
            pages.jump(span)
        return True

    def hand_over(self) -> None:
        """The history still missing below the walk's span, to the parallel backfill."""
        assert self.span is not None and self.top is not None and self.lowest is not None
        density = Density(len(self.seen), self.top, self.lowest, self.longest)
        Backfill(self.space, self.since, density, self.workers).run(self.span)

    def bound_reached(self) -> bool:
        span, since = self.span, self.since
        assert span is not None
        if since is not None and span.oldest_created < since:
            return True
        if self.last is None:
            return False
        if store.live_messages_since(self.db, self.space_id, span.oldest_created) < self.last:
            return False
        with transaction(self.db):  # remember how far back --last reached
            store.lower_sync_since(self.db, self.space_id, span.oldest_created)
        return True

    def mark_vanished(self, lowest: str) -> None:
        """Messages stored above ``lowest`` (exclusive) that a complete re-read from the
        space's newest message down did not return were deleted in Webex: mark them, keep
        their content. Above the newest message read too: that one may be newer than a
        deleted one only because the deleted one was the newest (or the space is empty)."""
        live = store.live_message_ids(self.db, self.space_id, lowest, END_OF_TIME)
        gone = live - self.seen
        if gone:
            with transaction(self.db):
                self.deleted(store.mark_deleted(self.db, self.space_id, gone, self.space.now))

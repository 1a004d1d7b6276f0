"""The message walk of one space, from its newest message down (docs/design.md, "Sync, precisely").

Messages page only backwards, so the walk starts at the newest message. Every page is written
with its coverage update in one transaction; a walk that reaches a span it already has jumps
below it with ``beforeMessage``. The newest part of history (the look-back window) is always
re-read, which finds edits (kept as revisions) and deletions (marked, content kept). Below the
window, the history still missing is handed to the parallel backfill (backfill.py) when the
run has several workers; with one worker this walk goes on alone, as it always did.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from . import store
from .api import NotFoundError
from .backfill import Backfill, Density
from .errors import SyncError
from .people import decrypted_or_stored
from .store import transaction
from .store.coverage import Span, record_page
from .times import plus_ms, utc_iso

if TYPE_CHECKING:
    from .sync import SpaceSync

EMPTY_PAGE_LIMIT = 10


class Walk:
    """One space's walk: its state between pages (span, what was seen, the newest time)."""

    def __init__(self, space: SpaceSync, space_id: str, since: str | None):
        self.space, self.space_id, self.since = space, space_id, since
        self.db, self.options = space.db, space.options
        self.span: Span | None = None
        self.seen: set[str] = set()
        self.top: str | None = None  # created of the newest message walked
        self.lowest: str | None = None  # created of the last message walked so far
        self.longest = 0  # items of the longest page (Webex may cap ``max``)
        self.fresh = self.parallel() and not self.holds_messages()

    def parallel(self) -> bool:
        """Whether history below the look-back window may go to the parallel backfill
        (not for --last, whose bound is a count of messages, known only walking down)."""
        return self.options.workers > 1 and self.options.last is None

    def holds_messages(self) -> bool:
        found = self.db.execute(
            "SELECT 1 FROM messages WHERE space_id = ? LIMIT 1", [self.space_id]
        )
        return found.fetchone() is not None

    def cutoff(self) -> str | None:
        if self.options.full:
            return self.since  # re-read everything down to the bound (None: to the start)
        moment = datetime.now(timezone.utc) - timedelta(days=self.options.rescan_days)
        return utc_iso(moment)

    def run(self) -> None:
        """Page down from the newest message; see the module docstring for the rules."""
        cutoff = self.cutoff()
        base = {"roomId": self.space_id, "max": self.options.page_size}
        url, params = "messages", dict(base)
        rescanned, empty = False, 0
        while True:
            try:
                items, next_url = self.space.client.page(url, params)
            except NotFoundError:
                if self.span is None or "before" in (params or {}):
                    raise
                # The cursor message was deleted between pages: go on by time instead.
                url, params = "messages", {**base, "before": plus_ms(self.span.oldest_created, 1)}
                continue
            # Every created comparable (rows.py); the page before ends with the newer neighbour.
            items = store.received(items, self.space.now, self.lowest)
            empty = empty + 1 if not items else 0
            if empty > EMPTY_PAGE_LIMIT:
                raise SyncError("Webex keeps answering empty pages; run again later")
            self.span = self.save_page(items, next_url is None)
            self.seen.update(m["id"] for m in items)
            self.longest = max(self.longest, len(items))
            if items:
                self.top = self.top or items[0]["created"]
                self.lowest = items[-1]["created"]
            if next_url is None:
                break
            if self.fresh and items:  # nothing stored to re-read: all of it in parallel
                return None if self.bound_reached() else self.hand_over()
            if not items or (cutoff is None or self.lowest >= cutoff):
                url, params = next_url, None  # inside the look-back window: read everything
                continue
            if not rescanned:
                self.mark_vanished(self.lowest, self.top)
                rescanned = True
            if self.span.reaches_start or self.bound_reached():
                return None
            if self.parallel():
                return self.hand_over()
            if self.span.oldest_created < self.lowest:
                url, params = "messages", {**base, "beforeMessage": self.span.oldest_id}
            else:
                url, params = next_url, None
        if self.top is not None and (cutoff is None or not rescanned):
            self.mark_vanished("", self.top)  # re-read down to the very start
        return None

    def hand_over(self) -> None:
        """The history still missing below the walk's span, to the parallel backfill."""
        assert self.span is not None and self.top is not None and self.lowest is not None
        density = Density(len(self.seen), self.top, self.lowest, self.longest)
        Backfill(self.space, self.space_id, self.since, density).run(self.span)

    def save_page(self, items: list[dict], last: bool) -> Span:
        db, space = self.db, self.space
        kept, _ = decrypted_or_stored(db, "messages", items)
        if kept is not items:  # the archive's own copies came in: their times made comparable
            items = store.received(kept, space.now)
        with transaction(db):
            new, edited = store.save_messages(db, items, space.now, index_new=True)
            span = record_page(db, self.space_id, self.span, items, reaches_start=last)
        space.count_page(len(new), len(edited))
        assert span is not None or not items
        return span  # type: ignore[return-value]

    def bound_reached(self) -> bool:
        span, since, space_id = self.span, self.since, self.space_id
        assert span is not None
        if since is not None and span.oldest_created < since:
            return True
        if self.options.last is None:
            return False
        count = self.db.execute(
            "SELECT count(*) FROM messages WHERE space_id = ? AND created >= ? "
            "AND deleted_at IS NULL",
            [space_id, span.oldest_created],
        ).fetchone()[0]
        if count < self.options.last:
            return False
        with transaction(self.db):  # remember how far back --last reached
            self.db.execute(
                "UPDATE spaces SET sync_since = min(coalesce(sync_since, ?), ?) WHERE id = ?",
                [span.oldest_created, span.oldest_created, space_id],
            )
        return True

    def mark_vanished(self, lowest: str, top: str) -> None:
        """Messages stored between ``lowest`` (exclusive) and ``top`` that a complete re-read
        did not return were deleted in Webex: mark them, keep their content."""
        live = store.live_message_ids(self.db, self.space_id, lowest, top)
        gone = live - self.seen
        if gone:
            with transaction(self.db):
                deleted = store.mark_deleted(self.db, self.space_id, gone, self.space.now)
            self.space.result.deleted += deleted

"""The page loop of a space's messages, written once: the walk (walk.py) and every slice of
the parallel backfill (backfill.py) read pages with ``Reader`` and write them with ``commit``.

Reading: a run of pages goes down from a first request, following each page's next link
unless its walker jumps below a span (``Reader.jump``). When the message a cursor names was
deleted between two pages (404), the run goes on by time, just below that message's
``created``; an endless run of empty pages that still link on stops the sync in one line.
A 504 (Webex could not make the page in time) asks the same cursor again for half as many
messages (paging.py), and every later page of the space asks for the smaller size.

Writing: a page is written with its coverage change in ONE transaction, so that a process
killed at any instant leaves either the whole page (and the proof that it is complete) or
none of it. An item Webex could not decrypt never replaces the archive's decrypted copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlite_utils import Database

from .api import NotFoundError, WebexClient, WebexError
from .errors import SyncError
from .paging import FLOOR, PageSize
from .people import decrypted_or_stored
from .store import Received, received, transaction
from .store.coverage import Span, record_page_joined
from .store.writers import MessageRows, message_rows, write_messages
from .times import plus_ms

EMPTY_PAGE_LIMIT = 10  # empty pages in a row that still link on: Webex is not moving on
SHRINK_ON = frozenset({504})  # Gateway Timeout: "reduce max" (webex-api.md §7.1)


@dataclass(frozen=True)
class SpaceMessages:
    """What fetching and writing one space's messages needs from the space's sync (which
    makes it): the archive, the client, the run's time and page size (shared by the space's
    threads), and where the count of each written page goes."""

    db: Database
    client: WebexClient
    space_id: str
    now: str  # the run's time: every row's first/last seen
    page_size: PageSize
    counted: Callable[[int, int], None]  # a page was written: its new and edited messages


@dataclass
class Page:
    """A fetched page, with its rows made by the thread that fetched it.

    Making rows is Python (~10 µs a message) and the writer's own Python is what limits a
    sync on two cores: made by a backfill worker, it overlaps the writer's SQLite work, which
    runs without the GIL. (An earlier measurement found the opposite — 19 s against 12 s —
    when the writer ran one statement per row and so had to win the GIL back from busy
    workers once a row; it now runs about ten statements a page.)"""

    items: list[Received]
    last: bool  # no next link: the page holds the space's first message
    rows: MessageRows | None  # None: ``commit`` makes them (and raises what is wrong there)
    # The message the page continues directly below (its request's ``beforeMessage``, or
    # the last message of the page before, whose next link it followed); None when the run
    # started at a time or at the newest message. Proof that the page and the span ending
    # there are one (coverage.record_page_joined).
    follows: str | None = None


class Reader:
    """One run of message pages down a space's list, from a first request on."""

    def __init__(self, space: SpaceMessages, start: dict[str, Any], newer: str | None):
        """``start``: the first request's cursor (``beforeMessage`` or ``before``, or none
        for the newest message); ``newer``: the ``created`` of the message it continues
        below (None when it starts at a time or at the top)."""
        self.space = space
        self.base: dict[str, Any] = {"roomId": space.space_id}
        self.url: str = "messages"
        self.params: dict[str, Any] | None = {**self.base, **start}
        self.newer = newer
        self.follows: str | None = start.get("beforeMessage")  # see Page.follows
        self.empty = 0

    def read(self) -> Page:
        """The next page; then the run stands below it (its next link), unless ``jump``."""
        while True:
            size = self.space.page_size.current()
            url, params = self.sized(size)
            # At the floor a 504 is retried as any 5xx (the client's backoff), not shrunk.
            fail_fast = SHRINK_ON if size > FLOOR else frozenset()
            try:
                items, next_url = self.space.client.page(url, params, fail_fast=fail_fast)
                break
            except NotFoundError:
                if self.newer is None or "before" in (self.params or {}):
                    raise
                # The cursor message was deleted between pages: go on by time instead. The
                # page still continues the run (from that message's millisecond down), so
                # ``follows`` stays: the archive holds the message, ending the span.
                self.url, self.params = "messages", {**self.base, "before": plus_ms(self.newer, 1)}
            except WebexError as error:
                if error.status not in fail_fast:
                    raise
                self.space.page_size.too_big(size)  # and ask the same cursor again
        # Every created comparable (rows.received); the page before ends with the newer neighbour.
        page = received(items, self.space.now, self.newer)
        self.empty = 0 if page else self.empty + 1
        if self.empty > EMPTY_PAGE_LIMIT:
            raise SyncError("Webex keeps answering empty pages; run again later")
        follows = self.follows
        if page:
            self.newer, self.follows = page[-1]["created"], page[-1]["id"]
        if next_url is not None:
            self.url, self.params = next_url, None
        return Page(page, next_url is None, rows_or_none(page, self.space.now), follows)

    def sized(self, size: int) -> tuple[str, dict[str, Any] | None]:
        """The next request asking for ``size`` messages: Webex's next link carries the
        ``max`` of the page before, which a 504 may have made too large."""
        if self.params is not None:
            return self.url, {**self.params, "max": size}
        parts = urlsplit(self.url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        sized = [(k, str(size) if k == "max" else v) for k, v in query]
        if "max" not in dict(query):
            sized.append(("max", str(size)))
        return urlunsplit(parts._replace(query=urlencode(sized))), None

    def jump(self, span: Span) -> None:
        """Go on below ``span`` (``beforeMessage`` = its oldest message), not by the link."""
        self.url, self.params = "messages", {**self.base, "beforeMessage": span.oldest_id}
        self.newer, self.follows = span.oldest_created, span.oldest_id


def rows_or_none(items: list[Received], now: str) -> MessageRows | None:
    """The page's rows, or None for ``commit`` to make them (and raise what is wrong with
    the page there, in the writer's turn)."""
    try:
        return message_rows(items, now)
    except ValueError:
        return None


def commit(space: SpaceMessages, page: Page, span: Span | None) -> tuple[Span | None, list[int]]:
    """Write ``page`` and its coverage change, walking down from ``span``, in one transaction.
    Returns the span the walk now stands in and the coverage rows joined into it."""
    items, rows = page.items, page.rows
    kept, _ = decrypted_or_stored(space.db, "messages", items)
    if kept is not items:  # the archive's own copies came in: their times made comparable
        items, rows = received(kept, space.now), None
    if rows is None:
        rows = message_rows(items, space.now)
    with transaction(space.db):
        new, edited = write_messages(space.db, rows, space.now, index_new=True)
        span, gone = record_page_joined(
            space.db, space.space_id, span, items, page.last, page.follows
        )
    space.counted(len(new), len(edited))
    return span, gone

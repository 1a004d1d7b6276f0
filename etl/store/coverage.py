"""Coverage: the spans of each space's history known to be complete.

The messages list pages only backwards (newest first), so a sync walks down from the newest
message. Every page it writes proves that the messages from the page's first to its last are
all in the archive; together with the page before it, the walk so far is one contiguous span.
Storing those spans (table ``coverage``) is what lets a re-run skip what it already has and
lets a killed run resume: write each page and ``record_page`` in ONE transaction.

How the sync loop uses this (per space)::

    span = None                                   # nothing walked yet in this run
    before = None                                 # first request: no cursor
    while True:
        page, has_next = fetch(before)            # newest first, as the API returns it
        with transaction(db):
            save_messages(db, page, now)
            span = record_page(db, space_id, span, page, reaches_start=not has_next)
        if span is None or span.reaches_start or <lower bound reached>:
            break
        before = span.oldest_id                   # jumps below any span just joined
        # (inside the look-back window, use page[-1]["id"] instead to re-read covered ground)

Order and ties. Spans are ordered by created; Webex's order among messages created in the
same millisecond is unknown, so we never assume it:
  * a span's ends are the page's first and last message *in API order* (never re-sorted), and
    extending a span down takes the page's last message even when it has the same created as
    the span's current oldest, so ``beforeMessage=span.oldest_id`` always moves the walk on;
  * two spans are joined when the page just written contains an end message of the other span
    (exact: the walk has seen it), or when their created ranges overlap by more than a shared
    millisecond. Spans that merely share one millisecond at their ends stay apart until a page
    shows the boundary message; it costs at most one page;
  * message ids break ties in created only to list spans in a stable order (get_spans).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlite_utils import Database


@dataclass(frozen=True)
class Span:
    """A stretch of one space's history, from newest to oldest message, known complete."""

    id: int | None  # coverage.id; None until stored
    newest_id: str
    newest_created: str
    oldest_id: str
    oldest_created: str
    reaches_start: bool = False  # oldest is the space's very first message


def page_span(page: Sequence[Mapping[str, Any]], reaches_start: bool = False) -> Span:
    """The span one page proves: from its first to its last message, in API (newest-first)
    order. Messages need only "id" and "created" (API objects or rows both work)."""
    first, last = page[0], page[-1]
    return Span(None, first["id"], first["created"], last["id"], last["created"], reaches_start)


def union(upper: Span, lower: Span) -> Span:
    """One span from ``upper`` and ``lower`` (which continues below it or overlaps it).

    Ties in created go to ``upper`` for the newest end and to ``lower`` for the oldest end:
    the walk reached ``lower`` after ``upper``, so that is where it stands; but a span that
    reaches the start keeps its oldest end (spans walked side by side join in any order).
    The id is upper's, else lower's.
    """
    top = lower if lower.newest_created > upper.newest_created else upper
    if upper.oldest_created != lower.oldest_created:
        bottom = upper if upper.oldest_created < lower.oldest_created else lower
    else:  # a tie: a span that reaches the start ends at the space's first message
        bottom = upper if upper.reaches_start and not lower.reaches_start else lower
    return Span(
        upper.id if upper.id is not None else lower.id,
        top.newest_id,
        top.newest_created,
        bottom.oldest_id,
        bottom.oldest_created,
        upper.reaches_start or lower.reaches_start,
    )


def touches(span: Span, other: Span, page_ids: Collection[str] = ()) -> bool:
    """Whether ``other`` must be joined with ``span``: the page just walked holds one of its
    end messages, or the created ranges overlap by more than one shared millisecond."""
    if other.newest_id in page_ids or other.oldest_id in page_ids:
        return True
    if other.newest_id in (span.newest_id, span.oldest_id):
        return True
    if other.oldest_id in (span.newest_id, span.oldest_id):
        return True
    return other.newest_created > span.oldest_created and other.oldest_created < span.newest_created


def join(span: Span, other: Span) -> Span:
    """``span`` and ``other`` as one span; keeps span's id (else other's)."""
    if other.newest_created > span.newest_created:
        joined = union(other, span)
    else:
        joined = union(span, other)
    return replace(joined, id=span.id if span.id is not None else other.id)


def absorb(
    span: Span, others: Sequence[Span], page_ids: Collection[str] = ()
) -> tuple[Span, list[Span]]:
    """Join into ``span`` every span of ``others`` it touches, repeating until none is left
    (a join can widen the span into the next one). Returns (joined span, absorbed spans)."""
    absorbed: list[Span] = []
    pending = [other for other in others if other.id is None or other.id != span.id]
    changed = True
    while changed:
        changed = False
        for other in list(pending):
            if touches(span, other, page_ids):
                span = join(span, other)
                absorbed.append(other)
                pending.remove(other)
                changed = True
    return span, absorbed


# ----- the coverage table ------------------------------------------------------------------


def _span(row: Sequence[Any]) -> Span:
    return Span(row[0], row[1], row[2], row[3], row[4], bool(row[5]))


def get_spans(db: Database, space_id: str) -> list[Span]:
    """The space's spans, newest first (ties in created broken by message id)."""
    rows = db.conn.execute(
        "SELECT id, newest_id, newest_created, oldest_id, oldest_created, reaches_start "
        "FROM coverage WHERE space_id = ? ORDER BY newest_created DESC, newest_id DESC",
        [space_id],
    )
    return [_span(row) for row in rows]


def _insert(db: Database, space_id: str, span: Span) -> Span:
    cursor = db.conn.execute(
        "INSERT INTO coverage (space_id, newest_id, newest_created, oldest_id, oldest_created, "
        "reaches_start) VALUES (?, ?, ?, ?, ?, ?)",
        [space_id, span.newest_id, span.newest_created, span.oldest_id, span.oldest_created,
         int(span.reaches_start)],
    )  # fmt: skip
    return replace(span, id=cursor.lastrowid)


def _update(db: Database, span: Span) -> Span:
    db.conn.execute(
        "UPDATE coverage SET newest_id = ?, newest_created = ?, oldest_id = ?, "
        "oldest_created = ?, reaches_start = ? WHERE id = ?",
        [span.newest_id, span.newest_created, span.oldest_id, span.oldest_created,
         int(span.reaches_start), span.id],
    )  # fmt: skip
    return span


def _delete(db: Database, spans: Sequence[Span]) -> None:
    db.conn.executemany("DELETE FROM coverage WHERE id = ?", [[s.id] for s in spans])


def record_page(
    db: Database,
    space_id: str,
    span: Span | None,
    page: Sequence[Mapping[str, Any]],
    reaches_start: bool = False,
) -> Span | None:
    """Record that ``page`` (newest first) was written, walking down from ``span`` (None for
    the first page of a walk); return the span the walk now stands in.

    The page extends ``span`` downwards (or starts a new span) and absorbs every stored span
    it touches, so the result's oldest_id is always where the walk continues
    (``beforeMessage``): below any span just joined. ``reaches_start`` says the API has no
    page after this one (this page holds the space's first message). An empty page changes
    nothing except, with ``reaches_start``, marking ``span`` as reaching the start.
    Runs in the caller's transaction, with the page's messages.
    """
    return record_page_joined(db, space_id, span, page, reaches_start)[0]


def record_page_joined(
    db: Database,
    space_id: str,
    span: Span | None,
    page: Sequence[Mapping[str, Any]],
    reaches_start: bool = False,
    follows: str | None = None,
) -> tuple[Span | None, list[int]]:
    """record_page, and the ids of the stored spans whose rows it deleted (joined into the
    result): walks that run side by side (backfill.py) follow their span through them.

    ``follows``: the message the page continues directly below (its request's
    ``beforeMessage``, or the last message of the page whose next link it followed), if
    known. That is proof, as a message on the page is, that the span ending there and the
    page are one: it is joined whatever ``span`` the walker thought it stood in, so no two
    spans stay apart that a page has shown to touch."""
    if not page:
        if span is None or not reaches_start:
            return span, []
        return _update(db, replace(span, reaches_start=True)), []
    walked = page_span(page, reaches_start)
    current = walked if span is None else union(span, walked)
    page_ids = {message["id"] for message in page} | ({follows} if follows else set())
    current, absorbed = absorb(current, get_spans(db, space_id), page_ids)
    gone = [other for other in absorbed if other.id != current.id]
    _delete(db, gone)
    if current.id is None:
        return _insert(db, space_id, current), [s.id for s in gone if s.id is not None]
    return _update(db, current), [s.id for s in gone if s.id is not None]


def get_span(db: Database, span_id: int) -> Span | None:
    """The stored span with this id, or None when its row is gone (joined into another)."""
    row = db.conn.execute(
        "SELECT id, newest_id, newest_created, oldest_id, oldest_created, reaches_start "
        "FROM coverage WHERE id = ?",
        [span_id],
    ).fetchone()
    return _span(row) if row else None

"""The organisation's change feed (``GET /v1/events``), for a compliance officer's token.

Documented by Webex (webex-api.md §8, §13; the OpenAPI spec's ``List Events``): only a
compliance officer with ``spark-compliance:events_read`` may read it; filters ``resource``,
``type``, ``actorId``, ``from`` ("after"), ``to``, ``max`` up to 1,000; ``Link`` paging; a
message event's ``data`` is the message as it was then, a deletion's holds ids only; events
are kept for a limited time (90 days without the Pro Pack). Not documented, so not relied
on: the order of the events (we store each page and apply each space's events in time order
ourselves), and whether ``from`` is inclusive and how late an event may appear (we read from
the checkpoint minus an overlap and ignore events already stored).

The feed is read in two steps, so that a run killed at any instant resumes exactly:

1. ``read_feed``: page by page, the events of the spaces in scope go into the ``events``
   table; the last page's transaction also moves the checkpoint to the time the read began.
   A killed read leaves the checkpoint where it was: the next run reads the same stretch again,
   and the events it already holds are skipped.
2. ``apply_events``: after its space's sync, the space's pending events are applied (edits,
   deletions with their exact times, messages deleted before they were ever archived
   recovered by id while Webex keeps them, exact leaving times), in one transaction with their
   ``applied_at``. Until then the space stays pending, and the next run syncs it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from sqlite_utils import Database

from . import store
from .api import ForbiddenError, NotFoundError, WebexClient
from .store import events as feed_store
from .store import transaction
from .times import utc_iso

PAGE_SIZE = 1000  # the feed's documented maximum
# How far before the checkpoint each read starts again: events that Webex lists late, or a
# clock that differs from Webex's by less than this, are not missed (stored ones are skipped).
OVERLAP = timedelta(minutes=10)
DEFAULT_RETENTION_DAYS = 90.0


def is_compliance_officer(client: WebexClient) -> bool:
    """Whether the token may read the organisation's events feed (a compliance officer's,
    with ``spark-compliance:events_read``): one request of one event. For ``spaces`` and
    ``auth status``. Webex answers 403 to any other token."""
    try:
        client.page("events", {"max": 1})
    except ForbiddenError:
        return False
    return True


@dataclass
class FeedRead:
    """What one read of the feed did."""

    pages: int = 0
    stored: int = 0  # events new to the archive
    first: bool = False  # no checkpoint before: the whole retention window was read
    expired: bool = False  # the checkpoint was older than the retention window
    since: str = ""  # where the read began


def read_feed(
    db: Database,
    client: WebexClient,
    in_scope: Callable[[str], bool],
    retention_days: float,
    progress: Callable[[str], None] | None = None,
    known: set[str] | frozenset[str] = frozenset(),
) -> FeedRead:
    """Read the feed since the checkpoint (or the retention window's start) into ``events``:
    each page in one transaction, the last with the new checkpoint. ``in_scope`` says which
    spaces' events the archive keeps; of the overlap before the checkpoint, only the events
    of ``known`` spaces (the archive's): the last run saw the others, and left them out (or
    the space was forgotten since)."""
    started = datetime.now(timezone.utc)
    window = utc_iso(started - timedelta(days=retention_days))
    previous = feed_store.checkpoint(db)
    read = FeedRead(first=previous is None, expired=bool(previous and previous < window))
    overlap = utc_iso(_parse(previous) - OVERLAP) if previous else window
    read.since = max(overlap, window)
    query = {"from": read.since, "max": PAGE_SIZE}

    def keep(event: dict) -> bool:
        seen = previous is not None and str(event.get("created", "")) < previous
        room = _room(event)
        return in_scope(room) and (not seen or room in known)

    _read(db, client, query, keep, read, progress, checkpoint=utc_iso(started))
    return read


def read_deletions(
    db: Database,
    client: WebexClient,
    spaces: set[str],
    until: str,
    retention_days: float,
    progress: Callable[[str], None] | None = None,
) -> FeedRead:
    """The deletions in ``spaces`` (new to the archive) from the start of the retention window
    up to the checkpoint: the feed read since the checkpoint does not hold them, and their
    messages are still recoverable. The checkpoint does not move."""
    window = utc_iso(datetime.now(timezone.utc) - timedelta(days=retention_days))
    read = FeedRead(since=window)
    query = {"resource": "messages", "type": "deleted", "from": window, "to": until}

    def keep(event: dict) -> bool:
        return _room(event) in spaces

    _read(db, client, query | {"max": PAGE_SIZE}, keep, read, progress)
    return read


def _read(
    db: Database,
    client: WebexClient,
    query: dict,
    keep: Callable[[dict], bool],
    read: FeedRead,
    progress: Callable[[str], None] | None,
    checkpoint: str | None = None,
) -> None:
    """Page by page into ``events``, each page in one transaction; the last page's also sets
    ``checkpoint`` when one is given."""
    url: str | None = "events"
    params: dict | None = query
    while url is not None:
        items, url = client.page(url, params)
        params = None
        kept = [e for e in items if isinstance(e, dict) and keep(e)]
        with transaction(db):
            read.stored += feed_store.save_events(db, kept, store.utc_now())
            if url is None and checkpoint is not None:
                feed_store.set_checkpoint(db, checkpoint)
        read.pages += 1
        if progress:
            progress(f"events: {read.pages} pages, {read.stored} new")


@dataclass
class Applied:
    """What applying a space's events changed."""

    edited: int = 0
    deleted: int = 0
    recovered: int = 0


def apply_events(db: Database, client: WebexClient, space_id: str, now: str) -> Applied:
    """Apply the space's pending events, after its sync (so the space and its members are
    stored), in one transaction with their ``applied_at``."""
    events = feed_store.pending_events(db, space_id)
    recovered = _recover(db, client, space_id, events)
    applied = Applied(recovered=len(recovered))
    with transaction(db):
        if recovered:
            store.save_messages(db, recovered, now)
        for event in events:
            _apply(db, space_id, event, now, applied)
        feed_store.mark_applied(db, [e["id"] for e in events], now)
    return applied


def _recover(db: Database, client: WebexClient, space_id: str, events: list[dict]) -> list[dict]:
    """Messages deleted before the archive ever held them, fetched by id while Webex keeps
    them for compliance officers (after that, 404: only the event's ids remain)."""
    found = []
    for event in events:
        message_id = _data(event).get("id")
        if (event.get("resource"), event.get("type")) != ("messages", "deleted"):
            continue
        if not isinstance(message_id, str) or feed_store.stored_updated(db, message_id)[0]:
            continue  # held already (in this space, or another: never moved)
        try:
            message = client.get_json(f"messages/{quote(message_id, safe='')}")
        except (NotFoundError, ForbiddenError):
            continue
        if message.get("id") == message_id and message.get("roomId") == space_id:
            found.append(message)
    return found


def _apply(db: Database, space_id: str, event: dict, now: str, applied: Applied) -> None:
    """One event's effect; each is idempotent, so that a re-applied event changes nothing."""
    kind = (event.get("resource"), event.get("type"))
    data, moment = _data(event), store.archive_time(event.get("created"))
    object_id = data.get("id")
    if not isinstance(object_id, str) or moment is None:
        return
    if kind == ("messages", "deleted"):
        applied.deleted += feed_store.deleted_at(db, space_id, object_id, moment)
    elif kind == ("messages", "updated"):
        held_in, updated = feed_store.stored_updated(db, object_id)
        newer = store.archive_time(data.get("updated"))
        if held_in == space_id and newer and (updated is None or newer > updated):
            _, edited = store.save_messages(db, [data], now)
            applied.edited += len(edited)
    elif kind == ("memberships", "created"):
        feed_store.joined(db, space_id, data, now)
    elif kind == ("memberships", "deleted"):
        feed_store.left(db, space_id, object_id, moment)


def _data(event: dict) -> dict:
    data = event.get("data")
    return data if isinstance(data, dict) else {}


def _room(event: dict) -> str:
    room = _data(event).get("roomId")
    return room if isinstance(room, str) else ""


def _parse(moment: str) -> datetime:
    return datetime.strptime(moment[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)

"""``render --events``: members joining and leaving, in the timeline among the messages.

The times are the memberships table's: ``created`` (when Webex says the person joined) and
``left_at`` (for a compliance officer's archive the leaving time from Webex's events feed;
otherwise when a sync found the member gone). Each change becomes an Item of kind ``joined``
or ``left``, placed before the first thread that starts after it (oldest first; after the
last that starts after it, newest first), so threads stay whole. The JSON document lists the
changes in ``membership_changes`` instead of interleaving them with its threads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .model import Context, Item, person_of
from .times import real

KINDS = ("joined", "left")


@dataclass(frozen=True)
class Change:
    """One member joining or leaving, at ``time`` (the archive's UTC text)."""

    time: str
    kind: str  # joined | left
    membership_id: str
    person_id: str | None
    email: str | None
    name: str | None
    org_id: str | None


def membership_changes(
    conn: sqlite3.Connection, space_id: str, since: str | None, until: str | None
) -> list[Change]:
    """The space's joins and leaves with ``since <= time < until`` (either may be None), in
    time order."""
    rows = conn.execute(
        "SELECT ms.id, ms.created, ms.left_at, ms.person_id, "
        "coalesce(ms.person_email, pe.email), coalesce(pe.display_name, ms.person_display_name), "
        "coalesce(ms.person_org_id, pe.org_id) FROM memberships AS ms "
        "LEFT JOIN people AS pe ON pe.id = ms.person_id WHERE ms.space_id = ?",
        [space_id],
    )
    changes = []
    for membership_id, joined, left, person_id, email, name, org_id in rows:
        for kind, moment in (("joined", joined), ("left", left)):
            if not real(moment):  # none, or not a real time (render/times.py): not placed
                continue
            if (since is None or moment >= since) and (until is None or moment < until):
                changes.append(Change(moment, kind, membership_id, person_id, email, name, org_id))
    return sorted(changes, key=lambda c: (c.time, c.kind != "joined", c.membership_id))


def interleave(
    stream: Iterable[Item], changes: list[Change], ctx: Context, newest_first: bool
) -> Iterator[Item]:
    """``stream`` with each change placed at its time between threads (see module doc)."""
    pending = list(reversed(changes)) if newest_first else list(changes)
    position = 0
    after_change = False
    for item in stream:
        if not item.is_reply and item.created:
            while position < len(pending) and _before(pending[position], item, newest_first):
                yield change_item(pending[position], ctx)
                position += 1
                after_change = True
        if after_change and item.kind == "message":
            item.group_start = True  # the message shows its author again after a change
        after_change = False
        yield item
    for change in pending[position:]:
        yield change_item(change, ctx)


def _before(change: Change, item: Item, newest_first: bool) -> bool:
    created = item.created or ""
    return change.time > created if newest_first else change.time < created


def change_item(change: Change, ctx: Context) -> Item:
    """The Item of a change: its person as a message's author would be shown (blurred with
    --blur, marked external), its time, its month."""
    key = (change.person_id, change.email, change.name, change.org_id, None, None)
    item = Item()
    item.author, item.email, item.external, item.avatar = person_of(key, ctx)
    item.id = f"{change.kind}-{change.membership_id}"
    item.kind, item.thread, item.month = change.kind, item.id, ctx.clock.month(change.time)
    item.is_reply, item.in_window, item.card, item.deleted_exact = False, True, False, False
    item.created, item.updated, item.deleted = change.time, None, None
    item.author_id, item.body, item.plain, item.files = change.person_id, "", "", []
    item.source = None
    item.group_start = True
    return item


def change_line(item: Item) -> str:
    """What the change says, without the time: ``Ann Example joined the space``."""
    return f"{item.author} {'joined' if item.kind == 'joined' else 'left'} the space"

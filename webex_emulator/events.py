"""The organisation's change feed behind ``GET /v1/events`` (webex-api.md §8, §13).

Every change the emulator makes to its live data (a message posted, edited or deleted, a
member joining or leaving) is recorded here as Webex records it: ``{id, resource, type,
actorId, orgId, created, data}``, ``data`` the message or membership as it was at that moment,
a deletion carrying ids only. Documented by Webex (the OpenAPI spec's ``List Events``): the
filters ``resource``, ``type``, ``actorId``, ``from``, ``to`` (not in the future), ``max``
(1–1000, default 100), ``Link`` paging. Our guesses, the documentation being silent: the
order (newest first, like every other Webex list); a ``from`` older than the retention window
is not an error, the answer simply holds only what Webex still keeps; a ``max`` above 1000 is
clamped like the other lists' caps.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from .clock import Clock
from .ids import format_time, make_id, new_uuid, normalise_time

RESOURCES = ("messages", "memberships", "rooms", "attachmentActions", "files")
TYPES = ("created", "updated", "deleted")
DEFAULT_RETENTION_DAYS = 90.0
# What a deletion event's data keeps of the object: ids only (webex-api.md §13).
ID_KEYS = ("id", "roomId", "roomType", "personId", "personOrgId")

_rng = random.Random()


@dataclass
class EventLog:
    """The recorded events in time order (``(created, seq)``), and how long they are kept by
    ``clock`` (the data set's own: ``DataSet`` links it in)."""

    retention_days: float = DEFAULT_RETENTION_DAYS
    _events: list[dict] = field(default_factory=list)
    _keys: list[tuple[str, int]] = field(default_factory=list)
    _seq: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    clock: Clock = field(default_factory=Clock, repr=False, compare=False)

    def record(
        self,
        resource: str,
        kind: str,
        actor_id: str,
        org_id: str,
        data: dict,
        created: str | None = None,
    ) -> dict:
        """Add one event; ``created`` (default now) may lie in the past, for tests of old
        changes. A deletion's ``data`` is cut to the ids it names."""
        if kind == "deleted":
            data = {k: v for k, v in data.items() if k in ID_KEYS}
        event = {
            "id": make_id("EVENT", new_uuid(_rng)),
            "resource": resource,
            "type": kind,
            "actorId": actor_id,
            "orgId": org_id,
            "created": normalise_time(created) if created else format_time(self.clock.now()),
            "data": dict(data),
        }
        self.add(event)
        return event

    def add(self, event: dict) -> None:
        with self.lock:
            self._seq += 1
            key = (normalise_time(event["created"]), self._seq)
            position = bisect.bisect(self._keys, key)
            self._keys.insert(position, key)
            self._events.insert(position, event)

    def oldest_kept(self) -> str:
        """The start of the retention window: older events are gone."""
        return format_time(self.clock.now() - timedelta(days=self.retention_days))

    def newest_first(
        self, after: str, up_to: str, below: tuple[str, int] | None
    ) -> Iterator[tuple[tuple[str, int], dict]]:
        """Events with ``after < created < up_to`` (and keys below ``below``), newest first."""
        with self.lock:
            keys, events = list(self._keys), list(self._events)
        end = bisect.bisect_left(keys, (up_to, 0))
        if below is not None:
            end = min(end, bisect.bisect_left(keys, below))
        for index in range(end - 1, -1, -1):
            if keys[index][0] <= after:
                return
            yield keys[index], events[index]

    def get(self, event_id: str) -> dict | None:
        with self.lock:
            kept = self.oldest_kept()
            return next(
                (e for e in self._events if e["id"] == event_id and e["created"] >= kept), None
            )

    def to_json(self) -> list[dict]:
        with self.lock:
            return [dict(e) for e in self._events]

    @classmethod
    def from_json(cls, events: list[dict], retention_days: float, clock: Clock) -> EventLog:
        log = cls(retention_days=retention_days, clock=clock)
        for event in events:
            log.add(dict(event))
        return log

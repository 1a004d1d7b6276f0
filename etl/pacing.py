"""One request budget for every thread of a run: requests spaced so that Webex's quota is never
exceeded, whether the quota is known (``--max-rate``) or learned from its 429 answers.

Webex documents a quota per user of about 300 requests a minute, higher and adjusted on the
fly for ``/messages`` and ``/people``, enforced with 429 and ``Retry-After``; the exact rules
are "too complex to document" (webex-api.md §7.3). So:

* a rate the user states (``--max-rate N``, for people who share a token with other tools)
  spaces every request of the run at least ``60 / N`` seconds apart, whatever its path;
* each path class (``messages``, ``people``, ``other``: our guess at how Webex splits its
  quota, from the documentation's wording) learns its own rate when a second 429 comes within
  a minute of the first: the requests of that class Webex accepted in the minute before are
  what the quota allows, and from then on the class is spaced to a little under that. A lone
  429 (a blip, another tool's burst on the same token) is only waited out: pacing a whole run
  on one refusal would slow it for nothing. Two teach; the threads then keep below the limit
  instead of meeting it again and again.

Slots are handed out in order under a lock and waited for outside it, so threads never
bunch up behind one another; ``Retry-After`` (the client's shared pause) still wins.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

WINDOW = 60.0  # seconds: Webex states its quota per minute
HEADROOM = 0.97  # pace a learned quota this much below what it allowed
CLASSES = ("messages", "people", "other")


def path_class(url: str) -> str:
    """The quota class of a request: ``/v1/messages…`` and ``/v1/people…`` have quotas of
    their own (webex-api.md §7.3); everything else shares one."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    name = parts[1] if len(parts) > 1 and parts[0] == "v1" else (parts[0] if parts else "")
    return name if name in ("messages", "people") else "other"


@dataclass
class Budget:
    """Evenly spaced slots: the next free one, and how far apart they are (0: no pacing)."""

    interval: float = 0.0
    next_at: float = 0.0
    sent: deque[float] = field(default_factory=deque)  # when recent requests were sent
    refused: deque[float] = field(default_factory=deque)  # when recent 429s came

    def recent(self, queue: deque[float], now: float) -> int:
        """How many of ``queue``'s times fall in the last minute (older ones dropped)."""
        while queue and queue[0] <= now - WINDOW:
            queue.popleft()
        return len(queue)

    def take(self, now: float) -> float:
        """Claim the next slot; returns when it is (``now`` or later)."""
        slot = max(now, self.next_at)
        self.next_at = slot + self.interval
        self.sent.append(slot)
        self.recent(self.sent, slot)
        return slot


class Pacer:
    """The run's shared budget (see the module docstring). Thread-safe."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.clock, self.sleep = clock, sleep
        self.lock = threading.Lock()
        self.overall = Budget()
        self.classes = {name: Budget() for name in CLASSES}
        self.learned: dict[str, float] = {}  # requests per minute, per class, from 429s
        self.max_rate: float | None = None

    def limit(self, per_minute: float | None) -> None:
        """Space every request at least ``60 / per_minute`` seconds apart (None: no limit)."""
        with self.lock:
            self.max_rate = per_minute
            self.overall.interval = WINDOW / per_minute if per_minute else 0.0

    def wait(self, url: str) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        budget = self.classes[path_class(url)]
        with self.lock:
            now = self.clock()
            slot = max(self.overall.take(now), budget.take(now))
        delay = slot - now
        if delay > 0:
            self.sleep(delay)
        return max(delay, 0.0)

    def rate_limited(self, url: str) -> float | None:
        """Webex answered 429. The second within a minute in a class teaches its quota: the
        requests Webex accepted in the last minute (sent, less those refused). Returns the
        rate the class is paced at from now on (requests a minute), or None (not paced)."""
        name = path_class(url)
        budget = self.classes[name]
        with self.lock:
            now = self.clock()
            budget.refused.append(now)
            refused = budget.recent(budget.refused, now)
            if refused < 2:
                return self.learned.get(name)
            accepted = budget.recent(budget.sent, now) - refused
            rate = max(1.0, accepted * HEADROOM)
            known = self.learned.get(name)
            rate = rate if known is None else min(known, rate)
            self.learned[name] = rate
            budget.interval = WINDOW / rate
            budget.next_at = max(budget.next_at, now)
        return rate

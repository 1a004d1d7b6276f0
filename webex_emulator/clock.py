"""The emulator's time: the machine's, moved forward as far as a test asks.

Everything the emulator decides by time reads this clock: codes, access and refresh tokens and
consent forms expire by it, the quota's window slides by it, and the data's own times (a new
message's ``created``, an edit's ``updated``, an event's ``created``, the events feed's
retention window and its "future ``to``" check) are its ``now``. Moving it forward
(``advance``) is what waiting would do, without the wait: a test of a 14-day token lifetime or
a 60-second quota window takes no time. It never runs backwards, so nothing issued can come
back to life and no new message is older than the last. What takes time on the wire does not
read it: latency, ``delay`` faults and a too-large page's 504 really wait, because they are
about how long a client waits for an answer.

A test may also ``stop`` it: from then on only ``advance`` moves it. A client given this clock
and a sleep that advances it (``WebexClient(clock=..., sleep=...)``) then counts the same
seconds as the emulator, so a quota's window is met the same way however fast the machine is.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta, timezone

# How far it may be moved in all: a century, far enough for any lifetime and short of
# datetime's year 9999.
MAX_OFFSET = 100 * 365 * 86_400.0


class Clock:
    """The machine's clocks plus ``offset`` seconds; ``advance`` adds to the offset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._stopped: tuple[float, datetime] | None = None  # the machine's time at ``stop``

    @property
    def offset(self) -> float:
        """How far the clock has been moved, in seconds."""
        return self._offset

    def monotonic(self) -> float:
        """For deadlines (expiry, the quota's window): ``time.monotonic()`` moved forward."""
        stopped = self._stopped
        return (stopped[0] if stopped else time.monotonic()) + self._offset

    def now(self) -> datetime:
        """The emulator's present, in UTC: what the data's times are made from."""
        stopped = self._stopped
        return (stopped[1] if stopped else datetime.now(timezone.utc)) + timedelta(
            seconds=self._offset
        )

    def stop(self) -> None:
        """Stand still from now on: the machine's time no longer moves the clock, ``advance``
        alone does. For a test whose client shares this clock: a machine slowed by load then
        changes nothing that either side counts (tests/etl/test_quota.py)."""
        with self._lock:
            if self._stopped is None:
                self._stopped = (time.monotonic(), datetime.now(timezone.utc))

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward (never back); the new offset."""
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ValueError("the clock moves forward only: seconds is a number, at least 0")
        with self._lock:
            if self._offset + seconds > MAX_OFFSET:
                raise ValueError("the clock moves at most a hundred years in all")
            self._offset += float(seconds)
            return self._offset

"""One request budget for every thread of a run: requests spaced so that Webex's quota is not
exceeded, whether the quota is known (``--max-rate``) or learnt from its 429 answers.

Webex documents a quota per user of about 300 requests a minute, higher and adjusted on the
fly for ``/messages`` and ``/people``, enforced with 429 and ``Retry-After``; the exact rules
are "too complex to document" (webex-api.md §7.3). So:

* a rate the user states (``--max-rate N``, for people who share a token with other tools)
  spaces the run's requests at least ``60 / N`` seconds apart, whatever their path;
* otherwise the run goes as fast as its threads go until a second 429 comes within a minute
  of the first: the requests Webex accepted in the minute before it (or since the run began,
  scaled to a minute, when that is shorter) are what the quota allows, and from then on every
  request is spaced to a little under that. The latest evidence wins, so a run that learnt
  too much (a quota per minute met in a first burst of seconds reads as a higher rate) or too
  little corrects itself: after a minute without a 429 the pace rises by a tenth, so a rate
  learnt too low climbs back until Webex refuses again (a pair of 429s every few minutes at
  worst, not a storm). A lone 429 (a blip, another tool's burst on the
  same token) is only waited out: pacing a whole run on one refusal would slow it for
  nothing; so are 429s after fewer than ``MIN_EVIDENCE`` accepted requests in the minute: a
  quota that low is not this run's (Webex's is about 300) but another client's use of the
  token, and ``Retry-After`` is all there is to go by.

The budget is one for all paths. Where Webex gives ``/messages`` more than the rest, a run
paced by a limit met elsewhere is slower than it could be, but never meets the limit again
and again; a budget per path would overshoot wherever the quota is in fact shared.

Slots are handed out in order under a lock and waited for outside it, so threads never
bunch up behind one another; ``Retry-After`` (the client's shared pause) still wins.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW = 60.0  # seconds: Webex states its quota per minute
HEADROOM = 0.97  # pace a learnt quota this much below what it allowed
MIN_EVIDENCE = 30  # requests accepted in the minute before a quota is learnt from 429s
RISE = 1.1  # a learnt pace rises by this after a minute without a 429


class Pacer:
    """The run's shared budget (see the module docstring). Thread-safe."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.clock, self.sleep = clock, sleep
        self.lock = threading.Lock()
        self.next_at = 0.0
        self.sent: deque[float] = deque()  # when the requests of the last minute were sent
        self.refused: deque[float] = deque()  # when the 429s of the last minute came
        self.started: float | None = None  # when the first request was sent
        self.max_rate: float | None = None  # stated (--max-rate), requests a minute
        self.learnt: float | None = None  # from 429s, requests a minute
        self.calm_since = 0.0  # the last 429, or the last rise of the learnt pace

    def limit(self, per_minute: float | None) -> None:
        """Space every request at least ``60 / per_minute`` seconds apart (None: no limit)."""
        with self.lock:
            self.max_rate = per_minute

    def interval(self) -> float:
        """Seconds between two requests (0: none asked, none learnt)."""
        rates = [rate for rate in (self.max_rate, self.learnt) if rate]
        return WINDOW / min(rates) if rates else 0.0

    def wait(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        with self.lock:
            now = self.clock()
            self.started = now if self.started is None else self.started
            if self.learnt and now - self.calm_since > WINDOW:  # a minute without a 429
                self.learnt, self.calm_since = self.learnt * RISE, now
            slot = max(now, self.next_at)
            self.next_at = slot + self.interval()
            self.sent.append(slot)
            _trim(self.sent, slot)
        delay = slot - now
        if delay > 0:
            self.sleep(delay)
        return max(delay, 0.0)

    def rate_limited(self) -> float | None:
        """Webex answered 429. A second one within a minute teaches the quota: the requests
        Webex accepted in the last minute (sent, less those refused). Returns the rate the
        run is paced at from now on (requests a minute), or None (not paced)."""
        with self.lock:
            now = self.clock()
            self.refused.append(now)
            self.calm_since = now
            refused = _trim(self.refused, now)
            accepted = _trim(self.sent, now) - refused
            if refused >= 2 and accepted >= MIN_EVIDENCE:
                since = now - (self.started if self.started is not None else now)
                self.learnt = accepted * WINDOW / min(WINDOW, max(since, 1.0)) * HEADROOM
                self.next_at = max(self.next_at, now)
            rates = [rate for rate in (self.max_rate, self.learnt) if rate]
            return min(rates) if rates else None


def _trim(times: deque[float], now: float) -> int:
    """Drop the times older than a minute; how many are left."""
    while times and times[0] <= now - WINDOW:
        times.popleft()
    return len(times)

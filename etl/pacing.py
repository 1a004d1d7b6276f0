"""One request budget for every thread of a run: requests spaced so that Webex's quota is not
exceeded, whether the quota is known (``--max-rate``), learnt from its 429 answers, or
remembered from an earlier run of the same archive.

Webex documents a quota per user of about 300 requests a minute, higher and adjusted on the
fly for ``/messages`` and ``/people``, enforced with 429 and ``Retry-After``; the exact rules
are "too complex to document" (webex-api.md §7.3). So:

* a rate the user states (``--max-rate N``, for people who share a token with other tools)
  spaces the run's requests at least ``60 / N`` seconds apart, whatever their path;
* otherwise the run goes as fast as its threads go until a second 429 comes within a minute
  of the first: the requests Webex accepted in the minute before it are what the quota allows,
  and from then on every request is spaced to a little under that. When the run is younger
  than a minute, the accepted requests are spread over the time since the run's first request
  plus the ``Retry-After`` Webex asks for: with a quota per minute that is the minute, so a
  first burst of seconds is not read as a higher rate (our reading of a sliding window; the
  estimate stays right for a shorter window, where the run is soon older than it). The latest
  evidence wins, so a run that learnt too much corrects itself at its next 429s. A lone 429
  (a blip, another tool's burst on the same token) is only waited out: pacing a whole run on
  one refusal would slow it for nothing; so are 429s after fewer than ``MIN_EVIDENCE``
  accepted requests in the minute: a quota that low is not this run's (Webex's is about 300)
  but another client's use of the token, and ``Retry-After`` is all there is to go by.
* a learnt pace is kept in the archive (etl/sync.py), and the next run starts paced at it, so
  it provokes no 429 at all. The pace never rises on its own during a run (a rise would be a
  probe, paid in 429s every few minutes); Webex's quota changes, so a remembered pace is
  dropped after ``RELEARN_DAYS`` and learnt again (a handful of 429s a week at most).

The budget is one for all paths. Where Webex gives ``/messages`` more than the rest, a run
paced by a limit met elsewhere is slower than it could be, but never meets the limit again
and again; a budget per path would overshoot wherever the quota is in fact shared.

Slots are handed out in order under a lock and waited for outside it, so threads never
bunch up behind one another. A paced slot is also never one that would put more than the
pace's requests into the minute before it (what a sliding window counts). After a 429 the
next slot is no sooner than ``Retry-After`` (the client's shared pause, which every thread
also checks again just before it sends).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from . import store

WINDOW = 60.0  # seconds: Webex states its quota per minute
HEADROOM = 0.97  # pace a learnt quota this much below what it allowed
MIN_EVIDENCE = 30  # requests accepted in the minute before a quota is learnt from 429s
RELEARN_DAYS = 7.0  # a remembered pace is learnt again once it is this old


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
        self.learnt: float | None = None  # from 429s (this run's or remembered), a minute
        self.taught = False  # whether this run's 429s taught ``learnt``

    def limit(self, per_minute: float | None) -> None:
        """Space every request at least ``60 / per_minute`` seconds apart (None: no limit)."""
        with self.lock:
            self.max_rate = per_minute

    def remember(self, per_minute: float) -> None:
        """Start paced at a rate an earlier run learnt (it still gives way to later 429s)."""
        with self.lock:
            if not self.taught:
                self.learnt = per_minute

    def interval(self) -> float:
        """Seconds between two requests (0: none asked, none learnt)."""
        rates = [rate for rate in (self.max_rate, self.learnt) if rate]
        return WINDOW / min(rates) if rates else 0.0

    def cap(self) -> int:
        """Requests any minute may hold (0: no limit). Spacing alone does not keep to it right
        after a burst: a quota met by requests bunched at the end of its minute, and slow ones
        before (the message phase, then the files), fills again as the slow ones leave the
        window unless the burst leaving it is waited for too."""
        rates = [rate for rate in (self.max_rate, self.learnt) if rate]
        return max(1, int(min(rates))) if rates else 0

    def wait(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        with self.lock:
            now = self.clock()
            self.started = now if self.started is None else self.started
            slot = max(now, self.next_at)
            cap = self.cap()
            if cap and _trim(self.sent, slot) >= cap:  # the minute before already holds them
                slot = self.sent[-cap] + WINDOW
            self.next_at = slot + self.interval()
            self.sent.append(slot)
            _trim(self.sent, slot)
        delay = slot - now
        if delay > 0:
            self.sleep(delay)
        return max(delay, 0.0)

    def rate_limited(self, retry_after: float = 0.0) -> float | None:
        """Webex answered 429 and asked for ``retry_after`` seconds. A second one within a
        minute teaches the quota: the requests Webex accepted in the last minute (sent, less
        those refused). Returns the rate the run is paced at from now on (requests a minute),
        or None (not paced)."""
        with self.lock:
            now = self.clock()
            self.refused.append(now)
            refused = _trim(self.refused, now)
            accepted = _trim(self.sent, now) - refused
            if refused >= 2 and accepted >= MIN_EVIDENCE:
                since = now - (self.started if self.started is not None else now)
                span = min(WINDOW, max(since + max(retry_after, 0.0), 1.0))
                self.learnt, self.taught = accepted * WINDOW / span * HEADROOM, True
            if self.interval():  # paced: the slots go on after the pause, spaced as before
                self.next_at = max(self.next_at, now + max(retry_after, 0.0))
            rates = [rate for rate in (self.max_rate, self.learnt) if rate]
            return min(rates) if rates else None


def _trim(times: deque[float], now: float) -> int:
    """Drop the times older than a minute; how many are left."""
    while times and times[0] <= now - WINDOW:
        times.popleft()
    return len(times)


def start_paced(
    db: Database, pacer: Pacer, relearn: bool, notify: Callable[[str], None] | None = None
) -> None:
    """Pace the run from its first request at what an earlier run learnt from Webex's 429s,
    so that it provokes none, unless that is ``RELEARN_DAYS`` old or the user asked to learn
    again (``--relearn-rate``: the quota was raised, the token is another's); ``notify`` is
    told (a slower run says why). In the caller's transaction."""
    if relearn:
        store.save_learnt_rate(db, None, None)
        return
    rate, learnt_at = store.learnt_rate(db)
    age = datetime.now(timezone.utc) - _parsed(learnt_at)
    if rate is not None and timedelta(0) <= age <= timedelta(days=RELEARN_DAYS):
        pacer.remember(rate)
        if notify is not None:
            notify(
                f"pacing requests at {rate:.0f} a minute, as Webex's 429s taught on "
                f"{(learnt_at or '')[:10]} (sync --relearn-rate learns it again)"
            )


def keep_pace(db: Database, pacer: Pacer) -> None:
    """What this run's 429s taught, for the next run (in the transaction closing the run)."""
    if pacer.taught and pacer.learnt:
        store.save_learnt_rate(db, pacer.learnt, store.utc_now())


def _parsed(moment: str | None) -> datetime:
    """An archive time as a datetime; the distant past when absent or unreadable."""
    try:
        then = datetime.fromisoformat((moment or "").replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return then if then.tzinfo else then.replace(tzinfo=timezone.utc)

"""How many messages a space's list pages ask for (``max``): halved when Webex answers 504,
remembered per space, tried larger again now and then.

Webex documents no upper bound for ``max`` on ``GET /messages``, only a 504 Gateway Timeout
whose advice is to ask for fewer (webex-api.md §7.1, §9.4; the spec's 504 text). How large a
page a space can give in time is our guess: it depends on the space (its messages' size),
so it is learnt per space. A 504 at size N makes the page loop ask the same cursor again at
N / 2 (down to ``FLOOR``, Webex's own default page size, where the client's ordinary retries
take over), and the size that worked is stored in ``spaces.page_size`` so that the next run
starts there instead of paying the 504 again. A stored size is not forever: Webex's load
changes, so once it is ``RETRY_LARGER_DAYS`` old a run starts at twice it (capped at the size
asked for); if that works it is stored, if it 504s the run halves again and the date is
renewed. All threads of one space (the walk and its backfill slices) share one ``PageSize``,
and a space with nothing learnt starts at the size the run's earlier spaces had to take.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

FLOOR = 50  # Webex's default max for /messages: never ask for fewer on account of a 504
RETRY_LARGER_DAYS = 7.0


class PageSize:
    """The ``max`` of one space's pages during a run (thread-safe)."""

    def __init__(
        self,
        wanted: int,
        stored: int | None = None,
        learned_at: str | None = None,
        now: datetime | None = None,
        hint: int | None = None,
    ):
        """``wanted``: the size asked for (SyncOptions.page_size); ``stored``, ``learned_at``:
        what an earlier run learnt (spaces.page_size, spaces.page_size_at); ``now``: a
        datetime (UTC) deciding whether that is old enough to try larger; ``hint``: for a
        space that has learnt nothing yet, the size other spaces of this run had to take
        (``sync --all`` of a first sync would otherwise pay one 504 per space)."""
        self.wanted = wanted
        self.stored = stored if stored is not None and 0 < stored < wanted else None
        self.probing = False  # this run tries larger than the stored size
        size = self.stored or (min(wanted, hint) if hint else wanted)
        if self.stored is not None and _older_than(learned_at, now, RETRY_LARGER_DAYS):
            size, self.probing = min(wanted, self.stored * 2), True
        self.size = size
        self.shrunk = 0  # 504s that made the size smaller in this run
        self._lock = threading.Lock()

    def current(self) -> int:
        with self._lock:
            return self.size

    def too_big(self, tried: int) -> int | None:
        """A page asked at ``tried`` timed out (504): the size to ask again with, or None when
        ``tried`` is already at the floor (the error stands). Another thread may have halved
        the size meanwhile; it is not halved twice for the same size."""
        with self._lock:
            if tried <= FLOOR:
                return None
            if self.size >= tried:
                self.size = max(FLOOR, tried // 2)
                self.shrunk += 1
            return self.size

    def to_store(self) -> tuple[int | None, bool]:
        """(the size for spaces.page_size, whether to store it): stored when it changed or
        was tried larger (so that the date restarts); NULL once the size asked for works."""
        with self._lock:
            size = self.size if self.size < self.wanted else None
            return size, (size != self.stored or self.probing or self.shrunk > 0)


def _older_than(moment: str | None, now: datetime | None, days: float) -> bool:
    if moment is None or now is None:
        return True
    try:
        then = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return True
    return now - then > timedelta(days=days)

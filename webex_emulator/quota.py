"""A request quota per user and path class, enforced with 429 and ``Retry-After``.

Webex documents (REST API basics, "Rate Limiting"; the rate-limiting blog of 2025-04-14): most
endpoints allow about 300 requests a minute, ``/messages`` and ``/people`` more and dynamically;
limits are shared per user, and a request over the limit answers 429 with ``Retry-After`` in
seconds. The exact policy is "too complex to document", so this is a model: a sliding window of
``window`` seconds per (user, class), where a class is the first path segment after ``/v1``
(``messages``, ``people``, ``rooms``, ``memberships``, ``contents``…) when ``limits`` names it,
and ``other`` for the rest. A class without a limit (nor an ``other`` limit) is unlimited. Only
admitted requests count: a client that waits out ``Retry-After`` gets through, one that hammers
keeps getting 429 without making it worse. The dynamic part is not modelled; set the
``messages`` limit higher to model the documented headroom.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

OTHER = "other"


@dataclass
class Quota:
    """Requests admitted per ``window`` seconds, by path class (``{"other": 300}``)."""

    limits: dict[str, int] = field(default_factory=dict)
    window: float = 60.0

    def __post_init__(self) -> None:
        for name, limit in self.limits.items():
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValueError(f"quota {name!r} must be a whole number of requests, at least 1")
        window = self.window
        if (
            isinstance(window, bool)
            or not isinstance(window, (int, float))
            or not 0 < window <= 86_400
        ):
            raise ValueError("the quota window must be a number of seconds above 0")
        self._lock = threading.Lock()
        self._admitted: dict[tuple[str, str], deque[float]] = {}

    def path_class(self, path: str) -> str | None:
        """The class a ``/v1/...`` path counts against, or None when it is not limited."""
        segment = path.removeprefix("/v1/").split("/", 1)[0]
        if segment in self.limits:
            return segment
        return OTHER if OTHER in self.limits else None

    def admit(self, user: str, path: str, now: float) -> int | None:
        """None when the request may go ahead (and it is counted), else the ``Retry-After``
        seconds until the window frees a slot for it (at least 1). ``now`` is the emulator's
        clock's ``monotonic()``."""
        name = self.path_class(path)
        if name is None:
            return None
        with self._lock:
            admitted = self._admitted.setdefault((user, name), deque())
            while admitted and admitted[0] <= now - self.window:
                admitted.popleft()
            if len(admitted) < self.limits[name]:
                admitted.append(now)
                return None
            return max(1, math.ceil(admitted[0] + self.window - now))

    def to_json(self) -> dict:
        return {"limits": dict(self.limits), "window": self.window}

    @classmethod
    def from_json(cls, data: dict) -> Quota:
        unknown = set(data) - {"limits", "window"}
        if unknown:
            raise ValueError(f"unknown quota settings: {', '.join(sorted(unknown))}")
        return cls(limits=dict(data.get("limits", {})), window=data.get("window", 60.0))

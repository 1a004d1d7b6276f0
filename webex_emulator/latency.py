"""How long answers take, and which pages are too large to answer at all (504).

A real server's time grows with what it returns; a client that asks for big pages pays per
item, one that asks for many small pages pays the fixed cost per request. ``Latency`` sleeps
for real on the thread of the connection, so concurrent requests overlap as they would on a
real server. ``/messages`` has no documented page cap, but every 504 in the spec says "if your
query uses max parameter, please try to reduce it": ``page_limit`` (per space in
``page_limits``) models a space whose pages above that many items time out. Such a 504 is
answered after the time the page would have taken, as a gateway gives up only after waiting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .wire import Request

# The 504 description of every endpoint in Webex's OpenAPI spec (public-spec/webex-messaging.json).
GATEWAY_TIMEOUT = (
    "Gateway Timeout: An upstream server failed to respond on time. If your query uses max "
    "parameter, please try to reduce it."
)
MESSAGES_DEFAULT_MAX, MESSAGES_CAP, MENTIONS_CAP = 50, 1000, 100  # as api.list_messages pages


@dataclass
class Latency:
    """``fixed`` seconds per API request plus ``per_item`` seconds per item of a list answer;
    ``/v1/messages`` pages of more than ``page_limit`` items (``page_limits[roomId]`` for one
    space) answer 504."""

    fixed: float = 0.0
    per_item: float = 0.0
    page_limit: int | None = None
    page_limits: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("fixed", "per_item"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 600
            ):
                raise ValueError(f"latency {name} must be seconds from 0 to 600, not {value!r}")
        for limit in [self.page_limit, *self.page_limits.values()]:
            if limit is not None and (type(limit) is not int or limit < 1):
                raise ValueError(f"a page limit must be a whole number of items, not {limit!r}")

    def cost(self, items: int) -> float:
        return self.fixed + self.per_item * items

    def wait(self, items: int) -> None:
        """Hold an answer for what it costs: the fixed part, and the per-item part for a list
        of ``items`` items."""
        seconds = self.cost(items)
        if seconds > 0:
            time.sleep(seconds)

    def too_large(self, request: Request, strict: bool = False) -> int | None:
        """The page size of a ``/v1/messages`` request when it is above its space's limit
        (``strict``: a ``max`` above the endpoint's cap is the endpoint's 400, not a page)."""
        room_id, asked = request.arg("roomId"), request.arg("max")
        if request.path != "/v1/messages" or room_id is None:
            return None
        limit = self.page_limits.get(room_id, self.page_limit)
        if limit is None:
            return None
        cap = MENTIONS_CAP if request.arg("mentionedPeople") else MESSAGES_CAP
        if asked is None:
            size = MESSAGES_DEFAULT_MAX
        elif asked.isdigit() and not (strict and int(asked) > cap):
            size = min(int(asked), cap)
        else:
            return None  # the endpoint's own 400
        return size if size > limit else None

    def to_json(self) -> dict:
        out: dict = {"fixed": self.fixed, "perItem": self.per_item}
        if self.page_limit is not None:
            out["pageLimit"] = self.page_limit
        if self.page_limits:
            out["pageLimits"] = dict(self.page_limits)
        return out

    @classmethod
    def from_json(cls, data: dict) -> Latency:
        unknown = set(data) - {"fixed", "perItem", "pageLimit", "pageLimits"}
        if unknown:
            raise ValueError(f"unknown latency settings: {', '.join(sorted(unknown))}")
        return cls(
            fixed=data.get("fixed", 0.0),
            per_item=data.get("perItem", 0.0),
            page_limit=data.get("pageLimit"),
            page_limits=dict(data.get("pageLimits", {})),
        )

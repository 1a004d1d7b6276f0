"""Fault injection and the request log.

Every failure a Webex client must survive can be switched on here, either at a given request
number (deterministic, for "kill at every point" tests) or at a rate (for soak runs): latency,
429 with or without ``Retry-After`` and with an HTML body, 5xx, a connection dropped mid-body,
a response slower than the client's timeout, malformed JSON, an empty page that still links on,
a list item carrying an ``errors`` object (Webex's ``kms_failure``, webex-api.md §7.2), the
message named by a ``beforeMessage`` cursor deleted between two pages, a space removed
mid-run, 423 on file downloads, a token that expires after N requests, and a redirect or a
next-page link to wherever a test points it (another host, a relative link).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field

KINDS = (
    "status",
    "drop",
    "delay",
    "malformed",
    "empty_page",
    "item_errors",
    "delete_cursor",
    "remove_room",
    "redirect",
    "next_link",
)
# Kinds that only make sense for a list answer (``{"items": [...]}``): elsewhere they pass.
LIST_KINDS = ("empty_page", "item_errors")


@dataclass
class Rule:
    """One fault. It strikes requests whose number is in ``at`` or, failing that, at ``rate``.

    ``path`` limits it to requests whose path and query start with that prefix
    (``/v1/messages``, or ``/v1/messages?roomId=X`` for one room);
    ``times`` caps how often it strikes in all.

    Kinds: ``status`` answers ``status`` (with ``retry_after``, ``html_body``); ``drop`` cuts
    the connection halfway through the answer; ``delay`` holds it ``seconds``; ``malformed``
    truncates a JSON body; ``empty_page`` answers a list with no items and a ``Link`` that
    repeats the request; ``item_errors`` gives the first item of a list an ``errors`` object
    and an undecrypted field, as Webex does when its key server fails; ``delete_cursor``
    deletes the message a ``beforeMessage`` names before answering (so the answer is 404);
    ``remove_room`` removes the space the request names (``roomId`` or ``/rooms/{id}``) from
    the data set before answering, as if it was deleted: from then on it answers 404.
    ``redirect`` answers ``status`` (302 unless a 3xx is given) with ``Location: location``,
    before any authentication; ``next_link`` gives a 200 list answer ``Link: <location>;
    rel="next"`` instead of its own (absolute or relative, as a test needs).
    """

    kind: str = "status"
    status: int = 503
    at: list[int] = field(default_factory=list)
    rate: float = 0.0
    path: str = ""
    retry_after: int | None = None
    html_body: bool = False
    seconds: float = 0.0
    times: int | None = None
    location: str = ""
    struck: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; choose one of {', '.join(KINDS)}")

    def matches(self, number: int, path: str, rng: random.Random) -> bool:
        if self.times is not None and self.struck >= self.times:
            return False
        if self.path and not path.startswith(self.path):
            return False
        if self.at:
            return number in self.at
        return self.rate > 0 and rng.random() < self.rate

    @classmethod
    def parse(cls, spec: str) -> Rule:
        """``N=WHAT`` from the command line: WHAT is a status code, drop, slow, malformed, empty,
        errors (an item with a kms_failure), delete-cursor or remove-room.

        ``5=429`` answers request 5 with a 429 (Retry-After 1); ``7=drop`` drops request 7
        mid-body; ``9=slow`` holds request 9 for 30 s.
        """
        number, _, what = spec.partition("=")
        if not number.strip().isdigit() or not what:
            raise ValueError(f"fault {spec!r} is not of the form N=WHAT (e.g. 5=429, 7=drop)")
        at = [int(number)]
        named = {
            "drop": "drop",
            "malformed": "malformed",
            "empty": "empty_page",
            "errors": "item_errors",
            "delete-cursor": "delete_cursor",
            "remove-room": "remove_room",
        }
        if what in named:
            return cls(kind=named[what], at=at)
        if what == "slow":
            return cls(kind="delay", at=at, seconds=30.0)
        if what.isdigit():
            status = int(what)
            return cls(
                kind="status", status=status, at=at, retry_after=1 if status in (429, 503) else None
            )
        raise ValueError(
            f"fault {spec!r}: WHAT must be a status code, drop, slow, malformed, empty, errors, "
            "delete-cursor or remove-room"
        )


@dataclass
class Faults:
    """All faults of one emulator. Safe to change while it serves (tests do)."""

    latency_ms: float = 0.0
    rules: list[Rule] = field(default_factory=list)
    lock_files: int = 0
    lock_retry_after: int = 1
    expire_token_after: int | None = None
    seed: int = 0
    # Lists answer at most this many items a page whatever ``max`` asks, as Webex clamps
    # ``max`` to an endpoint's cap (webex-api.md §1.2; the /messages cap is undocumented).
    page_cap: int | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._locked: dict[str, int] = {}
        self._released = threading.Event()

    def hold(self, seconds: float) -> None:
        """A ``delay`` fault: hold the answer ``seconds``, or until ``release``."""
        self._released.wait(seconds)

    def release(self) -> None:
        """End every held answer now, and hold none from here on. A test that proves a
        client did not wait out a slow answer holds it far longer than any load could delay
        the client (``seconds=30``), then releases it when the client is done: the proof is
        that the client moved on while the answer was held, not a margin of wall time."""
        self._released.set()

    def pick(self, number: int, path: str) -> Rule | None:
        """The rule that strikes this request, if any (the first that matches)."""
        with self._lock:
            for rule in self.rules:
                if rule.matches(number, path, self._rng):
                    rule.struck += 1
                    return rule
        return None

    def token_expired(self, number: int) -> bool:
        return self.expire_token_after is not None and number > self.expire_token_after

    def file_locked(self, content_id: str) -> bool:
        """True while this file is still "being scanned": 423 for the first ``lock_files`` GETs."""
        with self._lock:
            seen = self._locked.get(content_id, 0)
            self._locked[content_id] = seen + 1
            return seen < self.lock_files

    def wait_latency(self) -> None:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}

    @classmethod
    def from_json(cls, data: dict) -> Faults:
        known = {
            "latency_ms",
            "lock_files",
            "lock_retry_after",
            "expire_token_after",
            "seed",
            "page_cap",
        }
        unknown = set(data) - known - {"rules"}
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        rules = [
            Rule(**{k: v for k, v in r.items() if k != "struck"}) for r in data.get("rules", [])
        ]
        return cls(rules=rules, **{k: data[k] for k in known if k in data})


@dataclass
class LogEntry:
    number: int
    method: str
    path: str
    status: int
    started: float
    seconds: float
    fault: str = ""
    bytes: int = 0  # the answer's body as built (before a fault cuts it short)


class RequestLog:
    """Every API request the emulator answered, in order; tests read it to prove behaviour."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()
        self._count = 0

    def next_number(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def arrived(self) -> int:
        """How many requests have arrived since the last ``clear``, answered or still held."""
        with self._lock:
            return self._count

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return sorted(self._entries, key=lambda e: e.number)

    def settled(self, timeout: float = 10.0) -> list[LogEntry]:
        """The entries once every request numbered so far has been answered (a delayed one
        is logged when its delay ends, after a client that timed out has moved on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self._entries) >= self._count:
                    break
            time.sleep(0.01)
        return self.entries()

    def clear(self) -> None:
        """Forget all entries and start numbering again at 1 (``at`` rules count from here)."""
        with self._lock:
            self._entries.clear()
            self._count = 0

    def to_json(self) -> list[dict]:
        return [asdict(e) for e in self.entries()]

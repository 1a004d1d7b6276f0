"""The emulator's data: people, rooms, memberships, messages and file contents.

Objects are kept in the exact JSON shape the Webex API returns (camelCase keys, optional keys
omitted, never null), so serving them is a lookup, not a translation. Two exceptions are stored
as references and turned into absolute URLs only when served, because they point at the server
itself: message ``files`` (content ids) and person ``avatar`` (avatar keys).

Messages of a room are indexed by ``(created, seq)`` in a sorted list, which makes the backwards
paging of ``/messages`` (``before``, ``beforeMessage``) a bisection rather than a scan.

Lenient but faithful: a data set may hold messages Webex would never send (tests feed clients
odd shapes on purpose). They are served exactly as stored; only the indexes tolerate them. A
message is ordered by its ``created`` read as a time, whatever ISO 8601 form it has (``Z`` or
an offset, any fraction of a second), so that it is listed where Webex would list it; one
whose ``created`` is missing or not a time is ordered as the oldest of its room. Only a
``parentId`` that is a string makes a message a reply. ``id`` and ``roomId`` are required.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clock import Clock
from .events import DEFAULT_RETENTION_DAYS, EventLog
from .ids import add_ms, format_time, id_uuid, make_id, normalise_time
from .integrations import Integration, OAuthSettings
from .media import Recipe
from .settings import Settings

DATASET_FORMAT = "webex-emulator-dataset"
DATASET_VERSION = 1


def order_time(created: Any) -> str:
    """The time a message is listed by: its ``created`` in the canonical (sortable) form, or ""
    (before every time: the oldest) when it has none that reads as a time."""
    try:
        return normalise_time(created) if isinstance(created, str) else ""
    except (ValueError, OverflowError):
        return ""


def _parent(message: dict) -> str | None:
    """The thread a message replies to: a string ``parentId`` (anything else names nothing)."""
    parent = message.get("parentId")
    return parent if isinstance(parent, str) else None


@dataclass
class Content:
    """One attachment behind ``/v1/contents/{id}``.

    ``scan`` mirrors Webex's anti-malware verdict: ``infected`` answers 410, ``unscannable``
    answers 428 unless the client passes ``allow=unscannable``.
    """

    id: str
    filename: str
    content_type: str
    data: bytes | None = None
    recipe: Recipe | None = None
    scan: str | None = None

    def body(self) -> bytes:
        if self.data is None:
            self.data = self.recipe.make(self.content_type) if self.recipe else b""
        return self.data

    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "id": self.id,
            "filename": self.filename,
            "contentType": self.content_type,
        }
        if self.recipe is not None:
            out["generate"] = self.recipe.to_json()
        else:
            out["base64"] = base64.b64encode(self.body()).decode()
        if self.scan:
            out["scan"] = self.scan
        return out

    @classmethod
    def from_json(cls, data: dict) -> Content:
        recipe = Recipe.from_json(data["generate"]) if "generate" in data else None
        raw = base64.b64decode(data["base64"]) if "base64" in data else None
        if recipe is None and raw is None:
            raise ValueError(f"content {data.get('id')!r} needs 'base64' or 'generate'")
        return cls(
            id=data["id"],
            filename=data["filename"],
            content_type=data.get("contentType", "application/octet-stream"),
            data=raw,
            recipe=recipe,
            scan=data.get("scan"),
        )


@dataclass
class DataSet:
    """Everything the emulator serves, with the indexes that make serving it fast.

    All mutation goes through methods that hold ``lock``, because the HTTP server answers on
    many threads while tests change the data.
    """

    tokens: dict[str, str] = field(default_factory=dict)
    people: dict[str, dict] = field(default_factory=dict)
    rooms: dict[str, dict] = field(default_factory=dict)
    memberships: dict[str, list[dict]] = field(default_factory=dict)
    messages: dict[str, dict] = field(default_factory=dict)
    contents: dict[str, Content] = field(default_factory=dict)
    avatars: dict[str, Recipe] = field(default_factory=dict)
    integrations: dict[str, Integration] = field(default_factory=dict)  # by client id
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    settings: Settings = field(default_factory=Settings)  # the file's; an Emulator copies them
    officers: list[str] = field(default_factory=list)  # compliance officers (compliance.py)
    events: EventLog = field(default_factory=EventLog)  # the change feed (events.py)
    deleted: dict[str, tuple[dict, str]] = field(default_factory=dict)  # id: (message, when)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _order: dict[str, list[tuple[str, int]]] = field(default_factory=dict, repr=False)
    _replies: dict[str, list[tuple[str, int]]] = field(default_factory=dict, repr=False)
    _key: dict[str, tuple[str, int]] = field(default_factory=dict, repr=False)
    _by_key: dict[tuple[str, int], str] = field(default_factory=dict, repr=False)
    _seq: int = 0
    clock: Clock = field(default_factory=Clock, repr=False, compare=False)  # its time (clock.py)

    def __post_init__(self) -> None:
        self.events.clock = self.clock  # the feed's times and retention are the data's

    # ----- reading -------------------------------------------------------------------------

    def owner_token(self) -> str:
        """The first token whose person is not a bot: what a user would paste."""
        for token, person_id in self.tokens.items():
            if self.people.get(person_id, {}).get("type", "person") != "bot":
                return token
        raise LookupError("the data set has no user token")

    def bot_token(self) -> str | None:
        for token, person_id in self.tokens.items():
            if self.people.get(person_id, {}).get("type") == "bot":
                return token
        return None

    def room_messages(
        self, room_id: str, before_key: tuple[str, int] | None = None, parent_id: str | None = None
    ) -> Iterator[dict]:
        """Messages of a room newest first, strictly older than ``before_key`` if given."""
        keys = self._replies.get(parent_id, []) if parent_id else self._order.get(room_id, [])
        end = len(keys) if before_key is None else bisect.bisect_left(keys, before_key)
        for index in range(end - 1, -1, -1):
            message = self.messages[self._by_key[keys[index]]]
            if message["roomId"] == room_id:
                yield message

    def message_key(self, message_id: str) -> tuple[str, int] | None:
        return self._key.get(message_id)

    def room_message_count(self, room_id: str) -> int:
        return len(self._order.get(room_id, []))

    # ----- changing ------------------------------------------------------------------------

    def add_message(self, message: dict) -> dict:
        """Insert a message (API shape, ``files`` as content ids) into every index."""
        with self.lock:
            if message["id"] in self.messages:
                raise ValueError(f"duplicate message id {message['id']}")
            self._seq += 1
            key = (order_time(message.get("created")), self._seq)
            self.messages[message["id"]] = message
            self._key[message["id"]] = key
            self._by_key[key] = message["id"]
            bisect.insort(self._order.setdefault(message["roomId"], []), key)
            if _parent(message) is not None:
                bisect.insort(self._replies.setdefault(_parent(message), []), key)
            room = self.rooms[message["roomId"]]
            if key[0] > room.get("lastActivity", ""):
                room["lastActivity"] = key[0]
            return message

    def edit_message(self, message_id: str, touch: bool = True, **changes: Any) -> dict:
        """Change text/markdown/html (or any field) and stamp ``updated`` as Webex does;
        ``touch``: the room's lastActivity moves to that time (Quirks.last_activity)."""
        with self.lock:
            message = self.messages[message_id]
            for name, value in changes.items():
                if value is None:
                    message.pop(name, None)
                else:
                    message[name] = value
            message["updated"] = changes.get("updated") or self.now_after(self._key[message_id][0])
            if touch:
                self._touch(message["roomId"], message["updated"])
            return message

    def delete_message(self, message_id: str, at: str | None = None, touch: bool = True) -> dict:
        """Remove a message: listings skip it and ``GET /messages/{id}`` answers 404 (but a
        compliance officer's token still reads it during the retention window, from
        ``deleted``). ``at``: when it was deleted (default now); ``touch``: the room's
        lastActivity moves to then (Quirks.last_activity)."""
        with self.lock:
            message = self.messages.pop(message_id)
            key = self._key.pop(message_id)
            when = normalise_time(at) if at else self.now_after(key[0])
            self.deleted[message_id] = (message, when)
            if touch:
                self._touch(message["roomId"], when)
            del self._by_key[key]
            for index in (
                self._order[message["roomId"]],
                self._replies.get(_parent(message) or "", []),
            ):
                position = bisect.bisect_left(index, key)
                if position < len(index) and index[position] == key:
                    del index[position]
            return message

    def _touch(self, room_id: str, moment: str) -> None:
        """An edit or a deletion is activity too: the room's lastActivity moves (the default;
        the Webex docs do not say, so Quirks.last_activity can keep it where it was)."""
        room = self.rooms[room_id]
        room["lastActivity"] = max(room.get("lastActivity", ""), moment)

    def add_integration(self, integration: Integration) -> Integration:
        with self.lock:
            if integration.client_id in self.integrations:
                raise ValueError(f"duplicate integration client id {integration.client_id}")
            self.integrations[integration.client_id] = integration
            return integration

    def add_membership(self, membership: dict) -> dict:
        with self.lock:
            self.memberships.setdefault(membership["roomId"], []).append(membership)
            return membership

    def remove_membership(self, membership_id: str) -> dict:
        with self.lock:
            for members in self.memberships.values():
                for index, membership in enumerate(members):
                    if membership["id"] == membership_id:
                        return members.pop(index)
            raise KeyError(membership_id)

    def membership_for(self, room_id: str, person_id: str) -> dict:
        """A membership object for a person joining a room, shaped like Webex's."""
        person = self.people[person_id]
        room = self.rooms[room_id]
        membership = {
            "id": make_id("MEMBERSHIP", f"{id_uuid(person_id)}:{id_uuid(room_id)}"),
            "roomId": room_id,
            "personId": person_id,
            "personEmail": person["emails"][0],
            "personDisplayName": person["displayName"],
            "personOrgId": person["orgId"],
            "isModerator": False,
            "isMonitor": False,
            "isRoomHidden": False,
            "roomType": room["type"],
            "created": format_time(self.clock.now()),
        }
        return membership

    def now_after(self, moment: str) -> str:
        """Now, but never earlier than ``moment``: the emulator's clock must not run backwards."""
        now = format_time(self.clock.now())
        return now if now > moment else moment

    def next_created(self, room_id: str) -> str:
        """A creation time for a new message: now, and strictly after the room's newest one."""
        with self.lock:
            keys = self._order.get(room_id)
            newest = keys[-1][0] if keys else ""
            now = format_time(self.clock.now())
            return now if now > newest else add_ms(newest, 1)

    # ----- the data-set file ----------------------------------------------------------------

    def to_json(self) -> dict:
        with self.lock:
            ordered = sorted(self.messages.values(), key=lambda m: self._key[m["id"]])
            return {
                "format": DATASET_FORMAT,
                "version": DATASET_VERSION,
                "tokens": dict(self.tokens),
                "people": list(self.people.values()),
                "rooms": list(self.rooms.values()),
                "memberships": [m for ms in self.memberships.values() for m in ms],
                "messages": ordered,
                "contents": [c.to_json() for c in self.contents.values()],
                "avatars": {key: recipe.to_json() for key, recipe in self.avatars.items()},
                "integrations": [i.to_json() for i in self.integrations.values()],
                "oauth": self.oauth.to_json(),
                **({"settings": self.settings.to_json()} if self.settings != Settings() else {}),
                "complianceOfficers": list(self.officers),
                "eventRetentionDays": self.events.retention_days,
                "events": self.events.to_json(),
            }

    def dump(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1))

    @classmethod
    def from_json(cls, data: dict) -> DataSet:
        if data.get("format") != DATASET_FORMAT:
            raise ValueError(f"not an emulator data set (expected format {DATASET_FORMAT!r})")
        if data.get("version") != DATASET_VERSION:
            raise ValueError(f"unsupported data-set version {data.get('version')!r}")
        dataset = cls(tokens=dict(data.get("tokens", {})))
        dataset.people = {p["id"]: p for p in data.get("people", [])}
        dataset.rooms = {r["id"]: r for r in data.get("rooms", [])}
        for membership in data.get("memberships", []):
            dataset.memberships.setdefault(membership["roomId"], []).append(membership)
        dataset.contents = {c["id"]: Content.from_json(c) for c in data.get("contents", [])}
        dataset.avatars = {k: Recipe.from_json(v) for k, v in data.get("avatars", {}).items()}
        for raw in data.get("integrations", []):
            dataset.add_integration(Integration.from_json(raw))
        dataset.oauth = OAuthSettings.from_json(data.get("oauth", {}))
        dataset.settings = Settings.from_json(data.get("settings", {}))
        dataset.officers = list(data.get("complianceOfficers", []))
        retention = float(data.get("eventRetentionDays", DEFAULT_RETENTION_DAYS))
        dataset.events = EventLog.from_json(data.get("events", []), retention, dataset.clock)
        for message in sorted(data.get("messages", []), key=lambda m: order_time(m.get("created"))):
            if message["roomId"] not in dataset.rooms:
                raise ValueError(f"message {message['id']} names unknown room {message['roomId']}")
            dataset.add_message(message)
        return dataset

    @classmethod
    def load(cls, path: Path) -> DataSet:
        return cls.from_json(json.loads(Path(path).read_text()))

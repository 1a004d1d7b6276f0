"""Adds the hostile catalogue to a data set as spaces of its own, deterministically.

``webex_emulator.hostile`` holds the strings; this plants the heavy part of them (which ``generate``
leaves out) in spaces the token owner belongs to, with ids and times derived from names rather
than from the generator's random stream, so a data set with them added is otherwise unchanged.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from .hostile import (
    FILE_NAMES,
    HEAVY_MESSAGES,
    IMAGE_NAMES,
    LYING_FILES,
    MESSAGES,
    MORE_FILE_NAMES,
    PEOPLE,
    PWN,
    SPACE_TITLES,
)
from .ids import format_time, make_id
from .media import Recipe, png
from .model import Content, DataSet

_NAMESPACE = uuid.UUID("6f1d0c1e-8c4a-4a5e-9a57-6b1f3b0e7a11")


class _Planter:
    """Adds hostile spaces to a data set with ids and times derived from names, not randomness.

    Deterministic without a random source, so that adding them never shifts the generator's
    stream: the rest of the data set stays byte-for-byte what the same seed always gave.
    """

    def __init__(self, ds: DataSet, start: datetime):
        self.ds = ds
        self.clock = start
        self.owner = ds.people[ds.tokens[ds.owner_token()]]
        self.counter = 0

    def uid(self, label: str) -> str:
        self.counter += 1
        return str(uuid.uuid5(_NAMESPACE, f"{label}/{self.counter}"))

    def tick(self) -> str:
        """The next creation time: distinct and ascending, 13 hours apart, so that the big
        space spans a few months (and --split month gives it several parts)."""
        self.clock += timedelta(hours=13)
        return format_time(self.clock)

    def person(self, name: str, email: str, avatar: bool) -> dict:
        person = {
            "id": make_id("PEOPLE", self.uid("person")),
            "emails": [email],
            "displayName": name,
            "firstName": name,
            "lastName": "",
            "orgId": make_id("ORGANIZATION", "hostile"),
            "created": format_time(self.clock - timedelta(days=30)),
            "type": "person",
        }
        if avatar:
            key = f"V1~hostile{self.counter:04d}"
            self.ds.avatars[key] = Recipe("png", seed=self.counter, width=32, height=32)
            person["avatar"] = key
        self.ds.people[person["id"]] = person
        return person

    def room(self, title: str, members: list[dict]) -> dict:
        room = {
            "id": make_id("ROOM", self.uid("room")),
            "title": title,
            "type": "group",
            "isLocked": False,
            "lastActivity": format_time(self.clock),
            "creatorId": self.owner["id"],
            "created": format_time(self.clock),
            "ownerId": self.owner["orgId"],
            "isPublic": False,
            "isReadOnly": False,
        }
        self.ds.rooms[room["id"]] = room
        for person in [self.owner, *members]:
            membership = self.ds.membership_for(room["id"], person["id"])
            membership["created"] = room["created"]
            self.ds.add_membership(membership)
        return room

    def message(self, room: dict, author: dict, text: str | None, html: str | None = None,
                files: list[str] | None = None, parent: dict | None = None) -> dict:  # fmt: skip
        message = {"id": make_id("MESSAGE", self.uid("message")), "roomId": room["id"]}
        if parent is not None:
            message["parentId"] = parent["id"]
        message["roomType"] = "group"
        if text is not None:
            message["text"] = text
        if html is not None:
            message["html"] = html
        if files:
            message["files"] = files
        message |= {"personId": author["id"], "personEmail": author["emails"][0]}
        message["created"] = self.tick()
        return self.ds.add_message(message)

    def content(self, name: str, content_type: str, data: bytes) -> str:
        content = Content(make_id("CONTENT", self.uid("content")), name, content_type, data)
        self.ds.contents[content.id] = content
        return content.id


def add_spaces(ds: DataSet, start: datetime) -> list[dict]:
    """Add the hostile catalogue to ``ds`` as spaces the token owner belongs to; return them.

    The first space gets every message (``MESSAGES`` and ``HEAVY_MESSAGES``), written by the
    hostile ``PEOPLE`` (every second one with an avatar), replies and mentions among them, and
    every file name (``FILE_NAMES``, ``MORE_FILE_NAMES``, ``IMAGE_NAMES``, ``LYING_FILES``),
    each file with bytes of its own so that an overwrite cannot go unnoticed. One more space
    per ``SPACE_TITLES`` entry holds two messages. Times start at ``start``, 13 hours apart
    (about 70 days for everything).
    """
    planter = _Planter(ds, start)
    people = [
        planter.person(name, email, avatar=index % 2 == 0)
        for index, (name, email) in enumerate(PEOPLE)
    ]
    main = planter.room(f'Hostile <b>catalogue</b> \u202e{PWN} & "all" ../ \x00\x1b[31m', people)
    spaces = [main]
    everything = [*MESSAGES, *HEAVY_MESSAGES]
    posted: list[dict] = []
    for index, (text, html) in enumerate(everything):
        author = people[index % len(people)]
        parent = posted[-3] if index % 5 == 4 and len(posted) >= 3 else None
        posted.append(planter.message(main, author, text, html, parent=parent))
    for index, person in enumerate(people):
        mention = (
            f'<p><spark-mention data-object-type="person" data-object-id="{person["id"]}">'
            f"{_escape(person['displayName'])}</spark-mention> see above</p>"
        )
        planter.message(main, people[index - 1], f"{person['displayName']} see above", mention)
    _post_files(planter, main, people)
    for title in SPACE_TITLES:
        room = planter.room(title, people[:2])
        first = planter.message(room, people[0], f"in {title}", None)
        planter.message(room, people[1], f"reply in {title}", None, parent=first)
        spaces.append(room)
    return spaces


def _post_files(planter: _Planter, main: dict, people: list[dict]) -> None:
    """Every hostile file name in ``main``, one message each, bytes of its own (an image's are
    a real PNG), then two names for the same bytes in one message."""
    files = [(name, "application/octet-stream", None) for name in FILE_NAMES + MORE_FILE_NAMES]
    files += [(name, "image/png", None) for name in IMAGE_NAMES]
    files += [(name, kind, data) for name, kind, data in LYING_FILES]
    for index, (name, kind, data) in enumerate(files):
        if data is None:
            data = (
                png(24 + index % 7, 16 + index % 5, index)
                if kind == "image/png"
                else f"file {index}: {name!r}\n".encode("utf-8", "surrogatepass")
            )
        content_id = planter.content(name, kind, data)
        author = people[index % len(people)]
        planter.message(main, author, f"file {index}" if index % 3 else None, files=[content_id])
    duplicate = planter.content("copy of same bytes.txt", "text/plain", b"identical bytes\n")
    again = planter.content("copy of same bytes again.txt", "text/plain", b"identical bytes\n")
    planter.message(main, people[0], "two files, one content", files=[duplicate, again])


def _escape(text: str) -> str:
    """Minimal HTML escaping for the mention markup above (as Webex would send it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""Changes to a running emulator's data: what happens in a space between two syncs.

Used by the Python API (``Emulator.post_message`` …) and the ``/_emulator`` HTTP endpoints
alike, so that both produce exactly what Webex would show afterwards, the organisation's
change feed included: each change records its event (events.py) with the object as it was.
"""

from __future__ import annotations

import random
from html import escape

from .ids import cluster_of, make_id, new_uuid
from .media import Recipe
from .model import Content, DataSet

_rng = random.Random()
_WORDS = "new message arrived after the last sync please archive this one too".split()


def post_message(
    ds: DataSet,
    room_id: str,
    person_id: str,
    text: str | None = None,
    markdown: str | None = None,
    html: str | None = None,
    parent_id: str | None = None,
    files: list[dict] | None = None,
    mentioned_people: list[str] | None = None,
    created: str | None = None,
) -> dict:
    """Add a message as if ``person_id`` had just posted it (now, newest in the room).

    ``files`` are ``{"filename", "contentType", "data": bytes}`` or ``{..., "size": n}``, or
    ``{"url": ...}``: a URL served as it is (a file elsewhere, or a hostile one).
    """
    with ds.lock:
        room = ds.rooms[room_id]
        person = ds.people.get(person_id)
        if person is None:
            raise KeyError(f"unknown person {person_id}")
        if parent_id is not None and parent_id not in ds.messages:
            raise KeyError(f"unknown parent message {parent_id}")
        cluster = cluster_of(room_id)
        message_uuid = new_uuid(_rng)
        message: dict = {"id": make_id("MESSAGE", message_uuid, cluster)}
        if parent_id:
            message["parentId"] = parent_id
        message.update({"roomId": room_id, "roomType": room["type"]})
        if text is not None:
            message["text"] = text
        if markdown is not None:
            message["markdown"] = markdown
        if html is not None or markdown is not None:
            message["html"] = html if html is not None else f"<p>{escape(markdown or '')}</p>"
        if files:
            message["files"] = [
                _add_content(ds, f, message_uuid, index, cluster) for index, f in enumerate(files)
            ]
        message["personId"] = person_id
        message["personEmail"] = person["emails"][0]
        if mentioned_people:
            message["mentionedPeople"] = list(mentioned_people)
        message["created"] = created or ds.next_created(room_id)
        ds.add_message(message)
        _record(ds, "messages", "created", person_id, message, message["created"])
        return message


def edit_message(ds: DataSet, message_id: str, touch: bool = True, **fields: object) -> dict:
    """An edit by the message's author, stamped ``updated`` (``updated=`` for an old edit);
    ``touch``: the room's lastActivity moves (Quirks.last_activity)."""
    with ds.lock:
        message = ds.edit_message(message_id, touch=touch, **fields)
        _record(ds, "messages", "updated", message["personId"], message, message["updated"])
        return message


def delete_message(ds: DataSet, message_id: str, at: str | None = None, touch: bool = True) -> None:
    """A deletion by the message's author, ``at`` a time (default now); the event has ids only.
    ``touch``: the room's lastActivity moves (Quirks.last_activity)."""
    with ds.lock:
        message = ds.delete_message(message_id, at, touch=touch)
        when = ds.deleted[message_id][1]
        _record(ds, "messages", "deleted", message["personId"], message, when)


def join(ds: DataSet, room_id: str, person_id: str, at: str | None = None) -> dict:
    """``person_id`` joins ``room_id`` (``at``: when, default now)."""
    with ds.lock:
        membership = ds.membership_for(room_id, person_id)
        if at is not None:
            membership["created"] = at
        ds.add_membership(membership)
        _record(ds, "memberships", "created", person_id, membership, membership["created"])
        return membership


def leave(ds: DataSet, membership_id: str, at: str | None = None) -> dict:
    """The member leaves (``at``: when, default now); the event has ids only."""
    with ds.lock:
        membership = ds.remove_membership(membership_id)
        _record(ds, "memberships", "deleted", membership["personId"], membership, at)
        return membership


def _record(ds: DataSet, resource: str, kind: str, actor: str, data: dict, at: str | None) -> None:
    """The event of a change; its organisation is the space's owner (else the actor's)."""
    room = ds.rooms.get(data.get("roomId", ""), {})
    org = room.get("ownerId") or ds.people.get(actor, {}).get("orgId", "")
    ds.events.record(resource, kind, actor, org, data, at)


def add_messages(ds: DataSet, room_id: str, count: int, seed: int | None = None) -> list[dict]:
    """``count`` new plain messages by the room's members, each newer than the last."""
    rng = random.Random(seed)
    members = [m["personId"] for m in ds.memberships.get(room_id, []) if m["personId"] in ds.people]
    if not members:
        raise ValueError(f"room {room_id} has no members who could post")
    added = []
    for index in range(count):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 10)))
        added.append(post_message(ds, room_id, rng.choice(members), text=f"{words} #{index + 1}"))
    return added


def _add_content(ds: DataSet, spec: dict, message_uuid: str, index: int, cluster: str) -> str:
    if "url" in spec:
        if "://" not in spec["url"]:
            raise ValueError(f"a file url must be absolute, not {spec['url']!r}")
        return spec["url"]
    content_type = spec.get("contentType", "application/octet-stream")
    data = spec.get("data")
    recipe = (
        None if data is not None else Recipe("filler", seed=index, size=int(spec.get("size", 1024)))
    )
    content = Content(
        id=make_id("CONTENT", f"{message_uuid}/{index}", cluster),
        filename=spec["filename"],
        content_type=content_type,
        data=data,
        recipe=recipe,
        scan=spec.get("scan"),
    )
    ds.contents[content.id] = content
    return content.id

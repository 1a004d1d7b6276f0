"""The old tool's JSON (``--format seed-json``): the flat list of raw API messages it wrote.

Scripts were written against the old archiver's ``<name>.json`` (docs/migrating.md): one JSON
array of the message objects exactly as the Webex API returned them, newest first, then one
stand-in per thread start it did not have, ASCII-only (``\\uXXXX`` escapes), without
indentation. This writer gives that list from the archive, so those scripts keep working: the
objects are the archive's ``raw`` column, for the messages of the window and the thread
starts their replies need. The stand-ins have the shape the old tool gave them: ``id`` (the
missing parent's), ``roomId``, ``roomType``, ``html`` saying the message is not archived,
``personId`` containing ``xxXXxx``, ``personEmail`` ``placeholder@user_removed_their_msg.com``
and ``created`` 20 minutes before the first reply.

Two differences, both on purpose: a ``--since``/``--until`` window applies to the list too (the
old tool filtered its HTML only), and with ``--blur`` no name, email or person id is left in
any string of any object (the old tool blurred its HTML only): emails become
``person3@hidden``, names ``Person 3``, person ids ``hidden-person-3``.
"""

from __future__ import annotations

import json
from contextlib import closing
from datetime import timedelta
from itertools import chain

from .clock import parse_utc
from .json import write_joined
from .model import Pseudonyms
from .output import open_output
from .page import Page
from .sanitize import redact
from .times import real

PLACEHOLDER_HTML = (
    '<span style="color:grey">This message is not in the archive: deleted by its author, '
    "or outside the selected messages.</span>"
)
PLACEHOLDER_PERSON = "placeholder-xxXXxx"
PLACEHOLDER_EMAIL = "placeholder@user_removed_their_msg.com"
PLACEHOLDER_BEFORE = timedelta(minutes=20)


def write_seed_json(page: Page) -> None:
    """Stream the list to ``page.path``, one object after another."""
    if page.window is None:
        raise ValueError("seed-json needs the page's window")
    hide = _Hider(page.pseudonyms) if page.pseudonyms else None
    space_id = page.space["id"]
    rows, missing = page.window.raw_newest_first(), page.window.missing_parents()
    with open_output(page) as out, closing(rows), closing(missing):
        out.write("[")
        objects = (json.loads(raw) for (raw,) in rows)
        stand_ins = (placeholder(*row, space_id) for row in missing)
        values = chain(objects, stand_ins)
        write_joined(out, (json.dumps(hide.hide(v) if hide else v) for v in values), ", ")
        out.write("]")


def placeholder(parent_id: str, first_reply: str | None, room_type: str | None, space: str):
    """The old tool's stand-in for a thread start it did not have."""
    created = None
    if real(first_reply):  # render/times.py
        moment = parse_utc(first_reply) - PLACEHOLDER_BEFORE
        created = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return {
        "id": parent_id,
        "roomId": space,
        "roomType": room_type,
        "html": PLACEHOLDER_HTML,
        "personId": PLACEHOLDER_PERSON,
        "personEmail": PLACEHOLDER_EMAIL,
        "created": created,
    }


class _Hider:
    """--blur for raw objects: every string with names, emails and person ids replaced."""

    def __init__(self, blur: Pseudonyms):
        self.blur = blur
        self.ids = {pid: f"hidden-person-{n}" for pid, n in blur.people.items() if pid}
        self.replacements = {**blur.replacements, **{k: v for k, v in self.ids.items()
                                                      if len(k) > 2}}  # fmt: skip

    def hide(self, value: object) -> object:
        hidden = self._walk(value)
        if not isinstance(value, dict):  # an API object is one, but raw is Webex's word
            return hidden
        person = value.get("personId")
        person = person if isinstance(person, str) else None
        if "personEmail" in value and value["personEmail"] != PLACEHOLDER_EMAIL:
            hidden["personEmail"] = self.blur.email(person)
        if "personId" in value and person != PLACEHOLDER_PERSON:
            hidden["personId"] = self.ids.get(person or "", "hidden-person-0")
        return hidden

    def _walk(self, value):
        if isinstance(value, str):
            return redact(value, self.replacements)
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, dict):
            return {key: self._walk(v) for key, v in value.items()}
        return value

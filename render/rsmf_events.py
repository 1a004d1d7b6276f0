"""The parts of an RSMF 2.0 manifest, from a page's items: events, participants, conversation.

RSMF (Relativity Short Message Format) is what eDiscovery review platforms load chat from;
render/rsmf.py packs these parts into files. The manifest's shape follows Relativity's
published 2.0 schema (``rsmf_schema_2_0_0.json``): ``participants`` (``id``, ``display``,
``email``, ``avatar``, ``account_id``), ``conversations`` (``id``, ``platform``, ``type``
``direct`` or ``channel``, ``participants``, ``custodian``) and ``events`` (``type``
``message``, ``join`` or ``leave``; ``parent`` for a thread reply, ``edits``, ``deleted``,
``attachments``, ``direction``, ``custom``). Every id an event names is defined in the same
manifest, which is why a file that starts in the middle of a thread repeats its first message.

What Webex says and what we infer: a message's ``created``, ``updated`` and thread parent are
Webex's; edits are the versions a sync saw (``message_revisions``: an edit between two syncs
that was edited again is not known); a deletion is when a sync saw the message gone (its
content is kept); a membership's ``created`` is when the person joined (Webex documents it as
the membership's creation), while a leave is dated when a sync first missed the membership,
so the person left before that time.
"""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .bodies import body
from .model import Item, Pseudonyms
from .query import people_names
from .times import real

PLATFORM = "webex"


@dataclass
class Participants:
    """The people one RSMF file names, each once, with a stable id: the Webex person id, or
    under --blur the pseudonym (``Person 3``), which is the same in every file of a space."""

    blur: bool
    avatars: dict[str, Path] = field(default_factory=dict)  # person id -> avatar file
    entries: dict[str, dict] = field(default_factory=dict)  # participant id -> entry

    def add(self, person_id: str | None, name: str, email: str | None) -> str:
        """The participant id of a person, added to the file's list the first time."""
        key = name if self.blur else person_id or email or name or "unknown"
        if key not in self.entries:
            entry: dict = {"id": key, "display": name or email or "unknown"}
            if email:
                entry["email"] = email
            if person_id and not self.blur:
                entry["account_id"] = person_id
            self.entries[key] = entry
        return key

    def avatar_of(self, participant: str) -> Path | None:
        """The downloaded avatar of a participant (never under --blur)."""
        account = self.entries[participant].get("account_id")
        return self.avatars.get(account) if account else None


@dataclass
class Revisions:
    """Earlier versions of edited messages, read from the archive as each edited message
    streams by (a small minority of messages: one indexed query each)."""

    conn: sqlite3.Connection
    replacements: dict[str, str] | None

    def edits(self, item: Item, participant: str) -> list[dict]:
        """``edits`` of an event: each version the archive kept, then the current one."""
        rows = self.conn.execute(
            "SELECT text, html, updated FROM message_revisions WHERE message_id = ? "
            "ORDER BY revision",
            [item.id],
        ).fetchall()
        versions = [(body(html, text, self.replacements, False, True)[1], updated)
                    for text, html, updated in rows]  # fmt: skip
        versions.append((item.plain, item.updated))
        if len(versions) == 1:  # edited before any sync saw it: the earlier text is unknown
            return [{"participant": participant, "timestamp": item.updated, "new": item.plain}]
        edits = []
        for (previous, _), (new, when) in itertools.pairwise(versions):
            edit = {"participant": participant, "previous": previous, "new": new}
            if when:
                edit["timestamp"] = when
            edits.append(edit)
        return edits


def pseudonyms(conn: sqlite3.Connection, blur: bool) -> Pseudonyms | None:
    """The pseudonyms of everyone the archive knows (--blur), the same the items carry: for
    texts the items do not hold (earlier versions) and for the archive owner's stand-in."""
    return Pseudonyms.build(people_names(conn)) if blur else None


def message_event(item: Item, conversation: str, participant: str, me: str | None) -> dict:
    """A message as an RSMF ``message`` event, without ``edits`` and ``attachments`` (the
    writer adds them: they need the archive and the zip)."""
    event: dict = {"id": item.id, "type": "message", "conversation": conversation,
                   "participant": participant, "body": item.plain or ""}  # fmt: skip
    if item.created:
        event["timestamp"] = item.created
    if item.is_reply:
        event["parent"] = item.thread
    if item.deleted:
        event["deleted"] = True
    if me:
        event["direction"] = "outgoing" if participant == me else "incoming"
    custom = []
    if item.deleted:
        custom.append({"name": "Seen deleted", "value": item.deleted})
    if item.card:
        custom.append({"name": "Adaptive card", "value": "not rendered; body is its fallback"})
    if not item.in_window:
        custom.append({"name": "Context", "value": "outside the chosen window: the start of "
                       "a thread with replies inside it"})  # fmt: skip
    if custom:
        event["custom"] = custom
    return event


def memberships(members: list[dict], bounds: tuple[str, str]) -> list[tuple[str, str, dict]]:
    """(time, ``join`` or ``leave``, member) of each change of membership inside ``bounds``
    (UTC texts, lower inclusive, upper exclusive), oldest first."""
    found = [
        (when, kind, member)
        for member in members
        for kind, when in (("join", member.get("joined")), ("leave", member.get("left_at")))
        if real(when) and bounds[0] <= when < bounds[1]  # real: see render/times.py
    ]
    return sorted(found, key=lambda change: (change[0], change[1]))


def membership_event(kind: str, when: str, participant: str, conversation: str) -> dict:
    """A ``join`` or ``leave`` event."""
    event = {"type": kind, "conversation": conversation, "participant": participant,
             "timestamp": when}  # fmt: skip
    if kind == "leave":
        event["custom"] = [{"name": "Left", "value": "before this time, when a sync first "
                            "found the membership gone"}]  # fmt: skip
    return event


def context_copy(event: dict) -> dict:
    """A thread's first message repeated at the start of the next file of a long thread,
    so that the replies there name a parent inside their own manifest."""
    note = {"name": "Context", "value": "repeated from the previous file of this conversation"}
    copy = {key: value for key, value in event.items() if key not in ("attachments", "edits")}
    copy["custom"] = [*event.get("custom", []), note]
    return copy


def conversation_members(members: list[dict], direct: bool, first: str | None,
                         participants: Participants) -> list[str]:  # fmt: skip
    """A conversation's ``participants``: for a direct space everyone in it; for a channel,
    the members at the file's earliest event (the 2.0 schema's definition)."""
    ids = []
    for member in members:
        joined, left = member.get("joined"), member.get("left_at")
        present = (
            direct
            or first is None
            or ((not joined or joined <= first) and (not left or left > first))
        )
        if present:
            ids.append(participants.add(member.get("person_id"), member["name"],
                                        member.get("email")))  # fmt: skip
    return list(dict.fromkeys(ids))

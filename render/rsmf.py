"""The RSMF writer (``--format rsmf``): a space as RSMF 2.0 files for eDiscovery review.

An ``.rsmf`` file is an RFC 5322 message: ``X-RSMF-*`` headers that sum up what it holds
(version 2.0.0, generator, begin and end date, event count, custodian, participants,
attachment count, event collection id), a short text part, and exactly one attachment,
``rsmf.zip`` (base64), which holds ``rsmf_manifest.json`` and every file the manifest names:
attachments and avatars, under neutral names (``attachment-00001.pdf``, ``avatar-001.png``)
so that no file name inside the zip carries a person's name or a hostile character; the
original name is the attachment's ``display``.

Splitting follows Relativity's guidance: one file per conversation (a space) per period (a
day, in the rendering's time zone, of each thread's first message: a thread stays in one
file), at most ``MAX_EVENTS`` events per file: ``<page>-2024-03-31.rsmf``, then
``<page>-2024-03-31-2.rsmf`` and so on. The manifest is streamed into its zip entry batch by
batch (its ``events`` come first, ``participants`` and ``conversations`` after them: JSON
objects are unordered), so memory stays flat at any size. See render/rsmf_events.py for what
each event carries.

This module decides what each file holds; render/rsmf_zip.py makes the bytes (the events
encoded, deflated, the message around the zip, the file written whole). For a window of
``FORK_FROM`` messages or more, where forking is safe (render/worker.py's ``can_fork``),
that runs in ``SINKS`` forked ``Sink``s, each day's file going to the next in turn, while
this process reads the rows and makes the next events. Each file's commands go to one sink
in order, so the files are the bytes this process would write. This process is the
critical path of a large space (the rows, the items, the files' decisions: at 100,000
messages 1.5 to 1.55 CPU seconds on a loaded machine, against 0.9 to 1.2 for each sink), so
what can be done elsewhere is: the events are sent as their dicts, which pickle for a
seventh of what encoding them costs, and encoded by the sinks. One sink was not enough
where a space has many days and few messages a day (the 10,000 of the benchmark's direct
space make 900 files): its per-file work, from the zip to the synced file, was the
bottleneck.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from webex_layout import check_inside

from . import query
from .model import Item
from .page import Page
from .rsmf_events import (
    PLATFORM,
    Participants,
    Revisions,
    context_copy,
    conversation_members,
    membership_event,
    memberships,
    message_event,
    pseudonyms,
)
from .rsmf_message import Summary
from .rsmf_zip import Zips
from .worker import Sink, can_fork

MAX_EVENTS = 10_000  # per file: Relativity's guidance
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
BATCH = 200  # events per command to the zips: one encoding, one compressed write
FORK_FROM = 2000  # messages in the window from which the sinks are worth their fork
SINKS = 2  # forked processes that make the files of a large space, a file to each in turn
Send = Callable[..., None]  # ``Zips`` here, or a sink's ``submit``: (command, *args)
Attached = Sequence[tuple[dict, Path]]  # the files of an event: (what the item says, file)


def write_rsmf(page: Page, limit: int = MAX_EVENTS) -> list[Path]:
    """Write the page's events as .rsmf files beside ``page.path``; return them in order.
    From FORK_FROM messages on, forked sinks make the files' bytes (render/rsmf_zip.py)."""
    if page.conn is None:
        raise ValueError("an RSMF rendering reads revisions and memberships: it needs conn")
    check_inside(page.path, page.root)  # every file goes beside page.path: checked once
    page.path.parent.mkdir(parents=True, exist_ok=True)
    folder = check_inside(page.path, page.root).parent  # mkdir changed nothing
    zips = Zips(page.root, folder, page.space["id"])
    forked = page.stats.get("in_window", 0) >= FORK_FROM and can_fork()
    with contextlib.ExitStack() as stack:
        sinks = [stack.enter_context(Sink(zips)) for _ in range(SINKS if forked else 0)]
        sends: list[Send] = [sink.submit for sink in sinks] or [zips]
        try:
            written = _Slices(page, page.conn, max(limit, 2), sends).run(page.items)
        except BaseException:
            close = getattr(page.items, "close", None)
            if close:  # its open cursor would keep the window's table from being dropped
                close()  # and that error would hide this one
            # The zip being filled is removed here. The sinks are killed on the way out (the
            # next rendering removes their temporary files, as a killed rendering's), or one
            # failed and removed its own.
            if not sinks:
                with contextlib.suppress(Exception):  # the error being raised says more
                    zips("abandon")
            raise
        _finish(sinks)
        return written


def _finish(sinks: list[Sink]) -> None:
    """Wait for every sink (each was told to finish: none is left with a file half made),
    then raise the first one's error, if any."""
    errors = []
    for sink in sinks:
        try:
            sink.finish()
        except Exception as error:
            errors.append(error)
    if errors:
        raise errors[0]


def archive_folder(conn: sqlite3.Connection) -> Path:
    """The folder of the archive ``conn`` reads (paths in it are relative to that)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    return Path(row[2]).parent


class _Slices:
    """The page's items cut into files: per local day of each thread, ``limit`` events each."""

    def __init__(self, page: Page, conn: sqlite3.Connection, limit: int, sends: list[Send]):
        self.page, self.limit, self.sends, self.written = page, limit, sends, []
        meta, blur = query.meta(conn), page.options.blur
        self.archive = archive_folder(conn)
        blurred = pseudonyms(conn, blur)
        self.revisions = Revisions(conn, blurred.replacements if blurred else None)
        self.avatars = {} if blur else _avatars(conn, self.archive, page.space["id"])
        me = meta.get("me_id")
        # the owner's participant id (see Participants.add): the custodian of every file
        self.me = (blurred.name(me) if blurred else me) if me else None
        self.parts: dict[str, int] = {}
        self.opened = 0  # files opened: each goes to the next of ``sends``
        self.current: _File | None = None
        self.thread: str | None = None
        self.start: dict | None = None  # the event of the current thread's first message
        self.missing: str | None = None  # a thread start the archive never had
        self.people: dict[str, tuple] = {}  # participant id -> (person id, name, email)
        self.whos: dict[tuple, str] = {}  # (person id, name, email) -> participant id
        self.space_id = page.space["id"]
        self._day = page.clock.date  # the local day of a time (RSMF's files are per day)
        self.joins = self._memberships(page)

    def _memberships(self, page: Page) -> dict[str, list[tuple[str, str, dict]]]:
        """Joins and leaves inside the window's time bounds, by local day."""
        filters, stats = page.options.filters, page.stats
        lower = filters.since or ""
        if filters.last is not None and stats.get("first_message"):
            lower = max(lower, stats["first_message"])
        by_day: dict[str, list[tuple[str, str, dict]]] = {}
        for change in memberships(page.members, (lower, filters.until or "\uffff")):
            by_day.setdefault(self._day(change[0]), []).append(change)
        return by_day

    def add(self, item: Item) -> None:
        if item.kind == "placeholder":
            self.missing, self.thread, self.start = item.id, None, None  # replies start anew
            return
        is_reply = item.is_reply
        new_thread = not (is_reply and item.thread == self.thread)
        if new_thread:
            self.thread, self.start = item.thread, None
            day = self._day(item.created) if item.created is not None else self._undated()
            if self.current is None or day != self.current.day:
                self._open(day)
        who = self._who(item.author_id, item.author, item.email or None)
        event = message_event(item, self.space_id, who, self.me)
        if is_reply and item.thread == self.missing:
            del event["parent"]  # it would name an event no manifest has
            lost = f"a message the archive does not have ({item.thread})"
            event.setdefault("custom", []).append({"name": "Reply to", "value": lost})
        if item.updated:
            event["edits"] = self.revisions.edits(item, who)
        self._put(event, self._attach(event, item.files) if item.files else ())
        if new_thread and not is_reply:
            self.start = event

    def _attach(self, event: dict, listed: list[dict]) -> Attached:
        """The files of a message that the archive holds; the others said in ``custom``."""
        files = []
        for info in listed:
            path = self.archive / info["local_path"] if info.get("local_path") else None
            if path is not None and path.is_file():
                files.append((info, path))
                continue
            why = ("missing from the archive folder" if path else info.get("label")
                   or "withheld by --blur: its stored name names someone")  # fmt: skip
            event.setdefault("custom", []).append(
                {"name": "Attachment not included", "value": f"{info['name']} ({why})"}
            )
        return files

    def _put(self, event: dict, files: Attached = ()) -> None:
        """Add ``event`` to the current file, or to the next when it is full. A ``parent``
        must name an event of the same file: a long thread's first message is repeated at
        the top of its next file; any other parent elsewhere is said, not named."""
        current = self.current
        assert current is not None
        if current.count >= self.limit:
            self._open(current.day)
            current = self.current
            assert current is not None
        parent = event.get("parent")
        if parent is not None and parent not in current.ids:
            if self.start is not None and parent == self.start["id"]:
                self._add(context_copy(self.start), ())
            else:
                del event["parent"]
                elsewhere = {"name": "Reply to", "value": f"a message in another file ({parent})"}
                event.setdefault("custom", []).append(elsewhere)
        if event["participant"] not in current.participants.entries:
            self._add(event, files)  # a file opened because the last was full
        else:
            current.add(event, files)

    def _who(self, person_id: str | None, name: str, email: str | None) -> str:
        """The participant id of a person (in the current file's list from now on),
        remembered for the files that follow."""
        assert self.current is not None
        person = (person_id, name, email)
        who = self.whos.get(person)
        if who is None or who not in self.current.participants.entries:
            who = self.whos[person] = self.current.participants.add(person_id, name, email)
        self.people[who] = person
        return who

    def _add(self, event: dict, files: Attached) -> None:
        """``event`` into the current file, its participant in the file's list (a file
        opened because the last was full has not seen them yet)."""
        current = self.current
        assert current is not None
        who = event["participant"]
        if who not in current.participants.entries:
            current.participants.add(*self.people[who])
        current.add(event, files)

    def _undated(self) -> str:
        """The day file of a thread without a real time (render/times.py): the current one,
        or at the start the day mails give such a message (1 January 1970, render/mail.py)."""
        return self.current.day if self.current is not None else "1970-01-01"

    def _open(self, day: str) -> None:
        """Close the current file and start the next one of ``day``, with its memberships."""
        self._close()
        number = self.parts[day] = self.parts.get(day, 0) + 1
        stem = f"{self.page.path.stem}-{day}" + (f"-{number}" if number > 1 else "")
        self.current = _File(self.page, day, self.page.path.with_name(f"{stem}.rsmf"),
                             Participants(self.page.options.blur, self.avatars),
                             self.sends[self.opened % len(self.sends)])  # fmt: skip
        self.opened += 1
        for when, kind, member in self.joins.pop(day, []):
            who = self._who(member.get("person_id"), member["name"], member.get("email"))
            self._put(membership_event(kind, when, who, self.space_id))

    def _close(self) -> None:
        """Finish the current file: its bytes are made while the next one fills."""
        if self.current is not None:
            self.current.close(self.me)
            self.written.append(self.current.path)
            self.current = None

    def run(self, items: Iterable[Item]) -> list[Path]:
        """Every item into its file, then the days that only have memberships; the paths."""
        for item in items:
            self.add(item)
        self._close()
        for day in sorted(self.joins):
            self._open(day)
        self._close()
        for send in self.sends:
            send("finish")  # a failed write fails the rendering
        return self.written


def _avatars(conn: sqlite3.Connection, archive: Path, space_id: str) -> dict[str, Path]:
    rows = conn.execute(
        "SELECT person_id, local_path FROM avatars WHERE space_id = ?", [space_id]
    ).fetchall()
    return {person: archive / path for person, path in rows if path}


class _File:
    """One .rsmf being filled: what its manifest and message say, counted here; its events
    go to ``send`` (``Zips``, here or in one of the sinks) BATCH at a time."""

    def __init__(self, page: Page, day: str, path: Path, participants: Participants,
                 send: Send):  # fmt: skip
        self.page, self.day, self.path, self.participants = page, day, path, participants
        self.count, self.attachments, self.first, self.last = 0, 0, "", ""
        self.files: dict[Path, str] = {}  # source file -> its name in the zip
        self.ids: set[str] = set()  # the event ids in this file, for parents
        self.pending: list[dict] = []  # events not yet sent
        self.sent = False  # whether a batch was
        self.send = send
        send("start", day)

    def add(self, event: dict, files: Attached) -> None:
        if files:
            self._attach(event, files)
        if "id" in event:
            self.ids.add(event["id"])
        when = event.get("timestamp")
        if when:
            if not self.first or when < self.first:
                self.first = when
            if when > self.last:
                self.last = when
        pending = self.pending
        pending.append(event)
        self.count += 1
        if len(pending) == BATCH:
            self._flush()

    def _attach(self, event: dict, files: Attached) -> None:
        """The event's files in the zip, each once, under a neutral name."""
        attached = []
        for info, source in files:
            name = self.files.get(source)
            if name is None:
                extension = os.path.splitext(info["name"])[1]
                suffix = extension if _EXTENSION.fullmatch(extension) else ""
                name = self.files[source] = f"attachment-{len(self.files) + 1:05d}{suffix}"
            attached.append({"id": name, "display": info["name"],
                             "size": source.stat().st_size})  # fmt: skip
        event["attachments"] = attached
        self.attachments += len(attached)

    def _flush(self) -> None:
        """Send the events held back: one command (and one compressed write) per batch. They
        are encoded where they are written (``Zips.events``): pickling a batch to a sink
        costs this process a seventh of encoding it, and this process reads the rows."""
        if self.pending:
            self.send("events", self.pending, self.sent)
            self.sent, self.pending = True, []

    def close(self, me: str | None) -> None:
        """Send the last events, the manifest's tail and what the message says."""
        custodian, conversation = self._conversation(me)
        avatars = self._avatars()
        participants = list(self.participants.entries.values())
        self._flush()
        summary = Summary(self.path, self.page.title, self.day, self.page.space["id"],
                          self.count, self.attachments, self.first, self.last, custodian,
                          participants)  # fmt: skip
        self.send("end", participants, conversation, [*self.files.items(), *avatars], summary)

    def _conversation(self, me: str | None) -> tuple[dict | None, dict]:
        page = self.page
        direct = page.space.get("type") == "direct"
        members = conversation_members(page.members, direct, self.first or None,
                                       self.participants)  # fmt: skip
        conversation = {"id": page.space["id"], "display": page.title, "platform": PLATFORM,
                        "type": "direct" if direct else "channel",
                        "participants": members}  # fmt: skip
        custodian = self.participants.entries[me] if me in members else None
        if custodian:
            conversation["custodian"] = custodian["id"]
        return custodian, conversation

    def _avatars(self) -> list[tuple[Path, str]]:
        """Each participant's downloaded avatar, added to their entry: (file, zip name)."""
        found = []
        for participant, entry in self.participants.entries.items():
            source = self.participants.avatar_of(participant)
            if source is None or not source.is_file():
                continue
            suffix = source.suffix if _EXTENSION.fullmatch(source.suffix) else ""
            entry["avatar"] = name = f"avatar-{len(found) + 1:03d}{suffix}"
            found.append((source, name))
        return found

"""The Slack-export ZIP (``--format slack``): the shape chat viewers and importers read.

slack-export-viewer, Mattermost's and Rocket.Chat's importers and many scripts read a Slack
workspace export, so one space becomes one: ``<stem>.slack.zip`` holding

- ``users.json``: the space's members and every author of a message in the window;
- ``channels.json`` (a group space) or ``dms.json`` (a direct space): the conversation, and
  ``mpims.json`` (always empty: Webex has no group DMs apart from spaces);
- one folder per conversation (a group space: its title as a channel name; a direct space:
  its id) with one ``YYYY-MM-DD.json`` per local day (``--tz``): that day's messages, oldest
  first;
- ``__uploads/<file id>/<name>``: the downloaded attachments (where Mattermost's importer
  looks for them), named in the message's ``files``.

Threads are as Slack writes them: the first message carries ``thread_ts`` (its own ``ts``),
``reply_count``, ``reply_users``, ``replies`` (``user`` and ``ts`` of each) and
``latest_reply``; each reply carries ``thread_ts`` and ``parent_user_id`` and sits in the
file of the day it was written. A reply whose first message the archive never had is a plain
message. Ids are made from digests of Webex's (users ``U…``, channels ``C…``, DMs ``D…``,
files ``F…``): Slack's readers want their own form, and the same archive always gives the same
ids. ``ts`` is the message's time, its milliseconds, then three digits from its id, so two
messages of one millisecond do not share a key. ``text`` is the plain text with ``&``, ``<``
and ``>`` escaped as Slack escapes them; what Slack has no field for is in ``webex``
(message and parent ids, edited and deleted times, whether the message is outside the
window). With ``--blur`` names and emails are pseudonyms and user ids are numbered, not
digests of a person's id.

The days are gathered in a temporary SQLite file (the page streams threads in display order,
a day file needs its day's messages in time order), so memory stays flat at any size.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator

from webex_layout import atomic_write

from .clock import parse_utc
from .model import Item, attached_path
from .page import Page
from .text import clean_line, clean_text

UNKNOWN_USER = "UUNKNOWN"
_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # the archive's usual times
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def write_slack(page: Page) -> None:
    """Write the ZIP of ``page``; see the module's doc for its entries."""
    export = _Export(page)
    with (
        atomic_write(page.path, page.root, text=False) as raw,
        zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        export.write(archive)


def slack_id(prefix: str, webex_id: str) -> str:
    """``U``/``C``/``D``/``F`` and 10 uppercase hex digits of a digest of a Webex id."""
    digest = hashlib.sha256(webex_id.encode("utf-8", "surrogatepass")).hexdigest()
    return prefix + digest[:10].upper()


def channel_name(title: str, space_id: str) -> str:
    """A Slack channel name from a title: lowercase ASCII letters, digits, ``-`` and ``_``, at
    most 80; ``space-<digest>`` when nothing of the title is left."""
    name = re.sub(r"[^a-z0-9_-]+", "-", title.lower()).strip("-_")[:80].strip("-_")
    return name or f"space-{slack_id('', space_id).lower()[:8]}"


def slack_ts(created: str, message_id: str, days: dict[str, int] | None = None) -> str:
    """``1709626500.000123``: seconds, milliseconds, three digits from the id. ``days``
    remembers the seconds of each day's midnight: a time in the archive's usual form from
    1970 on is then read from its digits (the same answer, without a datetime)."""
    spread = int(hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:6], 16)
    if days is not None and _UTC_MS.fullmatch(created):
        midnight = days.get(created[:10])
        if midnight is None:
            midnight = days[created[:10]] = int(parse_utc(f"{created[:10]}T00:00:00Z").timestamp())
        if midnight >= 0:  # before 1970, int() of a timestamp rounds towards zero: below
            hours, minutes, rest = int(created[11:13]), int(created[14:16]), int(created[17:19])
            seconds = midnight + hours * 3600 + minutes * 60 + rest
            return f"{seconds}.{created[20:23]}{spread % 1000:03d}"
    moment = parse_utc(created)
    return f"{int(moment.timestamp())}.{moment.microsecond // 1000:03d}{spread % 1000:03d}"


def slack_text(text: str) -> str:
    return clean_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Export:
    """One space's export while it is written: its users, its days, its uploads."""

    def __init__(self, page: Page):
        self.page = page
        space = page.space
        self.direct = space.get("type") == "direct"
        prefix = "D" if self.direct else "C"
        self.conversation = slack_id(prefix, space["id"])
        self.folder = self.conversation if self.direct else channel_name(page.title, space["id"])
        self.users: dict[str, dict] = {}
        self.uids: dict[str, str] = {}  # person id -> user id, made once
        self.days: dict[str, int] = {}  # a UTC day -> its midnight's seconds (slack_ts)
        self.archive: zipfile.ZipFile | None = None
        moment = page.generated_at
        self.stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour,
                      moment.minute, moment.second)  # fmt: skip

    def user_id(self, person_id: str | None) -> str:
        if not person_id:
            return UNKNOWN_USER
        uid = self.uids.get(person_id)
        if uid is None:
            blur = self.page.pseudonyms
            if blur is not None:
                uid = f"UHIDDEN{blur.people.get(person_id, 0):04d}"
            else:
                uid = slack_id("U", person_id)
            self.uids[person_id] = uid
        return uid

    def add_user(self, person_id: str | None, name: str, email: str, left: bool) -> str:
        uid = self.user_id(person_id)
        if uid not in self.users:
            name = clean_line(name) or clean_line(email) or "unknown"
            email = clean_line(email)
            handle = (email.split("@", 1)[0] if email else name).lower().replace(" ", ".")
            self.users[uid] = {
                "id": uid, "name": handle, "real_name": name, "deleted": left,
                "is_bot": False,
                "profile": {"real_name": name, "display_name": name, "email": email or None},
            }  # fmt: skip
        return uid

    def write(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        members = [
            self.add_user(m.get("person_id"), m.get("name") or "", m.get("email") or "",
                          bool(m.get("left_at")))
            for m in self.page.members
        ]  # fmt: skip
        pairs = zip(members, self.page.members, strict=True)
        current = [uid for uid, member in pairs if not member.get("left_at")]
        days = sqlite3.connect("")  # a private temporary file, gone when closed
        try:
            days.execute("CREATE TABLE entries (day TEXT, ts TEXT, json TEXT)")
            with days:
                days.executemany("INSERT INTO entries VALUES (?, ?, ?)", self.entries())
            self.write_days(archive, days)
        finally:
            days.close()
        self.write_lists(archive, current)

    def info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def write_days(self, archive: zipfile.ZipFile, days: sqlite3.Connection) -> None:
        day, batch = None, []
        rows = days.execute("SELECT day, json FROM entries ORDER BY day, ts")
        for row_day, text in rows:
            if row_day != day and batch:
                self.write_day(archive, day, batch)
                batch = []
            day = row_day
            batch.append(text)
        if batch:
            self.write_day(archive, day, batch)

    def write_day(self, archive: zipfile.ZipFile, day: str | None, texts: list[str]) -> None:
        data = "[\n" + ",\n".join(texts) + "\n]\n"
        archive.writestr(self.info(f"{self.folder}/{day}.json"), data.encode("utf-8"))

    def write_lists(self, archive: zipfile.ZipFile, current: list[str]) -> None:
        space = self.page.space
        created = int(parse_utc(space["created"]).timestamp()) if space.get("created") else 0
        conversation: dict = {"id": self.conversation, "created": created, "members": current}
        if not self.direct:
            creator = space.get("creator_id")
            conversation = {
                "id": self.conversation, "name": self.folder, "created": created,
                "creator": self.user_id(creator) if creator else "",
                "is_archived": False, "is_general": False, "members": current,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
            }  # fmt: skip
        lists = {
            "users.json": sorted(self.users.values(), key=lambda user: user["id"]),
            "channels.json": [] if self.direct else [conversation],
            "dms.json": [conversation] if self.direct else [],
            "mpims.json": [],
        }
        for name, value in lists.items():
            text = json.dumps(value, ensure_ascii=False, indent=1) + "\n"
            archive.writestr(self.info(name), text.encode("utf-8"))

    def entries(self) -> Iterator[tuple[str, str, str]]:
        """(local day, ts, JSON) of every message; a thread's first message once its
        replies are known (they follow it in the page's order)."""
        start: dict | None = None
        for item in self.page.items:
            if not item.is_reply:
                if start is not None:
                    yield self.entry(start)
                start = None if item.kind == "placeholder" else self.message(item)
                continue
            reply = self.message(item)
            if start is not None and item.thread == start["webex"]["message_id"]:
                reply["thread_ts"] = start["ts"]
                reply["parent_user_id"] = start["user"]
                start.setdefault("replies", []).append({"user": reply["user"], "ts": reply["ts"]})
            yield self.entry(reply)
        if start is not None:
            yield self.entry(start)

    def entry(self, message: dict) -> tuple[str, str, str]:
        replies = message.get("replies")
        if replies:
            users = list(dict.fromkeys(reply["user"] for reply in replies))
            message |= {"thread_ts": message["ts"], "reply_count": len(replies),
                        "reply_users_count": len(users), "reply_users": users,
                        "latest_reply": max(reply["ts"] for reply in replies)}  # fmt: skip
        day = message.pop("_day")
        return day, message["ts"], _ENCODER.encode(message)

    def message(self, item: Item) -> dict:
        uid = self.add_user(item.author_id, item.author, item.email, False)
        created = item.created or "1970-01-01T00:00:00.000Z"
        ts = slack_ts(created, item.id, self.days)
        message: dict = {"type": "message", "user": uid, "text": slack_text(item.plain),
                         "ts": ts, "user_profile": {"real_name": self.users[uid]["real_name"],
                                                    "name": self.users[uid]["name"]}}  # fmt: skip
        if item.updated:
            message["edited"] = {"user": uid, "ts": slack_ts(item.updated, item.id, self.days)}
        if item.files:
            message["files"] = [self.file(item, n, info) for n, info in enumerate(item.files)]
        message["webex"] = {
            "message_id": item.id, "parent_id": item.thread if item.is_reply else None,
            "edited": item.updated, "deleted": item.deleted,
            "outside_window": not item.in_window,
        }  # fmt: skip
        message["_day"] = self.page.clock.iso(created)[:10]
        return message

    def file(self, item: Item, number: int, info: dict) -> dict:
        file_id = slack_id("F", f"{item.id}/{number}")
        name = re.sub(r"[/\\]", "_", clean_line(info["name"])).lstrip(".") or "file"
        entry = {"id": file_id, "name": name, "title": name,
                 "mimetype": info.get("content_type"), "size": info.get("size"),
                 "mode": "hosted"}  # fmt: skip
        path = attached_path(self.page.path.parent, info)
        if path is not None and self.archive is not None:
            upload = f"__uploads/{file_id}/{name}"
            try:  # written now: the days are only gathered meanwhile, the ZIP is free
                with open(path, "rb") as source, self.archive.open(self.info(upload), "w") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                entry["url_private"] = upload
            except FileNotFoundError:
                path = None
        if path is None:
            entry["webex_status"] = info.get("label") or "not downloaded"
        return entry

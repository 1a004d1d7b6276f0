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
a day file needs its day's messages in time order), so memory stays flat at any size
(render/slack_days.py); each message's JSON is render/slack_entries.py's.

Both cores work on a large space (from ``FORK_FROM`` messages in the window, where forking
is safe: render/worker.py). This process reads the items, registers their authors, writes
the uploads into the ZIP and sends the messages' fields, a batch at a time, to a worker that
makes their entries and gathers them; then the worker makes each day's file while this one
deflates the one before into the ZIP. The worker runs the very code that runs here for a
small space, so the bytes are the same; a small space stays in one process, where a fork and
the pickling would cost more than they save.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Iterator

from webex_layout import atomic_write

from .clock import parse_utc
from .model import Item, attached_path
from .page import Page
from .slack_days import Days
from .slack_entries import Entries, Fields, fields, slack_id, upload_path
from .text import clean_line
from .times import real
from .worker import Worker, can_fork

UNKNOWN_USER = "UUNKNOWN"
FORK_FROM = 2000  # messages in the window from which a worker is worth its fork
BATCH = 1000  # messages per task: pickling stays a small part of a task
AHEAD = 3  # batches in flight


def write_slack(page: Page) -> None:
    """Write the ZIP of ``page``; see the module's doc for its entries."""
    export = _Export(page)
    with (
        atomic_write(page.path, page.root, text=False) as raw,
        zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        export.write(archive)


def channel_name(title: str, space_id: str) -> str:
    """A Slack channel name from a title: lowercase ASCII letters, digits, ``-`` and ``_``, at
    most 80; ``space-<digest>`` when nothing of the title is left."""
    name = re.sub(r"[^a-z0-9_-]+", "-", title.lower()).strip("-_")[:80].strip("-_")
    return name or f"space-{slack_id('', space_id).lower()[:8]}"


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
        self.authors: set[str | None] = set()  # person ids of the authors seen
        self.archive: zipfile.ZipFile | None = None
        self.forked = False  # whether a worker makes the entries and the day files
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
        self.forked = self.page.stats.get("in_window", 0) >= FORK_FROM and can_fork()
        members = [
            self.add_user(m.get("person_id"), m.get("name") or "", m.get("email") or "",
                          bool(m.get("left_at")))
            for m in self.page.members
        ]  # fmt: skip
        pairs = zip(members, self.page.members, strict=True)
        current = [uid for uid, member in pairs if not member.get("left_at")]
        days = Days(Entries(self.page.clock, self.author))
        try:
            self.write_days(archive, days)
        finally:
            days.close()
        self.write_lists(archive, current)

    def info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def write_days(self, archive: zipfile.ZipFile, days: Days) -> None:
        """Gather the messages' entries, then write each day's file (render/slack_days.py);
        ``days`` runs in a worker for a large space, while this process reads the items,
        writes the uploads and deflates the files into the ZIP."""
        if not self.forked:
            for _, task in self.batches():
                days.task(*task)
            for day, data in days.files():
                archive.writestr(self.info(f"{self.folder}/{day}.json"), data)
            return
        with Worker(days.task, "gathers the Slack export's days") as worker:
            count = max(files for _, files in worker.map(self.batches(), AHEAD))  # the last
            asks = ((None, ("file",)) for _ in range(count))
            for _, (day, data) in worker.map(asks, AHEAD):
                archive.writestr(self.info(f"{self.folder}/{day}.json"), data)

    def write_lists(self, archive: zipfile.ZipFile, current: list[str]) -> None:
        space = self.page.space
        known = real(space.get("created"))  # render/times.py
        created = int(parse_utc(space["created"]).timestamp()) if known else 0
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

    def batches(self) -> Iterator[tuple[None, tuple[str, list[Fields], bool]]]:
        """The ``add`` tasks of ``Days``: ``BATCH`` messages' fields, the last batch marked."""
        batch: list[Fields] = []
        for item in self.page.items:
            batch.append(self.fields(item))
            if len(batch) == BATCH:
                yield None, ("add", batch, False)
                batch = []
        yield None, ("add", batch, True)

    def fields(self, item: Item) -> Fields:
        """What the item's entry needs; its author registered as a user and its uploads
        written (here: the ZIP is this process's)."""
        if item.kind != "placeholder" and item.author_id not in self.authors:
            self.authors.add(item.author_id)
            self.add_user(item.author_id, item.author, item.email, False)
        files = None
        if item.files:
            files = [(info["name"], info["content_type"], info["size"], info["label"],
                      self.upload(item, number, info))
                     for number, info in enumerate(item.files)]  # fmt: skip
        return fields(item, files)

    def author(self, person_id: str | None, name: str, email: str) -> tuple[str, str, str]:
        """(user id, real_name, name) of a message's author (``Entries``' view of users)."""
        uid = self.add_user(person_id, name, email, False)
        user = self.users[uid]
        return uid, user["real_name"], user["name"]

    def upload(self, item: Item, number: int, info: dict) -> bool:
        """Write the attachment's bytes into the ZIP, where the archive has them (written
        now: the days are only gathered meanwhile, the ZIP is free); whether it did."""
        path = attached_path(self.page.path.parent, info)
        if path is None or self.archive is None:
            return False
        try:
            with (
                open(path, "rb") as source,
                self.archive.open(
                    self.info(upload_path(item.id, number, info["name"])), "w"
                ) as out,
            ):
                shutil.copyfileobj(source, out, 1 << 20)
        except FileNotFoundError:
            return False
        return True

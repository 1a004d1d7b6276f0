"""The day-file entries of the Slack export (render/slack.py): each message as Slack's JSON.

A message's entry is a pure function of a few of its fields, its author's Slack user and,
for a thread's first message, its replies. So the writer hands ``Entries`` a tuple of
``fields`` per item, in the page's order, and gets back (local day, ts, JSON) rows, a
thread's first message once its replies are known (they follow it). The same ``Entries``
runs in the writer's process or, for a large space, in a forked worker on the other core
(render/slack_days.py's tasks; the tuples go over a pipe in batches): either way the same
code makes the same bytes.

The JSON is made as text, exactly as ``json`` writes these dicts (compact, keys in Slack's
order): a dict per message and the encoder's walk over it cost more than the rest of the
export together.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from .clock import Clock, parse_utc
from .model import Item
from .text import clean_line, clean_text

ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_STR = json.encoder.encode_basestring  # a text as ENCODER writes it (its own C function)
_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")  # the archive's usual times

# What an entry needs of an Item: (id, placeholder, is_reply, thread, created, updated,
# deleted, in_window, author_id, author, email, plain, files or None), each file (name,
# content type, size, label, whether its bytes were written into the ZIP).
Fields = tuple
Row = tuple[str, str, str]  # (local day, ts, JSON)
# The author's (Slack user id, real_name, name), registered as a user of the export.
Author = Callable[[str | None, str, str], tuple[str, str, str]]


def fields(item: Item, files: list[tuple] | None) -> Fields:
    return (item.id, item.kind == "placeholder", item.is_reply, item.thread, item.created,
            item.updated, item.deleted, item.in_window, item.author_id, item.author,
            item.email, item.plain, files)  # fmt: skip


def slack_id(prefix: str, webex_id: str) -> str:
    """``U``/``C``/``D``/``F`` and 10 uppercase hex digits of a digest of a Webex id."""
    digest = hashlib.sha256(webex_id.encode("utf-8", "surrogatepass")).hexdigest()
    return prefix + digest[:10].upper()


def file_name(name: str) -> str:
    """An attachment's name in the export: one line, no separator, no leading dot."""
    return re.sub(r"[/\\]", "_", clean_line(name)).lstrip(".") or "file"


def upload_path(message_id: str, number: int, name: str) -> str:
    """Where the ZIP holds an attachment's bytes: ``__uploads/<file id>/<name>``."""
    return f"__uploads/{slack_id('F', f'{message_id}/{number}')}/{file_name(name)}"


def file_entry(message_id: str, number: int, name: str, mimetype: str | None,
               size: int | None, label: str, uploaded: bool) -> dict:  # fmt: skip
    """An attachment in a message's ``files``: ``url_private`` when its bytes are in the
    ZIP (``uploaded``), else ``webex_status`` saying why not."""
    file_id = slack_id("F", f"{message_id}/{number}")
    name = file_name(name)
    entry = {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "size": size,
             "mode": "hosted"}  # fmt: skip
    if uploaded:
        entry["url_private"] = f"__uploads/{file_id}/{name}"
    else:
        entry["webex_status"] = label or "not downloaded"
    return entry


def slack_ts(created: str, message_id: str, days: dict[str, int] | None = None) -> str:
    """``1709626500.000123``: seconds, milliseconds, three digits from the id. ``days``
    remembers the seconds of each day's midnight: a time in the archive's usual form from
    1970 on is then read from its digits (the same answer, without a datetime)."""
    return _ts(created, _spread(message_id), days)


def _spread(message_id: str) -> str:
    """The three digits of a ``ts`` that come from the message's id (made once a message:
    its ``edited`` time has them too)."""
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{int(digest[:6], 16) % 1000:03d}"


def _ts(created: str, spread: str, days: dict[str, int] | None) -> str:
    if days is not None and _UTC_MS.fullmatch(created):
        midnight = days.get(created[:10])
        if midnight is None:
            midnight = days[created[:10]] = int(parse_utc(f"{created[:10]}T00:00:00Z").timestamp())
        if midnight >= 0:  # before 1970, int() of a timestamp rounds towards zero: below
            hours, minutes, rest = int(created[11:13]), int(created[14:16]), int(created[17:19])
            seconds = midnight + hours * 3600 + minutes * 60 + rest
            return f"{seconds}.{created[20:23]}{spread}"
    moment = parse_utc(created)
    return f"{int(moment.timestamp())}.{moment.microsecond // 1000:03d}{spread}"


def slack_text(text: str) -> str:
    return clean_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _value(value: object) -> str:
    """A value as ENCODER writes it (a text, most often None)."""
    if value is None:
        return "null"
    return _STR(value) if type(value) is str else ENCODER.encode(value)


class _Message:
    """A message's JSON without its closing brace (``head``), and what its thread needs."""

    __slots__ = ("day", "head", "id", "replies", "ts", "user")

    def __init__(self, head: str, ts: str, user: str, message_id: str, day: str):
        self.head, self.ts, self.user, self.id, self.day = head, ts, user, message_id, day
        self.replies: list[tuple[str, str]] = []  # (user, ts) of each, when a thread's first

    def row(self) -> Row:
        """With Slack's thread keys when it has replies."""
        if not self.replies:
            return self.day, self.ts, self.head + "}"
        users = list(dict.fromkeys(user for user, _ in self.replies))
        replies = ",".join(f'{{"user":{_STR(user)},"ts":"{ts}"}}' for user, ts in self.replies)
        latest = max(ts for _, ts in self.replies)
        text = (f'{self.head},"replies":[{replies}],"thread_ts":"{self.ts}",'
                f'"reply_count":{len(self.replies)},"reply_users_count":{len(users)},'
                f'"reply_users":{ENCODER.encode(users)},"latest_reply":"{latest}"}}')  # fmt: skip
        return self.day, self.ts, text


class Entries:
    """The rows of one space's messages, given as ``fields`` in the page's order."""

    def __init__(self, clock: Clock, author: Author):
        self.clock = clock
        self.author = author
        self.authors: dict[str | None, tuple[str, str, str]] = {}  # -> uid, as JSON, profile
        self.days: dict[str, int] = {}  # a UTC day -> its midnight's seconds (_ts)
        self.start: _Message | None = None  # the thread's first message, until it ends

    def add(self, message: Fields, rows: list[Row]) -> None:
        """Append the rows ``message`` completes: itself, or the thread it ends."""
        if not message[2]:  # not a reply: the thread before it is complete
            if self.start is not None:
                rows.append(self.start.row())
            self.start = None if message[1] else self.message(message)
            return
        reply, start = self.message(message), self.start
        if start is not None and message[3] == start.id:
            start.replies.append((reply.user, reply.ts))
            thread = f',"thread_ts":"{start.ts}","parent_user_id":{_STR(start.user)}}}'
            rows.append((reply.day, reply.ts, reply.head + thread))
        else:
            rows.append((reply.day, reply.ts, reply.head + "}"))

    def end(self, rows: list[Row]) -> None:
        if self.start is not None:
            rows.append(self.start.row())
            self.start = None

    def batch(self, messages: list[Fields], last: bool) -> list[Row]:
        """The rows of a batch (the worker's task); ``last``: the page ends with it."""
        rows: list[Row] = []
        for message in messages:
            self.add(message, rows)
        if last:
            self.end(rows)
        return rows

    def message(self, message: Fields) -> _Message:
        (id_, _, is_reply, thread, created, updated, deleted, in_window, author_id, name,
         email, plain, files) = message  # fmt: skip
        author = self.authors.get(author_id)
        if author is None:
            uid, real_name, handle = self.author(author_id, name, email)
            profile = ENCODER.encode({"real_name": real_name, "name": handle})
            author = self.authors[author_id] = (uid, _STR(uid), profile)
        uid, user, profile = author
        created = created or "1970-01-01T00:00:00.000Z"
        spread = _spread(id_)
        ts = _ts(created, spread, self.days)
        head = (f'{{"type":"message","user":{user},"text":{_STR(slack_text(plain))},'
                f'"ts":"{ts}","user_profile":{profile}')  # fmt: skip
        if updated:
            head += f',"edited":{{"user":{user},"ts":"{_ts(updated, spread, self.days)}"}}'
        if files is not None:
            entries = [file_entry(id_, number, *file) for number, file in enumerate(files)]
            head += f',"files":{ENCODER.encode(entries)}'
        head += (f',"webex":{{"message_id":{_STR(id_)},'
                 f'"parent_id":{_value(thread if is_reply else None)},'
                 f'"edited":{_value(updated)},"deleted":{_value(deleted)},'
                 f'"outside_window":{"false" if in_window else "true"}}}')  # fmt: skip
        return _Message(head, ts, uid, id_, self.clock.iso(created)[:10])

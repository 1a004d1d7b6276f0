"""The JSON writer: one versioned document per space, streamed to disk thread by thread.

The old tool dumped the raw API objects newest first, placeholders appended at the end, with
no structure; this document carries the page itself (the same window, order, names, local
times and statistics as the HTML and TXT), so that scripts can consume it without re-doing
the threading. The raw API objects stay in ``archive.db`` (column ``raw``) for whoever needs
them.

The documented format (``format`` = ``"webex-space-archive"``, ``version`` = 1). Times named
``created`` are the archive's UTC text (``2024-03-31T00:30:00.000Z``); every other time is
ISO 8601 in the rendering's time zone with its offset (``2024-03-31T01:30:00+01:00``). A
key is always present; "or null" says when its value may be null::

    {
      "format": "webex-space-archive",
      "version": 1,
      "generated_at": local time,
      "space": {"id": str, "title": str, "type": "group" | "direct" or null,
                "created": UTC or null, "folder": str or null},
      "filters": {"since": UTC bound (inclusive) or null, "until": UTC bound (exclusive)
                  or null, "last": int or null, "sort": "oldest" | "newest",
                  "description": str (the filters in words)},
      "time_zone": str (an IANA name such as "Europe/Amsterdam"),
      "statistics": {
        "in_window": int, "in_archive": int, "members": int, "authors": int,
        "replies": int, "edited": int, "deleted": int,
        "mentions": int (people mentioned), "group_mentions": int (messages with @all),
        "first_message": UTC or null, "last_message": UTC or null,
        "last_synced": UTC or null,
        "top_authors": [{"name": str, "email": str or null, "messages": int}] (at most 10),
        "other_authors": int (messages by everyone else),
        "top_domains": [{"domain": str, "messages": int}] (at most 10),
        "other_domains": int,
        "images": {"count": int, "bytes": int, "sized": int, "downloaded": int},
        "files":  {"count": int, "bytes": int, "sized": int, "downloaded": int}
      },
      "members": [{"id": str or null, "name": str or null, "email": str or null,
                   "moderator": bool, "joined": UTC or null, "left": UTC or null}],
      "membership_changes": (only with ``render --events``) [{"type": "joined" | "left",
                   "created": UTC, "local_time": local time, "person": {"id": str or null,
                   "name": str, "email": str or null, "external": bool}}] in time order,
      "messages": [thread, ...]
    }

``messages`` holds one object per thread in display order (``--sort``): the thread's first
message with its replies, oldest first, in ``replies``. A message object::

    {
      "id": str,
      "created": UTC or null,
      "local_time": local time or null,
      "author": {"id": str or null, "name": str, "email": str or null,
                 "external": bool} or null,
      "text": str (plain text; for messages that only have HTML, the HTML's text),
      "html": str (sanitised HTML, safe to insert into a page),
      "edited": local time of the last edit, or null,
      "deleted": local time when the archive saw it deleted in Webex (when it was deleted,
                 for a compliance officer's archive: from the events feed), or null,
      "in_window": bool (false: shown only because a reply is in the window),
      "placeholder": bool (true: a parent the archive never had; then created, local_time
                     and author are null, text and html are "", files is []),
      "card": bool (an adaptive card; not rendered, text holds its fallback),
      "files": [{"name": str, "size": int or null, "size_text": str,
                 "content_type": str or null, "image": bool,
                 "status": "downloaded" | "not downloaded" | "gone" | "infected"
                           | "not scannable" | "download failed",
                 "local_path": str (relative to the archive folder) or null}],
      "replies": [message object without "replies", ...]   (thread starts only)
    }

With ``--blur`` names and emails are pseudonyms (``Person 3``, ``person3@hidden``); person
ids and the space's folder are null, and so is a file's ``local_path`` where it holds a name
or email (the archive names folders and files after titles and attachment names). The text
is UTF-8 (``ensure_ascii=False``); characters that could confuse a terminal or a JavaScript
parser (DEL, C1 controls, U+2028/9, bidirectional overrides) are written as ``\\uXXXX``
escapes, which JSON parsers read back unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import TextIO

from .clock import Clock
from .model import Item
from .output import open_output
from .page import Page
from .text import zone_name
from .times import shown

FORMAT, VERSION = "webex-space-archive", 1
STAT_KEYS = ("in_window", "in_archive", "members", "authors", "replies", "edited", "deleted",
             "mentions", "group_mentions", "first_message", "last_message", "last_synced",
             "top_authors", "other_authors", "top_domains", "other_domains", "images",
             "files")  # fmt: skip
# One encoder for the head and the attachment lists: json.dumps with options builds one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
BATCH = 200  # threads per write
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def dumps(value: object) -> str:
    """Compact UTF-8 JSON with terminal- and script-confusing characters escaped."""
    return _escape(_ENCODER.encode(value))


def _escape(text: str) -> str:
    """``text`` with the characters in ``_UNSAFE`` as ``\\uXXXX``. All of them but DEL lie
    beyond ASCII, and most text is ASCII: two quick scans spare the regular expression's."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def write_json(page: Page) -> None:
    """Stream the document to ``page.path``: the head, then one line per thread.

    Threads are escaped one by one (most are ASCII: no scan for escapes, see ``_escape``)
    and written ``BATCH`` at a time: one write per batch instead of per thread."""
    with open_output(page) as out:
        out.write("{\n")
        for key, value in head(page).items():
            out.write(f"{dumps(key)}: {dumps(value)},\n")
        out.write('"messages": [')
        items = threads(page.items, page.options.blur, page.clock)
        write_joined(out, (_escape(thread) for thread in items), ",\n", "\n")
        out.write("\n]}\n")


def write_joined(out: TextIO, texts: Iterable[str], joiner: str, lead: str = "") -> None:
    """Write ``lead`` and the texts joined by ``joiner`` (nothing if there are none),
    ``BATCH`` at a time: one write per batch instead of per item."""
    separator, batch = lead, []
    for text in texts:
        batch.append(text)
        if len(batch) == BATCH:
            out.write(separator + joiner.join(batch))
            separator, batch = joiner, []
    if batch:
        out.write(separator + joiner.join(batch))


def head(page: Page) -> dict:
    """Everything before the messages: what, when, which window, the numbers, the members."""
    space, filters, blur = page.space, page.options.filters, page.options.blur
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": iso(page.generated_at),
        "space": {"id": space["id"], "title": page.title, "type": space.get("type"),
                  "created": shown(space.get("created")),  # render/times.py
                  "folder": None if blur else space.get("folder")},
        "filters": {"since": filters.since, "until": filters.until, "last": filters.last,
                    "sort": filters.sort, "description": page.options.filters_text},
        "time_zone": zone_name(page),
        "statistics": {key: page.stats.get(key) for key in STAT_KEYS},
        "members": [member(m, blur) for m in page.members],
    } | ({"membership_changes": [change(c, blur, page.clock) for c in page.changes]}
         if page.options.events else {})  # fmt: skip


def change(item: Item, blur: bool, clock: Clock) -> dict:
    """A member joining or leaving (``render --events``)."""
    return {
        "type": item.kind,
        "created": item.created,
        "local_time": clock.iso(item.created),
        "person": {"id": None if blur else item.author_id, "name": item.author,
                   "email": item.email or None, "external": item.external},
    }  # fmt: skip


def member(row: dict, blur: bool) -> dict:
    return {
        "id": None if blur else row.get("person_id"),
        "name": row.get("name"),
        "email": row.get("email"),
        "moderator": bool(row.get("is_moderator")),
        "joined": row.get("joined"),
        "left": row.get("left_at"),
    }


def threads(stream: Iterable[Item], blur: bool, clock: Clock) -> Iterator[str]:
    """Items in display order → one JSON object per thread (not yet escaped), replies nested
    under their start, oldest first."""
    start: str | None = None  # the thread's first message, its object still open
    thread: str | None = None
    replies: list[str] = []
    for item in stream:
        entry = message(item, blur, clock)
        if item.is_reply and start is not None and item.thread == thread:
            replies.append(f"{entry}}}")
            continue
        if start is not None:
            yield f'{start},"replies":[{",".join(replies)}]}}'  # last, as documented
        start, thread, replies = entry, item.thread, []
    if start is not None:
        yield f'{start},"replies":[{",".join(replies)}]}}'


def message(item: Item, blur: bool, clock: Clock) -> str:
    """One message (or placeholder) in the documented shape, its object left open for
    ``replies``. Written field by field with the encoder's own C string quoting: building a
    dict per message and encoding it cost twice as much, and the shape is fixed."""
    placeholder = item.kind == "placeholder"
    author = "null" if placeholder else (
        f'{{"id":{_text(None if blur else item.author_id)},"name":{_QUOTE(item.author)},'
        f'"email":{_text(item.email or None)},"external":{_TRUE[item.external]}}}'
    )  # fmt: skip
    files = _ENCODER.encode([attachment(info) for info in item.files]) if item.files else "[]"
    return (
        f'{{"id":{_QUOTE(item.id)},"created":{_text(item.created)},'
        f'"local_time":{_text(clock.iso(item.created))},"author":{author},'
        f'"text":{_QUOTE(item.plain or "")},"html":{_QUOTE(item.body or "")},'
        f'"edited":{_text(clock.iso(item.updated))},"deleted":{_text(clock.iso(item.deleted))},'
        f'"in_window":{_TRUE[item.in_window]},"placeholder":{_TRUE[placeholder]},'
        f'"card":{_TRUE[item.card]},"files":{files}'
    )


_QUOTE = encode_basestring  # a JSON string as the encoder writes it (ensure_ascii=False)
_TRUE = {True: "true", False: "false"}


def _text(value: str | None) -> str:
    return "null" if value is None else _QUOTE(value)


def attachment(info: dict) -> dict:
    return {
        "name": info["name"],
        "size": info.get("size"),
        "size_text": info.get("size_text"),
        "content_type": info.get("content_type"),
        "image": bool(info.get("image")),
        "status": info.get("label") or "downloaded",
        "local_path": info.get("local_path"),
    }


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset, to the second (Webex's milliseconds stay in ``created``)."""
    return moment.isoformat(timespec="seconds") if moment else None

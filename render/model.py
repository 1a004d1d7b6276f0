"""From archive rows to what a page shows: local times, names, threads, files, groups.

Pure functions and small value objects shared by every writer (HTML, JSON, TXT), so that the
three formats always agree on the window, the order, the times and the names.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from urllib.parse import quote

from .sanitize import (
    clean_inline,
    message_html,
    redact,
    redact_html,
    strip_tags,
    strip_unsafe,
    text_html,
)

GROUP_GAP = timedelta(minutes=5)  # same author within this gap: one header for both
IMAGE_TYPES = ("image/",)
IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff", "heic",
                    "heif", "avif"}  # fmt: skip
STATUS_LABELS = {"downloaded": "", "gone": "gone", "infected": "infected",
                 "unscannable": "not scannable", "failed": "download failed"}  # fmt: skip


def parse_utc(text: str) -> datetime:
    """The archive's UTC text (``2024-03-04T12:34:56.789Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def human_size(size: int | None) -> str:
    """1024-based sizes as file managers show them: ``532 B``, ``14.2 KB``, ``3.1 MB``."""
    if size is None:
        return "size unknown"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def initials(name: str) -> str:
    """Two letters for an initials avatar: of the first two words, else of the one word."""
    words = [w for w in name.replace(".", " ").replace("@", " ").split() if w[:1].isalnum()]
    letters = "".join(w[0] for w in words[:2]) if len(words) > 1 else (words or [name])[0][:2]
    return letters.upper()


@dataclass
class Pseudonyms:
    """Stable stand-ins for names and emails (``--blur``): Person 1, person1@hidden."""

    people: dict[str, int] = field(default_factory=dict)
    replacements: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, known: Iterable[tuple[str, str | None, str | None]]) -> Pseudonyms:
        pseudonyms = cls()
        for person_id, name, email in sorted(known, key=lambda p: p[0] or ""):
            number = pseudonyms.people.setdefault(person_id, len(pseudonyms.people) + 1)
            for value, stand_in in ((name, f"Person {number}"), (email, f"person{number}@hidden")):
                if value and len(value) > 2:
                    pseudonyms.replacements[value] = stand_in
                # The forms a name takes once sanitised (controls and bidi overrides gone) or
                # cleaned for display: a mention in a message's HTML shows those, not the raw
                # name, and must be replaced all the same.
                for form in {strip_unsafe(value or ""), clean_inline(value or "")}:
                    if len(form) > 2:
                        pseudonyms.replacements.setdefault(form, stand_in)
        return pseudonyms

    def name(self, person_id: str | None) -> str:
        return f"Person {self.people.get(person_id or '', 0) or '?'}"

    def email(self, person_id: str | None) -> str:
        return f"person{self.people.get(person_id or '', 0) or 'x'}@hidden"


@dataclass
class Context:
    """What turning rows into items needs to know, once per rendering."""

    zone: tzinfo
    me_org: str | None
    me_domain: str | None
    output_dir: Path
    archive_dir: Path
    avatars: str = "initials"  # initials | link | local
    blur: Pseudonyms | None = None


@dataclass
class Item:
    """One message (or a placeholder for a parent the archive does not have) as shown."""

    id: str
    kind: str  # message | placeholder
    is_reply: bool
    in_window: bool
    thread: str
    local: datetime | None
    author: str
    email: str
    author_id: str | None
    external: bool
    avatar: str | None
    body: str  # safe HTML
    plain: str  # plain text, for TXT
    card: bool
    files: list[dict]
    created: str | None
    updated_local: datetime | None
    deleted_local: datetime | None
    month: tuple[int, int] | None
    group_start: bool = True


def local_time(text: str | None, zone: tzinfo) -> datetime | None:
    return parse_utc(text).astimezone(zone) if text else None


def items(rows: Iterable[dict], ctx: Context) -> Iterator[Item]:
    """Rows in display order → Items, with group headers decided as they stream by."""
    previous: Item | None = None
    for row in rows:
        item = to_item(row, ctx)
        item.group_start = _starts_group(previous, item)
        previous = item
        yield item


def _starts_group(previous: Item | None, item: Item) -> bool:
    if previous is None or item.kind == "placeholder" or previous.kind == "placeholder":
        return True
    if item.is_reply != previous.is_reply or (item.thread != previous.thread and item.is_reply):
        return True
    if item.author_id != previous.author_id or item.updated_local or item.deleted_local:
        return True
    if item.local is None or previous.local is None:
        return True
    return abs(item.local - previous.local) > GROUP_GAP or not item.in_window


def to_item(row: dict, ctx: Context) -> Item:
    anchor = local_time(row["anchor"], ctx.zone)
    month = (anchor.year, anchor.month) if anchor else None
    if not row["archived"]:
        return _placeholder(row, month)
    email = row["person_email"] or ""
    name = clean_inline(row["author_name"] or email or "unknown")
    body, plain = _body(row, ctx)
    if ctx.blur:
        name, email = ctx.blur.name(row["person_id"]), ctx.blur.email(row["person_id"])
    return Item(
        id=row["id"], kind="message", is_reply=row["parent_id"] is not None,
        in_window=bool(row["in_window"]), thread=row["thread"],
        local=local_time(row["created"], ctx.zone), author=name, email=email,
        author_id=row["person_id"], external=_external(row, ctx), avatar=_avatar(row, ctx),
        body=body, plain=plain, card=bool(row["attachments"]), files=_files(row, ctx),
        created=row["created"], updated_local=local_time(row["updated"], ctx.zone),
        deleted_local=local_time(row["deleted_at"], ctx.zone), month=month,
    )  # fmt: skip


def _placeholder(row: dict, month: tuple[int, int] | None) -> Item:
    return Item(
        id=row["id"], kind="placeholder", is_reply=False, in_window=False, thread=row["thread"],
        local=None, author="", email="", author_id=None, external=False, avatar=None,
        body="", plain="", card=False, files=[], created=None, updated_local=None,
        deleted_local=None, month=month,
    )  # fmt: skip


def _body(row: dict, ctx: Context) -> tuple[str, str]:
    """(safe HTML, plain text) of a message: Webex's html sanitised, else its text escaped."""
    html, text = row["html"], row["text"]
    if ctx.blur:
        text = redact(text, ctx.blur.replacements) if text else text
    if html:
        safe = message_html(html)
        if ctx.blur:
            safe = redact_html(safe, ctx.blur.replacements)
        return safe, text if text is not None else strip_tags(safe)
    return (text_html(text) if text else ""), text or ""


def _external(row: dict, ctx: Context) -> bool:
    """Another organisation than the archive owner's (by org id, else by email domain)."""
    if row["author_org"] and ctx.me_org:
        return row["author_org"] != ctx.me_org
    email = row["person_email"] or ""
    return bool(ctx.me_domain and "@" in email and not email.lower().endswith("@" + ctx.me_domain))


def _avatar(row: dict, ctx: Context) -> str | None:
    if ctx.blur:
        return None
    if ctx.avatars == "link":
        return row["avatar_url"]
    if ctx.avatars == "local" and row["avatar_path"]:
        return relative_href(row["avatar_path"], ctx)
    return None


def relative_href(local_path: str, ctx: Context) -> str:
    """A URL from the output file to a file inside the archive, each segment quoted."""
    relative = os.path.relpath(ctx.archive_dir / local_path, ctx.output_dir)
    return "/".join(quote(part) for part in Path(relative).parts)


def _files(row: dict, ctx: Context) -> list[dict]:
    if not row["file_rows"]:
        return []
    files = []
    for index, info in enumerate(json.loads(row["file_rows"])):
        name = clean_inline(info["name"] or f"attachment {index + 1}")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        kind = info["content_type"] or ""
        is_image = kind.startswith(IMAGE_TYPES) or extension in IMAGE_EXTENSIONS
        local = info["local_path"] if info["status"] == "downloaded" else None
        files.append({
            "name": redact(name, ctx.blur.replacements) if ctx.blur else name,
            "size": info["size"], "size_text": human_size(info["size"]),
            "content_type": info["content_type"],
            "image": is_image, "href": relative_href(local, ctx) if local else None,
            "label": STATUS_LABELS.get(info["status"], "not downloaded"),
            "local_path": local,
        })  # fmt: skip
    return files


@dataclass
class Section:
    """A month of the page: its items, led by top-level messages of that month."""

    year: int
    month: int
    items: Iterator[Item]

    @property
    def anchor(self) -> str:
        return f"m-{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return datetime(self.year, self.month, 1).strftime("%B %Y")


def sections(stream: Iterable[Item]) -> Iterator[Section]:
    """Consecutive items of one local month (a thread stays in its parent's month)."""
    for month, group in itertools.groupby(stream, key=lambda item: item.month):
        year, number = month or (1970, 1)
        yield Section(year, number, group)


def month_counts(anchors: Iterable[tuple[str, int]], zone: tzinfo) -> list[tuple[int, int, int]]:
    """(year, month, rows) for the table of contents, in display order, from thread sizes."""
    counts: dict[tuple[int, int], int] = {}
    for anchor, size in anchors:
        moment = parse_utc(anchor).astimezone(zone)
        key = (moment.year, moment.month)
        counts[key] = counts.get(key, 0) + size
    return [(year, month, count) for (year, month), count in counts.items()]

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

from .bodies import with_bodies
from .clock import MONTH_NAMES, Clock, parse_utc
from .sanitize import clean_inline, redact, strip_unsafe
from .toc import section_id

GROUP_GAP = timedelta(minutes=5)  # same author within this gap: one header for both
GROUP_GAP_MICROS = GROUP_GAP // timedelta(microseconds=1)
IMAGE_TYPES = ("image/",)
IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff", "heic",
                    "heif", "avif"}  # fmt: skip
STATUS_LABELS = {"downloaded": "", "gone": "gone", "infected": "infected",
                 "unscannable": "not scannable", "failed": "download failed"}  # fmt: skip


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
    """What turning rows into items needs to know, once per rendering.

    ``html`` and ``plain`` say which bodies the writer uses: sanitising HTML is most of the
    cost of a message, and the transcript never shows it. ``groups`` asks for the HTML
    page's author grouping."""

    zone: tzinfo
    me_org: str | None
    me_domain: str | None
    output_dir: Path
    archive_dir: Path
    avatars: str = "initials"  # initials | link | local
    blur: Pseudonyms | None = None
    html: bool = True
    plain: bool = True
    groups: bool = True
    clock: Clock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = Clock(self.zone)


class Item:
    """One message (or a placeholder for a parent the archive does not have) as shown.

    Times are the archive's UTC texts; the writers show them with ``Context.clock``. Slots
    and one constructor call per message keep the per-message cost small."""

    __slots__ = (
        "author",
        "author_id",
        "avatar",
        "body",
        "card",
        "created",
        "deleted",
        "email",
        "external",
        "files",
        "group_start",
        "id",
        "in_window",
        "is_reply",
        "kind",
        "month",
        "plain",
        "thread",
        "updated",
    )  # fmt: skip

    def __init__(self, id: str, kind: str, is_reply: bool, in_window: bool, thread: str,
                 created: str | None, updated: str | None, deleted: str | None,
                 month: tuple[int, int] | None, author: str, email: str,
                 author_id: str | None, external: bool, avatar: str | None, body: str,
                 plain: str, card: bool, files: list[dict],
                 group_start: bool = True) -> None:  # fmt: skip
        self.id, self.kind, self.is_reply, self.in_window = id, kind, is_reply, in_window
        self.thread, self.created, self.updated, self.deleted = thread, created, updated, deleted
        self.month, self.author, self.email, self.author_id = month, author, email, author_id
        self.external, self.avatar, self.body, self.plain = external, avatar, body, plain
        self.card, self.files, self.group_start = card, files, group_start


def local_time(text: str | None, zone: tzinfo) -> datetime | None:
    return parse_utc(text).astimezone(zone) if text else None


# The columns of render/window.py's rows, by position.
(ID, IN_WINDOW, ANCHOR, ARCHIVED, PARENT, CREATED, PERSON, EMAIL, TEXT, HTML, CARDS, UPDATED,
 DELETED, NAME, ORG, AVATAR_URL, AVATAR_PATH, FILES) = range(18)  # fmt: skip


def items(rows: Iterable[tuple], ctx: Context) -> Iterator[Item]:
    """Rows in display order → Items, with group headers decided as they stream by."""
    people: dict[tuple, tuple[str, str, bool, str | None]] = {}
    month_of = ctx.clock.month
    previous: Item | None = None
    previous_micros = 0
    replacements = ctx.blur.replacements if ctx.blur else None
    for row, (body, plain) in with_bodies(rows, (HTML, TEXT), replacements, ctx.html, ctx.plain):
        anchor = row[ANCHOR]
        month = month_of(anchor) if anchor else None
        if not row[ARCHIVED]:
            item = _placeholder(row, month)
        else:
            key = row[PERSON], row[EMAIL], row[NAME], row[ORG], row[AVATAR_URL], row[AVATAR_PATH]
            person = people.get(key)
            if person is None:
                person = people[key] = _person(row, ctx)
            item = _message(row, ctx, month, person, body, plain)
        if ctx.groups:
            micros = ctx.clock.micros(item.created) if item.created else 0
            item.group_start = _starts_group(previous, item, micros - previous_micros)
            previous_micros = micros
        previous = item
        yield item


def _starts_group(previous: Item | None, item: Item, gap: int) -> bool:
    """Whether ``item`` shows its author again (``gap``: microseconds since ``previous``)."""
    if previous is None or item.kind == "placeholder" or previous.kind == "placeholder":
        return True
    if item.is_reply != previous.is_reply or (item.thread != previous.thread and item.is_reply):
        return True
    if item.author_id != previous.author_id or item.updated or item.deleted:
        return True
    if item.created is None or previous.created is None:
        return True
    return abs(gap) > GROUP_GAP_MICROS or not item.in_window


def _person(row: tuple, ctx: Context) -> tuple[str, str, bool, str | None]:
    """(name, email, external, avatar) of a message's author: the same for all their messages."""
    email = row[EMAIL] or ""
    name = clean_inline(row[NAME] or email or "unknown")
    external, avatar = _external(row, ctx), _avatar(row, ctx)
    if ctx.blur:
        name, email = ctx.blur.name(row[PERSON]), ctx.blur.email(row[PERSON])
    return name, email, external, avatar


def _message(row: tuple, ctx: Context, month: tuple[int, int] | None, person: tuple,
             body: str, plain: str) -> Item:  # fmt: skip
    parent = row[PARENT]
    name, email, external, avatar = person
    return Item(
        row[ID], "message", parent is not None, bool(row[IN_WINDOW]), parent or row[ID],
        row[CREATED], row[UPDATED], row[DELETED], month, name, email, row[PERSON], external,
        avatar, body, plain, bool(row[CARDS]), _files(row, ctx) if row[FILES] else [],
    )  # fmt: skip


def _placeholder(row: tuple, month: tuple[int, int] | None) -> Item:
    return Item(
        row[ID], "placeholder", False, False, row[PARENT] or row[ID], None, None, None, month,
        "", "", None, False, None, "", "", False, [],
    )  # fmt: skip


def _external(row: tuple, ctx: Context) -> bool:
    """Another organisation than the archive owner's (by org id, else by email domain)."""
    if row[ORG] and ctx.me_org:
        return row[ORG] != ctx.me_org
    email = row[EMAIL] or ""
    return bool(ctx.me_domain and "@" in email and not email.lower().endswith("@" + ctx.me_domain))


def _avatar(row: tuple, ctx: Context) -> str | None:
    if ctx.blur:
        return None
    if ctx.avatars == "link":
        return row[AVATAR_URL]
    if ctx.avatars == "local" and row[AVATAR_PATH]:
        return relative_href(row[AVATAR_PATH], ctx)
    return None


def relative_href(local_path: str, ctx: Context) -> str:
    """A URL from the output file to a file inside the archive, each segment quoted."""
    relative = os.path.relpath(ctx.archive_dir / local_path, ctx.output_dir)
    return "/".join(quote(part) for part in Path(relative).parts)


def _files(row: tuple, ctx: Context) -> list[dict]:
    files = []
    for index, info in enumerate(json.loads(row[FILES])):
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
        return section_id(self.year, self.month)

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"


def sections(stream: Iterable[Item]) -> Iterator[Section]:
    """Consecutive items of one local month (a thread stays in its parent's month)."""
    for month, group in itertools.groupby(stream, key=lambda item: item.month):
        year, number = month or (1970, 1)
        yield Section(year, number, group)

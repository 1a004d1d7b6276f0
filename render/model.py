"""From archive rows to what a page shows: local times, names, threads, files, groups.

Pure functions and small value objects shared by every writer (HTML, JSON, TXT), so that the
three formats always agree on the window, the order, the times and the names.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from urllib.parse import quote, unquote

from .bodies import with_bodies
from .clock import MONTH_NAMES, Clock, parse_utc
from .sanitize import clean_inline, redact, strip_unsafe
from .times import real
from .toc import NO_MONTH, section_id
from .window import COLUMNS

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


def attachment_summary(kind: dict, separator: str) -> str:
    """One kind of attachment of the statistics (``images`` or ``files``) in words, for HTML
    (``separator`` " · ") and TXT (", "): ``3, 1.5 MB (mean 512.0 KB), 1 of unknown size,
    1 not downloaded``. Bytes and mean cover the attachments whose size is known, so how
    many are not is said too."""
    parts = [f"{kind['count']:,}"]
    if kind["sized"]:
        mean = kind["bytes"] // kind["sized"]
        parts.append(f"{human_size(kind['bytes'])} (mean {human_size(mean)})")
    if kind["count"] > kind["sized"]:
        parts.append(f"{kind['count'] - kind['sized']:,} of unknown size")
    if kind["count"] > kind["downloaded"]:
        parts.append(f"{kind['count'] - kind['downloaded']:,} not downloaded")
    return separator.join(parts)


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

    def names_anyone(self, path: str) -> bool:
        """Whether a path (a folder or file name the archive made from a title or an
        attachment name) holds a name or email. Compared as letters and digits only, since
        making a name safe for a file system changes its punctuation and spaces."""
        pattern = self._names_pattern
        return bool(pattern and pattern.search(_letters(path)))

    @functools.cached_property
    def _names_pattern(self) -> re.Pattern[str] | None:
        keys = sorted({k for k in map(_letters, self.replacements) if len(k) > 2}, key=len)
        return re.compile("|".join(map(re.escape, keys))) if keys else None


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


@dataclass
class Context:
    """What turning rows into items needs to know, once per rendering.

    ``html`` and ``plain`` say which bodies the writer uses: sanitising HTML is most of the
    cost of a message, and the transcript never shows it (the HTML page uses both: the plain
    text goes into its search file). ``groups`` asks for the HTML
    page's author grouping, ``months`` for each item's local month (the HTML and TXT show
    months; the other formats would pay for it on every message: 3 % of an export's CPU).
    ``later``: no bodies here; each item keeps its row's html and text (``Item.source``) for
    the writer to make its bodies where it makes the rest of the message (the mail writers:
    in the processes that make the mails, render/mail.py)."""

    zone: tzinfo
    me_org: str | None
    me_domain: str | None
    output_dir: Path
    archive_dir: Path
    avatars: str = "auto"  # auto | initials | link | local
    blur: Pseudonyms | None = None
    html: bool = True
    plain: bool = True
    groups: bool = True
    months: bool = True
    later: bool = False
    clock: Clock = field(init=False)
    # The messages shown with an impossible time, by id: their first such text (model's
    # _real_times; render/progress.py warns once per space).
    impossible: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.clock = Clock(self.zone)


class Item:
    """One message (or a placeholder for a parent the archive does not have) as shown.

    Times are the archive's UTC texts; the writers show them with ``Context.clock``. The
    builders below set every field by name on a blank instance: slots, and no constructor
    call with 19 keyword arguments (which cost twice a positional call), keep the
    per-message cost small."""

    __slots__ = ("author", "author_id", "avatar", "body", "card", "created", "deleted",
                 "deleted_exact", "email", "external", "files", "group_start", "id",
                 "in_window", "is_reply", "kind", "month", "plain", "source", "thread",
                 "updated")  # fmt: skip

    id: str
    kind: str  # "message" | "placeholder"
    is_reply: bool
    in_window: bool  # false: shown only as the start of a thread with replies in the window
    thread: str  # the id of the thread's first message
    created: str | None
    updated: str | None
    deleted: str | None  # when the archive saw it deleted in Webex
    deleted_exact: bool  # ``deleted`` is when it was deleted (Webex's events feed said so)
    month: tuple[int, int] | None  # (year, month) of its thread's anchor, local
    author: str  # shown name (or pseudonym)
    email: str
    author_id: str | None
    external: bool
    avatar: str | None  # a URL or relative path; None: initials
    body: str  # sanitised HTML ("" when the writer does not use it)
    plain: str  # plain text ("" when the writer does not use it)
    source: tuple[str | None, str | None] | None  # the row's html and text (Context.later)
    card: bool
    files: list[dict]
    group_start: bool  # shows its author (false: grouped under the previous message's)


def local_time(text: str | None, zone: tzinfo) -> datetime | None:
    return parse_utc(text).astimezone(zone) if text else None


_BODY_COLUMNS = (COLUMNS.index("html"), COLUMNS.index("text"))


def items(rows: Iterable[tuple], ctx: Context) -> Iterator[Item]:
    """Rows in display order → Items, with group headers decided as they stream by."""
    people: dict[tuple, tuple[str, str, bool, str | None]] = {}
    previous: Item | None = None
    previous_micros = 0
    replacements = ctx.blur.replacements if ctx.blur else None
    if ctx.later:
        html_at, text_at = _BODY_COLUMNS
        bodies = ((row, ("", "")) for row in rows)
    else:
        bodies = with_bodies(rows, _BODY_COLUMNS, replacements, ctx.html, ctx.plain)
    for row, (body, plain) in bodies:
        item = _item(row, body, plain, ctx, people)
        if ctx.later:
            item.source = (row[html_at], row[text_at])
        if ctx.groups:
            micros = ctx.clock.micros(item.created) if item.created else 0
            item.group_start = _starts_group(previous, item, micros - previous_micros)
            previous_micros = micros
        previous = item
        yield item


def _item(row: tuple, body: str, plain: str, ctx: Context, people: dict) -> Item:
    """The Item of one row; ``people`` keeps each author's part, the same on all their
    messages. The row is unpacked in the order of COLUMNS."""
    (id_, in_window, anchor, archived, parent_id, created, person_id, email, _, _, cards,
     updated, deleted, name, org_id, avatar_url, avatar_path, files, exact) = row  # fmt: skip
    # Every time is checked before the clock sees one (render/times.py): one regular
    # expression for most rows (a top-level message's anchor is its own time), two for a
    # reply; the rest (an edit, a deletion, a time not real) in _real_times.
    if not (
        real(created)
        and (anchor == created or real(anchor))
        and updated is None
        and deleted is None
    ):
        created, updated, deleted, anchor = _real_times(id_, archived, row, ctx)
    month = ctx.clock.month(anchor) if anchor and ctx.months else None
    if not archived:
        return placeholder(id_, parent_id or id_, month)
    key = person_id, email, name, org_id, avatar_url, avatar_path
    person = people.get(key)
    if person is None:
        person = people[key] = person_of(key, ctx)
    item = Item()
    item.author, item.email, item.external, item.avatar = person
    item.id, item.kind, item.month = id_, "message", month
    item.is_reply, item.in_window = parent_id is not None, bool(in_window)
    item.thread = parent_id or id_
    item.created, item.updated, item.deleted = created, updated, deleted
    item.deleted_exact = bool(exact)
    item.author_id = person_id
    item.body, item.plain, item.card, item.source = body, plain, bool(cards), None
    item.files = _files(files, ctx) if files else []
    item.group_start = True
    return item


_TIMES = tuple(COLUMNS.index(name) for name in ("created", "updated", "deleted", "anchor"))


def _real_times(id_: str, archived: int, row: tuple, ctx: Context) -> list:
    """The row's created, updated, deleted and anchor, each None where it is not a real time
    (render/times.py); an archived message with one is remembered in ``ctx.impossible``
    (its id: its first such text), for the rendering's one warning per space."""
    values = [row[at] for at in _TIMES]
    for at, value in enumerate(values):
        if value is not None and not real(value):
            values[at] = None
            if archived and at < 3:  # an anchor is some row's own time: counted there
                ctx.impossible.setdefault(id_, value)
    return values


def placeholder(id_: str, thread: str, month: tuple[int, int] | None) -> Item:
    """The stand-in for a thread's first message that the archive never had."""
    item = Item()
    item.id, item.kind, item.thread, item.month = id_, "placeholder", thread, month
    item.is_reply = item.in_window = item.external = item.card = item.deleted_exact = False
    item.created = item.updated = item.deleted = item.author_id = item.avatar = None
    item.author = item.email = item.body = item.plain = ""
    item.source = None
    item.files = []
    item.group_start = True
    return item


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


def person_of(key: tuple, ctx: Context) -> tuple[str, str, bool, str | None]:
    """(name, email, external, avatar) of a message's author: the same for all their messages
    (and for a member joining or leaving, render/events.py)."""
    person_id, email, name, org_id, avatar_url, avatar_path = key
    email = email or ""
    shown = clean_inline(name or email or "unknown")
    external, avatar = _external(org_id, email, ctx), _avatar(avatar_url, avatar_path, ctx)
    if ctx.blur:
        shown, email = ctx.blur.name(person_id), ctx.blur.email(person_id)
    return shown, email, external, avatar


def _external(org_id: str | None, email: str, ctx: Context) -> bool:
    """Another organisation than the archive owner's (by org id, else by email domain)."""
    if org_id and ctx.me_org:
        return org_id != ctx.me_org
    return bool(ctx.me_domain and "@" in email and not email.lower().endswith("@" + ctx.me_domain))


def _avatar(url: str | None, path: str | None, ctx: Context) -> str | None:
    if ctx.blur:
        return None
    if ctx.avatars == "link":
        return _https_only(url)
    if ctx.avatars in ("auto", "local") and path:  # the file sync stored, else initials
        return relative_href(path, ctx)
    return None


# https, a plain host name (no userinfo, no %, no IPv6 brackets), an optional port, then
# printable ASCII without a backslash: a URL every parser reads the same way.
_HTTPS_URL = re.compile(
    r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][\x21-\x5b\x5d-\x7e]*)?", re.I
)


def _https_only(url: str | None) -> str | None:
    """An avatar URL from Webex is data: only a plain https URL goes into ``<img src>`` (no
    ``javascript:``, ``data:``, ``http:`` or ``//host``); anything else shows the initials."""
    return url if url and _HTTPS_URL.fullmatch(url) else None


def relative_href(local_path: str, ctx: Context) -> str:
    """A URL from the output file to a file inside the archive, each segment quoted."""
    relative = os.path.relpath(ctx.archive_dir / local_path, ctx.output_dir)
    return "/".join(quote(part) for part in Path(relative).parts)


def attached_path(output_dir: Path, info: dict) -> Path | None:
    """The file on disk of an attachment as shown (an entry of ``Item.files``), found by the
    page's own link to it: whatever a format attaches is exactly what the HTML links to,
    ``--blur``'s rules included. None when the archive holds no bytes for it."""
    href = info.get("href")
    if not href:
        return None
    path = output_dir / unquote(href)
    return path if path.is_file() else None


def _files(listed: str, ctx: Context) -> list[dict]:
    """The attachments of a message as shown, from the row's JSON list of them."""
    files = []
    for index, info in enumerate(json.loads(listed)):
        name = clean_inline(info["name"] or f"attachment {index + 1}")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        kind = info["content_type"] or ""
        is_image = kind.startswith(IMAGE_TYPES) or extension in IMAGE_EXTENSIONS
        local = info["local_path"] if info["status"] == "downloaded" else None
        href = relative_href(local, ctx) if local else None
        if local and ctx.blur and ctx.blur.names_anyone(f"{local}/{unquote(href or '')}"):
            local = href = None  # a folder or file named after someone: no link under --blur
        files.append({
            "name": redact(name, ctx.blur.replacements) if ctx.blur else name,
            "size": info["size"], "size_text": human_size(info["size"]),
            "content_type": info["content_type"],
            "image": is_image, "href": href,
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
    """Consecutive items of one local month (a thread stays in its parent's month). A thread
    without a month (its time is not real: render/times.py) stays in the month of the thread
    before it, the page's first ones in the first month after them (``toc.month_counts``
    counts them alike), so a month is one section and one --split part."""
    leading: list[Item] = []
    for month, group in itertools.groupby(stream, key=_carried()):
        if month is None:  # only before the first thread with a month
            leading.extend(group)
            continue
        yield Section(*month, itertools.chain(leading, group))
        leading = []
    if leading:
        yield Section(*NO_MONTH, iter(leading))


def _carried() -> Callable[[Item], tuple[int, int] | None]:
    """The key of ``sections``: an item's month, or the last month seen before it."""
    last: tuple[int, int] | None = None

    def month(item: Item) -> tuple[int, int] | None:
        nonlocal last
        if item.month is not None:
            last = item.month
        return last

    return month

"""``--split``: which parts to write again, decided from what each was built from.

A nightly ``sync`` adds a day of messages to a space of years; writing every part again costs
as much as the whole space. A part is a whole page and a pure function of its inputs: its rows
of the window (every column the page reads, bodies included, so an edit, a deletion, a late
reply placed under its parent, a renamed person or a new avatar all change them), the row just
before it (whether its first message shows its author depends on it), its neighbours (the
prev/next links), the space's title and type, the options, who rendered it, the pseudonyms
under ``--blur``, and the code that writes it. The digest of those inputs is recorded per part
in the page's manifest (render/manifest.py); the next rendering computes them again in one
pass over the window's rows and rewrites only the parts whose digest differs or whose file is
gone. A part that is kept is left as it was, a whole page with its own CSP nonce and
generation time; everything else in it is what a full rendering would write now. The index
page (statistics, contents of the whole space) is written every time.
render/partial.py finds the parts that may have changed without reading every row.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .clock import Clock, archive_form
from .page import Page
from .query import SCHEMA_VERSION
from .times import real
from .version import VERSION

# The part of rows without an anchor or with one not a real time (render/times.py): none
# that sections() gives (it keeps them in the month before), so such a page is written whole.
NO_MONTH = (1970, 1)


def part_key(split: str, year: int, month: int) -> str:
    """The part a (year, month) belongs to: ``2024`` or ``2024-03``."""
    return f"{year:04d}" if split == "year" else f"{year:04d}-{month:02d}"


@functools.lru_cache(maxsize=1)
def code_digest() -> bytes:
    """A digest of the render package's own files (code, templates, style, script): a part
    written by other code is not known to be what this code writes, so it is written again.
    About 60 small files, read once per process."""
    digest = hashlib.blake2b(digest_size=16)
    root = Path(__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".j2", ".css", ".js") and path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.digest()


@dataclass
class Part:
    """One part's rows: its digest so far and its first and last display position."""

    digest: hashlib.blake2b
    first: int
    last: int


@dataclass
class Plan:
    """What one --split rendering writes: ``digests`` of every part (by key, in page order),
    the keys to ``write``, and the window ``ranges`` (display positions, inclusive) whose rows
    those parts need, or None for all rows."""

    digests: dict[str, str] = field(default_factory=dict)
    write: set[str] = field(default_factory=set)
    ranges: list[tuple[int, int]] | None = None


def page_inputs(page: Page) -> bytes:
    """Everything a part shows besides its rows (see the module doc), as bytes."""
    options, ctx = page.options, page.context
    assert ctx is not None  # build_page sets it
    blur = ctx.blur
    return repr((  # repr: marshal's bytes also depend on each string's reference count
        code_digest(), VERSION, SCHEMA_VERSION, page.title, page.space.get("type"), page.me_name,
        page.path.name, os.path.relpath(ctx.archive_dir, ctx.output_dir), page.home,
        repr(options.filters), options.zone_name, repr(ctx.zone), options.avatars,
        options.theme, options.blur, options.split, options.filters_text, ctx.me_org,
        ctx.me_domain, sorted(blur.replacements.items(), key=repr) if blur else None,
        sorted(blur.people.items(), key=repr) if blur else None,  # an id may be None
    )).encode()  # fmt: skip


def scan(rows: Iterable[tuple], clock: Clock, split: str, inputs: bytes) -> dict[str, Part]:
    """One pass over the window's rows (``Window.rows``, display order): each part's digest
    of ``inputs``, the row before it and its own rows, and where its rows are."""
    parts: dict[str, Part] = {}
    month = None
    part: Part | None = None
    previous = b""
    months = Months(clock)
    for position, row in enumerate(rows, 1):
        anchor = row[2]  # COLUMNS: id, in_window, anchor, ...
        this = months.of(anchor) if anchor else NO_MONTH
        if this != month:
            month = this
            key = part_key(split, *this)
            part = parts.get(key)
            if part is None:
                part = parts[key] = Part(hashlib.blake2b(inputs, digest_size=20), position, 0)
                part.digest.update(previous)
        data = marshal.dumps(row)
        part.digest.update(len(data).to_bytes(4, "big") + data)
        part.last = position
        previous = data
    return parts


class Months:
    """The local month of each row's anchor, as render/model.py finds it (``Clock.month``),
    at a dictionary look-up a row: a UTC day whose offset stays the same and whose first and
    last millisecond fall in one local month is in that month all day (toc.py's reasoning)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.days: dict[str, tuple[int, int] | None] = {}

    def of(self, anchor: str) -> tuple[int, int]:
        if not real(anchor):  # render/times.py: a part of its own, so nothing is kept
            return NO_MONTH
        key = anchor[:10]
        try:
            month = self.days[key]
        except KeyError:
            month = self.days[key] = self._whole_day(key)
        if month is None:
            return self.clock.month(anchor)
        return month

    def _whole_day(self, key: str) -> tuple[int, int] | None:
        first, last = f"{key}T00:00:00.000Z", f"{key}T23:59:59.999Z"
        if not archive_form(first) or not self.clock.steady(first):
            return None
        month = self.clock.month(first)
        return month if self.clock.month(last) == month else None


def plan(parts: dict[str, Part], keys: list[str], built: dict[str, str], kept) -> Plan:
    """Which parts to write: those whose digest is not the one ``built`` records for them, or
    whose file ``kept(key)`` says is gone. ``keys``: every part in page order (the neighbours
    each part links to belong to its inputs)."""
    result = Plan()
    if set(parts) != set(keys):  # the contents and the rows disagree: nothing is kept
        return Plan(write=set(keys))
    for at, key in enumerate(keys):
        part = parts[key]
        part.digest.update(neighbours(keys, at))
        digest = result.digests[key] = part.digest.hexdigest()
        if built.get(key) != digest or not kept(key):
            result.write.add(key)
    if len(result.write) < len(keys):
        result.ranges = ranges([parts[key] for key in keys if key in result.write])
    return result


def neighbours(keys: list[str], at: int) -> bytes:
    """The labels of the parts before and after ``keys[at]`` (its prev/next links), as
    bytes that depend on their values alone (marshal's also depend on how many references
    each string has, which differs between the two ways a part's digest is made)."""
    return repr((keys[at - 1] if at else None, keys[at + 1 : at + 2])).encode()


def ranges(parts: list[Part]) -> list[tuple[int, int]]:
    """The display positions to read for ``parts``: each part's rows and the row before it
    (its first message's header depends on that row), adjacent ranges joined."""
    ranges: list[tuple[int, int]] = []
    for part in parts:
        first = max(part.first - 1, 1)
        if ranges and first <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], part.last))
        else:
            ranges.append((first, part.last))
    return ranges

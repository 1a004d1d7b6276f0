"""The incremental reading of a --split page: only the months that changed since the last
rendering, not every row of the space (render/incremental.py says what a part is built from).

Reading every row to hash it costs time linear in the space's size, however little changed
(22 CPU seconds at a million messages: benchmarks/RESULTS.md). So, for a window of all
messages (no --since, --until, --days or --last) in HTML alone, a rendering records with the
digests what it saw of the archive (render/changes.py's marks), each part's months and its
share of the statistics (render/stats.py's ``part_figures``); the next one asks the archive
which days changed since (``prepare``), reads only the months those days fall in, with the two
parts before and the one after each (whose digests the changed rows' neighbours decide), as
whole threads (``Window(only=…)``), hashes those (``plan_loaded``), and adds the kept parts'
recorded figures to the loaded parts' fresh ones for the page of all parts. Anything it cannot
vouch for (no record of changes in the archive, rows deleted, other options or code) makes it
read everything (render/incremental.py's ``scan``).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from . import changes
from .clock import Clock
from .incremental import NO_MONTH, Months, Part, Plan, code_digest, neighbours, part_key, ranges
from .manifest import BUILT, CACHE, read_manifest
from .page import RenderOptions
from .query import SCHEMA_VERSION, Filters
from .stats import part_figures, summed
from .times import real
from .toc import Counts, count_months
from .window import Window


def eligible(options: RenderOptions, force_too: bool = False) -> bool:
    """Whether a rendering may take the incremental path: --split HTML alone of a window of
    all messages (a filter's bounds would make which parents show depend on rows not read),
    without --events (not in the digests), --blur (every person is in each part's inputs) or
    --force. ``force_too``: whether it may record what the next one starts from, which a
    --force rendering does too."""
    plain = Filters(sort=options.filters.sort)
    unusual = options.events or options.blur or (options.force and not force_too)
    return (
        options.split != "none"
        and options.formats == ("html",)
        and (options.filters == plain and not unusual)
    )


def basis(conn: sqlite3.Connection, space_id: str, options: RenderOptions, clock: Clock) -> str:
    """What the recorded figures and marks depend on besides the rows: the archive, the space,
    the parts, their order, the zone and the code."""
    (archive_id,) = conn.execute(
        "SELECT coalesce((SELECT value FROM meta WHERE key = 'archive_id'), '')"
    ).fetchone()
    return hashlib.blake2b(repr((
        code_digest(), SCHEMA_VERSION, archive_id, space_id, options.split,
        options.filters.sort, repr(clock.zone),
    )).encode(), digest_size=16).hexdigest()  # fmt: skip


def inputs_digest(inputs: bytes) -> str:
    return hashlib.blake2b(inputs, digest_size=16).hexdigest()


@dataclass
class Loaded:
    """An incremental rendering's reading: the ``window`` of the ``loaded`` parts' threads,
    the parts that may have changed (``dirty``), the recorded rendering (``cache``, its part
    ``keys`` in page order), and what the page of all parts shows (``stats``, ``toc``) with
    each part's ``figures`` to record again."""

    window: Window
    cache: dict
    dirty: set[str]
    loaded: set[str]
    marks: changes.Marks
    figures: dict[str, dict]
    stats: dict = field(default_factory=dict)
    toc: Counts = field(default_factory=list)


def prepare(conn: sqlite3.Connection, space_id: str, options: RenderOptions, clock: Clock,
            page: Path, exists: Callable[[str], bool]) -> Loaded | None:  # fmt: skip
    """The incremental reading of ``page``'s parts, or None when everything must be read.
    ``exists(key)``: whether a part's files are on disk (a part whose file is gone is
    written again)."""
    record = read_manifest(page)
    cache, built = record.get(CACHE), record.get(BUILT, {})
    now = changes.marks(conn)
    if not eligible(options) or now is None or not _valid(cache):
        return None
    assert cache is not None
    then = changes.Marks.from_list(cache["marks"])
    if then is None or cache["basis"] != basis(conn, space_id, options, clock):
        return None
    days = changes.changed_days(conn, space_id, then, now)
    dirty = _months(days, clock, options.split)
    keys: list[str] = cache["keys"]
    newest = options.filters.sort == "newest"
    if dirty is None or keys != sorted(keys, reverse=newest):
        return None
    dirty |= {key for key in keys if not exists(key) or f"{page.stem}-{key}.html" not in built}
    order = sorted(set(keys) | dirty, reverse=newest)
    loaded = set()
    for key in dirty:
        at = order.index(key)
        loaded.update(order[max(at - 2, 0) : at + 2])
    if NO_MONTH_KEYS & loaded:
        return None
    window = _restricted(conn, space_id, options.filters, loaded)
    result = Loaded(window, cache, dirty, loaded, now, {})
    if not _sum_up(conn, result, clock, options.split, order):
        window.close()
        return None
    return result


NO_MONTH_KEYS = {"1970", "1970-01"}  # rows without an anchor: read everything (never seen)


def _valid(cache: object) -> bool:
    """Whether a manifest's cache has the shape a rendering records (a damaged or hand-edited
    one is not used: everything is read instead)."""
    if not isinstance(cache, dict) or not isinstance(cache.get("parts"), dict):
        return False
    keys = cache.get("keys")
    return (isinstance(keys, list) and all(isinstance(k, str) for k in keys)
            and isinstance(cache.get("basis"), str) and isinstance(cache.get("inputs"), str)
            and all(_valid_part(cache["parts"].get(k)) for k in keys))  # fmt: skip


def _valid_part(part: object) -> bool:
    """A part's figures: ``months`` [[year, month, rows]...], ``authors`` (rows of 10
    values, render/stats.py's), ``files`` {kind: [count, bytes, sized, downloaded]}."""
    if not isinstance(part, dict):
        return False
    months, authors, files = part.get("months"), part.get("authors"), part.get("files")
    return (isinstance(months, list) and isinstance(authors, list) and isinstance(files, dict)
            and all(isinstance(m, list) and len(m) == 3 and all(type(v) is int for v in m)
                    for m in months)
            and all(isinstance(a, list) and len(a) == 10 for a in authors)
            and all(k in ("images", "files") and isinstance(v, list) and len(v) == 4
                    and all(type(n) is int for n in v) for k, v in files.items()))  # fmt: skip


def _months(days: set[str] | None, clock: Clock, split: str) -> set[str] | None:
    """The parts the local months of ``days`` (UTC) belong to; None for a day not a date."""
    if days is None:
        return None
    found = set()
    for day in days:
        for moment in (f"{day}T00:00:00.000Z", f"{day}T23:59:59.999Z"):
            if not real(moment):  # render/times.py
                return None
            found.add(part_key(split, *clock.month(moment)))
    return found


def _period(key: str) -> tuple[str, str]:
    """The UTC days that can hold a part's rows: its calendar period, a day more each side
    (a local month starts and ends within a day of the UTC one)."""
    year, _, month = key.partition("-")
    start = date(int(year), int(month or 1), 1)
    end = date(start.year + 1, 1, 1) if not month else (start + timedelta(days=32)).replace(day=1)
    return (str(start - timedelta(days=1)), str(end + timedelta(days=1)))


_SELECT = """
INSERT OR IGNORE INTO {table} (rid)
SELECT rowid FROM messages WHERE space_id = :space AND created >= :low AND created < :high
"""
# Whole threads: the replies of the rows read (shown under them) and every reply of the
# threads they reply in (a thread whose first message is missing is placed at its first reply).
# CROSS JOIN and ``+`` make SQLite start from the rows read, not from the space's index.
_THREADS = """
INSERT OR IGNORE INTO {table} (rid)
SELECT r.rowid FROM (
    SELECT m.id AS parent FROM {table} AS t CROSS JOIN messages AS m ON m.rowid = t.rid
    UNION SELECT m.parent_id FROM {table} AS t CROSS JOIN messages AS m ON m.rowid = t.rid
    WHERE m.parent_id IS NOT NULL
) AS k CROSS JOIN messages AS r ON r.parent_id = k.parent
WHERE +r.space_id = :space
"""


def _restricted(
    conn: sqlite3.Connection, space_id: str, filters: Filters, loaded: set[str]
) -> Window:
    """The window of the threads of the ``loaded`` parts (and some rows of their neighbours)."""
    table = "temp.incremental_rows"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (rid INTEGER PRIMARY KEY)")
    try:
        for low, high in sorted(_period(key) for key in loaded):
            conn.execute(_SELECT.format(table=table), {"space": space_id, "low": low,
                                                       "high": high})  # fmt: skip
        conn.execute(_THREADS.format(table=table), {"space": space_id})
        return Window(conn, space_id, filters, only=table)
    finally:
        conn.execute(f"DROP TABLE {table}")


def _sum_up(
    conn: sqlite3.Connection, loaded: Loaded, clock: Clock, split: str, order: list[str]
) -> bool:
    """The figures of every part (fresh for the loaded ones, recorded for the others), the
    page of all parts' statistics and contents from them; False when a part's record is
    missing."""
    window, cached = loaded.window, loaded.cache["parts"]
    spans: dict[str, tuple[int, int]] = {}
    sql = f"SELECT seq, anchor FROM {window.table} ORDER BY seq"
    months = Months(clock)
    for seq, anchor in conn.execute(sql):
        key = part_key(split, *(months.of(anchor) if anchor else NO_MONTH))
        if key in loaded.loaded:
            first = spans.get(key, (seq, seq))[0]
            spans[key] = (first, seq)
    fresh = part_figures(conn, window, spans)
    counts = count_months(window, clock)
    for key in spans:
        fresh[key]["months"] = [list(c) for c in counts if part_key(split, c[0], c[1]) == key]
    keys = [key for key in order if key in spans or key not in loaded.loaded]
    if any(key not in fresh and "authors" not in cached.get(key, {}) for key in keys):
        return False
    loaded.figures = {key: fresh.get(key) or cached[key] for key in keys}
    loaded.stats = summed(conn, window, list(loaded.figures.values()))
    loaded.toc = [tuple(m) for key in keys for m in loaded.figures[key]["months"]]
    return True


def plan_loaded(parts: dict[str, Part], keys: list[str], loaded: Loaded, built: dict[str, str],
                kept: Callable[[str], bool]) -> Plan | None:  # fmt: skip
    """Which of ``keys`` (every part, page order) to write, from the loaded rows' ``parts``:
    a part that may have changed (its rows, its neighbours, the row before it) gets its
    digest from the rows read; the others keep theirs. None when a part that may have
    changed was not read whole with the part before it (then everything is read)."""
    old = loaded.cache["keys"]
    before = {key: (old[at - 1] if at else None, old[at + 1 : at + 2])
              for at, key in enumerate(old)}  # fmt: skip
    result = Plan()
    for at, key in enumerate(keys):
        previous = keys[at - 1] if at else None
        if (
            key in loaded.dirty
            or previous in loaded.dirty
            or before.get(key) != (previous, keys[at + 1 : at + 2])
        ):
            if (
                key not in parts
                or key not in loaded.loaded
                or (previous is not None and previous not in loaded.loaded)
            ):
                return None
            parts[key].digest.update(neighbours(keys, at))
            digest = result.digests[key] = parts[key].digest.hexdigest()
            if built.get(key) != digest or not kept(key):
                result.write.add(key)
        elif key in built:
            result.digests[key] = built[key]
        else:
            return None
    result.ranges = ranges([parts[key] for key in keys if key in result.write])
    return result

"""``--split year|month``: one HTML page per year or month, an index, prev/next links.

Huge archives open faster as parts. Each part is a normal page (same template) holding the
sections of its period, its own contents and count; the index page (the usual output path)
carries the statistics and a table of contents that links into the parts. A part whose inputs
are unchanged since the last rendering is kept as it is (render/incremental.py), and so is
its search file (``<part stem>.search.js``, its own articles). The index page's search file,
written every time, holds no articles and lists the parts' files; every page's search box
loads it, so that any of them finds every part while a part names no other part.
"""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from . import changes, incremental, partial
from .clock import Clock
from .custody import sha256_of
from .html import href as quoted
from .html import write_html
from .manifest import CACHE, built_parts, read_manifest
from .model import items, sections
from .page import Page, RenderOptions, default_path
from .search_index import SearchIndex, index_path
from .stats import part_figures
from .toc import anchor


@dataclass
class Split:
    """A --split rendering's files: ``files`` every page (the index first, then each part,
    written or kept), ``written`` those written now, ``built`` each part's digest by name."""

    files: list[Path]
    written: list[Path]
    built: dict[str, str]
    cache: dict | None = field(default=None)  # what the next incremental rendering starts from
    known: dict[Path, str] = field(default_factory=dict)  # the parts' files' sha256


def prepare(
    conn: sqlite3.Connection, archive: Path, space: dict, options: RenderOptions
) -> partial.Loaded | None:
    """The incremental reading of a space's --split HTML (render/partial.py), or None."""
    if not partial.eligible(options):
        return None
    clock = Clock(options.zone or datetime.now().astimezone().tzinfo)
    path = default_path(archive, space, "html", options.output)

    def exists(part: str) -> bool:
        file = path.with_name(f"{path.stem}-{part}.html")
        return file.is_file() and index_path(file).is_file()

    return partial.prepare(conn, space["id"], options, clock, path, exists)


def write_split(page: Page, loaded: partial.Loaded | None = None) -> Split | None:
    """Write the index (``page.path``) and the parts whose inputs changed. ``loaded``: an
    incremental reading (``prepare``), ``page`` made from its window and figures; None
    when it cannot vouch for every part (then nothing is written: read everything)."""

    def key(year: int, month: int) -> str:
        return incremental.part_key(page.options.split, year, month)

    def href(part: str) -> str:
        return f"{page.path.stem}-{part}.html"

    keys = list(dict.fromkeys(key(year, month) for year, month, _ in page.toc))
    found = _plan(page, keys, href, loaded)
    if found is None:
        return None
    plan, cache = found
    stream = page.items
    if plan.ranges is not None:  # only the rows of the parts written again
        assert page.window is not None and page.context is not None
        rows = page.window.rows(avatars=page.options.avatar_files, ranges=plan.ranges)
        stream = items(rows, page.context)
    written = []
    index_file = index_path(page.path).name
    for part, group in itertools.groupby(sections(stream), lambda s: key(s.year, s.month)):
        if part not in plan.write:
            continue  # the row before a part written again: read for its header, not shown
        at = keys.index(part)
        links = {
            "index": page.path.name,
            "prev": {"href": href(keys[at - 1]), "label": keys[at - 1]} if at else None,
            "next": {"href": href(keys[at + 1]), "label": keys[at + 1]}
            if at + 1 < len(keys) else None,
        }  # fmt: skip
        piece = replace(
            page,
            path=page.path.with_name(href(part)),
            toc=[t for t in page.toc if key(t[0], t[1]) == part],
        )
        search = SearchIndex(page.title, index_file, split=True)
        search.part(piece.path.name)
        write_html(piece, chosen=group, parts=links, search=search)
        written.append(piece.path)

    def toc_href(year: int, month: int) -> str:
        return quoted(href(key(year, month))) + anchor(year, month)

    sources = [quoted(index_path(Path(href(part))).name) for part in keys]
    search = SearchIndex(page.title, index_file, sources=sources)
    write_html(replace(page, items=iter(())), chosen=[], toc_href=toc_href, search=search)
    files = [page.path, *(page.path.with_name(href(part)) for part in keys)]
    built = {href(part): digest for part, digest in plan.digests.items()}
    known: dict[Path, str] = {}
    if cache is not None:
        cache["files"] = _hashes(page.path, files[1:], set(written))
        known = {page.path.with_name(name): entry[2] for name, entry in cache["files"].items()}
    return Split(files, [page.path, *written], built, cache, known)


def _hashes(page: Path, parts: list[Path], written: set[Path]) -> dict[str, list]:
    """Each part's file and search file as ``[size, mtime_ns, sha256]``, by name, for the
    custody statement (render/custody.py), which would otherwise read every kept part again
    (half a gigabyte at a million messages). A kept file whose size and modification time
    are those the last rendering recorded keeps its recorded sha256: a file changed since
    with both kept still differs from the statement, so ``verify`` reports it."""
    before = read_manifest(page).get(CACHE, {})
    recorded = before.get("files", {}) if isinstance(before, dict) else {}
    hashes = {}
    for part in parts:
        for path in (part, index_path(part)):
            stat = path.stat()
            entry = recorded.get(path.name) if isinstance(recorded, dict) else None
            same = part not in written and isinstance(entry, list) and len(entry) == 3
            if same and entry[:2] == [stat.st_size, stat.st_mtime_ns] and isinstance(entry[2], str):
                hashes[path.name] = entry
            else:
                hashes[path.name] = [stat.st_size, stat.st_mtime_ns, sha256_of(path)]
    return hashes


def _plan(
    page: Page, keys: list[str], href, loaded: partial.Loaded | None
) -> tuple[incremental.Plan, dict | None] | None:
    """Every part, unless the page's manifest says what they were built from: then the parts
    whose inputs changed since (all of them with ``--force`` or ``--events``); and what the
    next incremental rendering starts from (None where there is none)."""
    if page.window is None or page.context is None or page.options.events:
        # --events puts joins and leaves between the rows, which the digests do not cover
        return incremental.Plan(write=set(keys)), None
    inputs = incremental.page_inputs(page)
    rows = page.window.rows(avatars=page.options.avatar_files)
    parts = incremental.scan(rows, page.context.clock, page.options.split, inputs)
    built = {} if page.options.force else built_parts(page.path)
    by_key = {part: built.get(href(part)) for part in keys}
    folder = page.path.parent

    def kept(part: str) -> bool:
        path = folder / href(part)
        return path.is_file() and index_path(path).is_file()

    if loaded is None:
        plan = incremental.plan(parts, keys, by_key, kept)
        return plan, _cache(page, parts, keys, inputs)
    if partial.inputs_digest(inputs) != loaded.cache["inputs"]:
        return None
    plan = partial.plan_loaded(parts, keys, loaded, by_key, kept)
    if plan is None:
        return None
    return plan, _record(page, loaded.marks, keys, inputs, loaded.figures)


def _cache(page: Page, parts: dict, keys: list[str], inputs: bytes) -> dict | None:
    """What the next incremental rendering starts from, after a rendering that read every
    row: each part's figures (one more pass of SQL over the window), the archive's marks."""
    assert page.window is not None and page.conn is not None
    marks = changes.marks(page.conn)
    if (
        not partial.eligible(page.options, force_too=True)
        or marks is None
        or (set(parts) != set(keys))
    ):
        return None
    spans = {key: (parts[key].first, parts[key].last) for key in keys}
    figures = part_figures(page.conn, page.window, spans)
    split = page.options.split
    for key, entry in figures.items():
        entry["months"] = [[y, m, n] for y, m, n in page.toc
                           if incremental.part_key(split, y, m) == key]  # fmt: skip
    return _record(page, marks, keys, inputs, figures)


def _record(page: Page, marks: changes.Marks, keys: list[str], inputs: bytes,
            figures: dict[str, dict]) -> dict:  # fmt: skip
    assert page.conn is not None
    return {
        "basis": partial.basis(page.conn, page.space["id"], page.options, page.clock),
        "inputs": partial.inputs_digest(inputs),
        "marks": marks.as_list(),
        "keys": keys,
        "parts": {key: {name: figures[key][name] for name in ("months", "authors", "files")}
                  for key in keys},
    }  # fmt: skip

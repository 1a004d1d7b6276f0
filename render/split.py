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
from dataclasses import dataclass, replace
from pathlib import Path

from . import incremental
from .html import href as quoted
from .html import write_html
from .manifest import built_parts
from .model import items, sections
from .page import Page
from .search_index import SearchIndex, index_path
from .toc import anchor


@dataclass
class Split:
    """A --split rendering's files: ``files`` every page (the index first, then each part,
    written or kept), ``written`` those written now, ``built`` each part's digest by name."""

    files: list[Path]
    written: list[Path]
    built: dict[str, str]


def write_split(page: Page) -> Split:
    """Write the index (``page.path``) and the parts whose inputs changed."""

    def key(year: int, month: int) -> str:
        return incremental.part_key(page.options.split, year, month)

    def href(part: str) -> str:
        return f"{page.path.stem}-{part}.html"

    keys = list(dict.fromkeys(key(year, month) for year, month, _ in page.toc))
    plan = _plan(page, keys, href)
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
    return Split(files, [page.path, *written], built)


def _plan(page: Page, keys: list[str], href) -> incremental.Plan:
    """Every part, unless the page's manifest says what they were built from: then the parts
    whose inputs changed since (all of them with ``--force`` or ``--events``)."""
    if page.window is None or page.context is None or page.options.events:
        # --events puts joins and leaves between the rows, which the digests do not cover
        return incremental.Plan(write=set(keys))
    inputs = incremental.page_inputs(page)
    rows = page.window.rows(avatars=page.options.avatar_files)
    parts = incremental.scan(rows, page.context.clock, page.options.split, inputs)
    built = {} if page.options.force else built_parts(page.path)
    by_key = {part: built.get(href(part)) for part in keys}
    folder = page.path.parent

    def kept(part: str) -> bool:
        path = folder / href(part)
        return path.is_file() and index_path(path).is_file()

    return incremental.plan(parts, keys, by_key, kept)

"""``--split year|month``: one HTML page per year or month, an index, prev/next links.

Huge archives open faster as parts. Each part is a normal page (same template) holding the
sections of its period; the index page (the usual output path) carries the statistics and a
table of contents that links into the parts. All of them share one search file (the index
page's name, ``.search.js``), so that the search box of any of them finds every part.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

from .html import href as quoted
from .html import write_html
from .model import sections
from .page import Page
from .search_index import SearchIndex, index_path
from .toc import anchor


def write_split(page: Page) -> list[Path]:
    """Write the parts and the index (``page.path``); return every file written."""

    def key(year: int, month: int) -> str:
        return f"{year:04d}" if page.options.split == "year" else f"{year:04d}-{month:02d}"

    def href(part: str) -> str:
        return f"{page.path.stem}-{part}.html"

    keys = list(dict.fromkeys(key(year, month) for year, month, _ in page.toc))
    written = []
    search = SearchIndex(page.title, index_path(page.path).name)  # one for all the parts
    for part, group in itertools.groupby(sections(page.items), lambda s: key(s.year, s.month)):
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
        search.part(piece.path.name)
        write_html(piece, chosen=group, parts=links, search=search)
        written.append(piece.path)

    def toc_href(year: int, month: int) -> str:
        return quoted(href(key(year, month))) + anchor(year, month)

    search.current = -1
    write_html(replace(page, items=iter(())), chosen=[], toc_href=toc_href, search=search)
    search.write(index_path(page.path), page.root)
    return [page.path, *written]

"""The HTML writer: one self-contained page (CSS and JS inline), streamed to disk.

jinja2 renders the template lazily (``Template.generate``) while the Items stream from
SQLite, so a million-message page costs no more memory than a small one. Autoescaping is on;
the only raw HTML is message bodies, which the render/sanitize package has cleaned.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterable
from datetime import tzinfo
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from .article import Articles, Clean, domain, hue
from .clock import parse_utc, when
from .model import Section, attachment_summary, initials, sections
from .output import open_output
from .page import Page
from .sanitize import strip_unsafe
from .search_index import SearchIndex, index_path
from .times import real
from .toc import anchor, years
from .version import VERSION


def href(path: str) -> str:
    """A relative link to a file we named (a --split part): percent-encoded, since a name may
    hold spaces, ``#``, ``%`` or ``[`` that an ``href`` may not carry as they are."""
    return quote(path, safe="/")


def finalize(value: object) -> object:
    """Every value a template prints loses NUL, other controls and bidi overrides first.

    Names and titles are cleaned where they are read (model.py, page.py), but emails, domains
    and settings come from other places; doing it here too makes it true of the whole page.
    Markup (sanitised message bodies) stays Markup: removing characters adds no tags. The
    articles (render/article.py) cleaned each of their values already.
    """
    if isinstance(value, Clean):
        return value
    if isinstance(value, Markup):
        return Markup(strip_unsafe(str(value)))
    if isinstance(value, str):
        return strip_unsafe(value)
    return value


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment, built once: compiling the template for each of a --split
    rendering's hundreds of parts cost more than writing them."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("render", "templates"),
        autoescape=True,
        trim_blocks=False,
        undefined=jinja2.StrictUndefined,
        finalize=finalize,
    )
    env.filters.update(when=when, hue=hue, initials=initials, domain=domain, href=href)
    return env


def settings(page: Page) -> list[tuple[str, str]]:
    """The header's lines: how this page was made."""
    options = page.options
    zone = options.zone_name or str(page.generated_at.tzinfo)
    return [
        ("Generated", when(page.generated_at)),
        ("by", page.me_name or "unknown"),
        ("Messages", options.filters_text),
        ("Order", "oldest first" if options.filters.sort == "oldest" else "newest first"),
        ("Time zone", zone),
        ("Avatars", options.avatars),
        ("Names", "hidden (blurred)" if options.blur else "shown"),
        ("Space type", page.space["type"] or "?"),
    ]


def numbers(stats: dict, zone: tzinfo) -> list[tuple[str, str]]:
    """The statistics block as (label, value) rows, times in the page's zone."""

    def moment(text: str | None) -> str:
        return when(parse_utc(text).astimezone(zone)) if real(text) else "–"

    rows = [
        ("Messages shown", f"{stats['in_window']:,}"),
        ("Messages in the archive", f"{stats['in_archive']:,}"),
        ("Thread replies", f"{stats['replies']:,}"),
        ("Members", f"{stats['members']:,}"),
        ("Active authors", f"{stats['authors']:,}"),
        ("@mentions", f"{stats['mentions']:,} people, {stats['group_mentions']:,} @all"),
        ("Edited · deleted", f"{stats['edited']:,} · {stats['deleted']:,}"),
    ]
    rows.append(("Images", attachment_summary(stats["images"], " · ")))
    rows.append(("Files", attachment_summary(stats["files"], " · ")))
    rows.append(("First message", moment(stats["first_message"])))
    rows.append(("Last message", moment(stats["last_message"])))
    rows.append(("Last synced", moment(stats["last_synced"]) if stats["last_synced"] else "never"))
    return rows


def write_html(
    page: Page,
    chosen: Iterable[Section] | None = None,
    parts: dict | None = None,
    toc_href: Callable[[int, int], str] = anchor,
    search: SearchIndex | None = None,
) -> None:
    """Stream the page to ``page.path`` and its search file beside it; --split passes its
    ``chosen`` sections, ``parts`` links (prev, next, index), where the table of contents
    points, and the page's ``search`` (render/split.py says what each page's file holds). A
    whole page's search file holds its own articles.

    A part shows its own months and count, not the whole space's numbers: those change with
    every new message, and a part must change only when its own messages do (render/split.py
    keeps the parts whose inputs are unchanged)."""
    if search is None:
        search = SearchIndex(page.title, index_path(page.path).name)
        search.part(page.path.name)
    template = environment().get_template("page.html.j2")
    stream = template.generate(
        title=page.title, version=VERSION, theme=page.options.theme,
        avatars=page.options.avatars, nonce=secrets.token_urlsafe(16),
        settings=settings(page), stats=page.stats,
        numbers=numbers(page.stats, page.generated_at.tzinfo),
        toc=years(page.toc, toc_href), sort=page.options.filters.sort, parts=parts,
        sections=chosen if chosen is not None else sections(page.items),
        articles=Articles(page.clock, search.add).chunks, home=page.home,
        shown=sum(count for _, _, count in page.toc) if parts else page.stats["in_window"],
        search_file=search.file_name,
    )  # fmt: skip
    with open_output(page) as out:
        for chunk in stream:
            out.write(chunk)
    search.write(index_path(page.path), page.root)

"""The HTML of each message (``<article>``), written in Python rather than by the template.

The page frame stays a jinja2 template (page.html.j2); the articles are most of the page, and
rendering each through jinja2 (an attribute lookup, ``finalize`` and ``escape`` per printed
value) cost more than everything else of a message. Here each untrusted value gets exactly
what the template gave it, ``escape(strip_unsafe(value))``; a message body is sanitised HTML
and gets ``strip_unsafe`` only, as the template's ``| safe`` did. An author's avatar and name
are the same on every message they wrote, so that part is made once per author.

A change to a message's markup goes here, not into page.html.j2. There are no line breaks
between the tags of a message: each would be a text node, a third of all the page's nodes, and
the browser parses, styles and lays out every one (issue 7: 2.25 million nodes for 100,000
messages, 1.52 million without them). Articles go in runs of RUN, each a ``<div class="run">``
whose rendering the browser skips while it is away from the viewport (style.css).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator

from markupsafe import Markup, escape

from .clock import Clock
from .events import KINDS, change_line
from .model import Item, initials
from .sanitize import strip_unsafe

RUN = 100  # articles per <div class="run">, the piece handed to the template


class Clean(Markup):
    """Markup whose every value was cleaned already: ``finalize`` passes it through."""

    __slots__ = ()


def text(value: object) -> str:
    """A value printed as the template did: controls and bidi overrides gone, then escaped."""
    return str(escape(strip_unsafe(value) if isinstance(value, str) else value))


def hue(person_id: str | None) -> int:
    """A stable colour (one of 12) per person, so initials avatars are told apart."""
    return hashlib.sha1((person_id or "").encode()).digest()[0] % 12


def domain(email: str) -> str:
    return email.rsplit("@", 1)[-1] if "@" in email else email


_PLACEHOLDER = (
    "<p>The message that started this thread is not in the archive (deleted in Webex, or "
    "older than the synced history).</p></article>"
)
_OUTSIDE = ' <span class="badge">outside the selected window</span>'
_NO_TIME = '<span class="marker">time not known</span>'  # see render/times.py


class Articles:
    """Turns Items into ``<article>`` HTML, remembering each author's part; ``seen`` hears
    of each item as its article is made (the search file's collector)."""

    def __init__(self, clock: Clock, seen: Callable[[Item], None] | None = None):
        self.clock = clock
        self.seen = seen
        self.authors: dict[tuple, str] = {}

    def chunks(self, stream: Iterable[Item]) -> Iterator[Clean]:
        """The articles of ``stream`` in runs of RUN, for the template to print."""
        piece: list[str] = ['<div class="run">']
        seen = self.seen
        for item in stream:
            piece.append(self.article(item))
            if seen is not None:
                seen(item)
            if len(piece) > RUN:
                piece.append("</div>\n")
                yield Clean("".join(piece))
                piece = ['<div class="run">']
        if len(piece) > 1:
            piece.append("</div>\n")
            yield Clean("".join(piece))

    def article(self, item: Item) -> str:
        if item.kind == "placeholder":
            return f'<article class="msg placeholder" id="msg-{text(item.id)}">{_PLACEHOLDER}'
        clock = self.clock
        if item.kind in KINDS:  # render --events: a member joined or left
            return (
                f'<article class="msg membership" id="ev-{text(item.id)}"><time datetime="'
                f'{clock.iso_ms(item.created)}">{clock.when(item.created)}</time> '
                f"{text(change_line(item))}</article>"
            )
        classes = (
            (" reply" if item.is_reply else "")
            + ("" if item.in_window else " context")
            + (" deleted" if item.deleted else "")
        )
        parts = [f'<article class="msg{classes}" id="msg-{text(item.id)}">']
        created = item.created
        if created is None:  # not a real time in the archive (render/times.py): none shown
            stamp, shown = "", _NO_TIME
        else:
            stamp = clock.iso_ms(created)
            shown = f'<time datetime="{stamp}">{clock.when(created)}</time>'
        if item.group_start:  # always, for a message without a time (model's _starts_group)
            outside = "" if item.in_window else _OUTSIDE
            parts.append(f"{self.author(item)} {shown}{outside}</header>")
        parts.append('<div class="content">')
        if not item.group_start:
            parts.append(
                f'<time class="marker" datetime="{stamp}">{clock.clock(item.created)}</time>'
            )
        if item.card:
            parts.append('<p class="card">card: not shown</p>')
        parts.append(f'<div class="body">{strip_unsafe(item.body)}</div>')
        if item.files:
            parts.append(files(item.files))
        if item.updated:
            parts.append(f'<span class="marker">edited {clock.when(item.updated)}</span>')
        if item.deleted:
            when = clock.when(item.deleted)
            parts.append(  # the space parts it from "edited …"
                f' <span class="marker">deleted in Webex {when}; kept by the archive</span>'
                if item.deleted_exact
                else f' <span class="marker">deleted in Webex (noticed {when}); '
                "kept by the archive</span>"
            )
        parts.append("</div></article>")
        return "".join(parts)

    def author(self, item: Item) -> str:
        """Avatar and name, up to the time: the same for all of an author's messages."""
        key = (item.author_id, item.author, item.email, item.external, item.avatar)
        found = self.authors.get(key)
        if found is None:
            if item.avatar:
                avatar = f'<img class="avatar" src="{text(item.avatar)}" alt="" loading="lazy">'
            else:
                avatar = (
                    f'<span class="avatar hue-{hue(item.author_id)}" aria-hidden="true">'
                    f"{text(initials(item.author))}</span>"
                )
            external = (
                f' <span class="external">@{text(domain(item.email))}</span>'
                if item.external
                else ""
            )
            found = self.authors[key] = (
                f'{avatar}<header><span class="author" title="{text(item.email)}">'
                f"{text(item.author)}</span>{external}"
            )
        return found


def files(infos: list[dict]) -> str:
    """The attachment list: images as thumbnails that open the viewer, other files linked."""
    parts = ['<ul class="files">']
    for info in infos:
        name, href, size = text(info["name"]), info["href"], text(info["size_text"])
        if info["image"] and href:
            href = text(href)
            parts.append(
                f'<li><figure class="image"><button type="button" class="thumb" '
                f'data-full="{href}" data-name="{name}"><img src="{href}" alt="{name}" '
                f'loading="lazy"></button><figcaption>{name} · {size}</figcaption></figure></li>'
            )
            continue
        link = f'<a href="{text(href)}">{name}</a>' if href else f"<span>{name}</span>"
        label = f' <span class="label">{text(info["label"])}</span>' if info["label"] else ""
        parts.append(
            f'<li><span class="file-icon" aria-hidden="true"></span>{link} '
            f'<span class="size">{size}</span>{label}</li>'
        )
    parts.append("</ul>")
    return "".join(parts)

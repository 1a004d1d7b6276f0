"""Message bodies (safe HTML, plain text), made on the second core when a space is large.

Sanitising and escaping bodies is about half the CPU time of an HTML or JSON rendering, and
it is a pure function of each row's ``html`` and ``text``. So for a space of more than one
chunk of rows, one worker process makes the bodies of chunk after chunk while this process
reads the rows, builds the items and writes them; the results come back in order, so the
output is the same bytes as in-process. At most ``AHEAD`` chunks are in flight: memory
stays flat for any window. Small spaces, a one-core machine, the transcript (which needs
no HTML), or where forking is unsafe (macOS, Windows, a process with threads: see
``render/worker.py``, which also makes sure the worker never outlives the render) stay
in-process: a worker would cost more than it saves. A spawned worker, the alternative to
forking, imports everything again: 0.39 s measured on Linux against 0.11 s for a chunk of
bodies, so it would pay only on spaces several chunks larger, and it is not done.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from .sanitize import message_html, redact, redact_html, strip_tags, text_html
from .worker import Worker, can_fork

CHUNK = 2000  # rows per task: large enough that pickling stays a small part of a task
AHEAD = 3  # chunks in flight (being read, waiting, being made)

Bodies = list[tuple[str, str]]


def body(html: str | None, text: str | None, replacements: dict[str, str] | None,
         want_html: bool, want_plain: bool) -> tuple[str, str]:  # fmt: skip
    """(safe HTML, plain text) of a message: Webex's html sanitised, else its text escaped.
    Only what the writer uses is made; the other is ""."""
    if replacements and text:
        text = redact(text, replacements)
    if html:
        if not want_html and text is not None:
            return "", text
        safe = message_html(html)
        if replacements:
            safe = redact_html(safe, replacements)
        plain = "" if not want_plain else text if text is not None else strip_tags(safe)
        return (safe if want_html else ""), plain
    return (text_html(text) if text and want_html else ""), text or ""


def _chunk_bodies(sources: list[tuple[str | None, str | None]], replacements: dict | None,
                  want_html: bool, want_plain: bool) -> Bodies:  # fmt: skip
    """The bodies of one chunk (in the worker)."""
    return [body(html, text, replacements, want_html, want_plain) for html, text in sources]


def _chunks(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def with_bodies(rows: Iterable[tuple], columns: tuple[int, int],
                replacements: dict[str, str] | None, want_html: bool,
                want_plain: bool) -> Iterator[tuple[tuple, tuple[str, str]]]:  # fmt: skip
    """Each row with its (safe HTML, plain text), in order; ``columns``: the positions of
    ``html`` and ``text`` in a row (a placeholder's are None: it gets ("", ""))."""
    html_at, text_at = columns
    if want_plain and not want_html and not replacements:  # RSMF, TXT, Slack without --blur
        for row in rows:
            text = row[text_at]  # body's answer wherever there is one; else made by body
            yield row, ("", text) if text is not None else body(row[html_at], None, None,
                                                                 False, True)  # fmt: skip
        return
    options = (replacements, want_html, want_plain)
    if not (want_html and can_fork()):
        for row in rows:
            yield row, body(row[html_at], row[text_at], *options)
        return
    chunks = _chunks(rows)
    first = next(chunks, [])
    if len(first) < CHUNK:  # the whole window: not worth a worker
        for row in first:
            yield row, body(row[html_at], row[text_at], *options)
        return
    jobs = (
        (chunk, ([(row[html_at], row[text_at]) for row in chunk], *options))
        for chunk in itertools.chain([first], chunks)
    )
    with Worker(_chunk_bodies) as worker:
        for chunk, bodies in worker.map(jobs, AHEAD):
            yield from zip(chunk, bodies, strict=True)

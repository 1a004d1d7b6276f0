"""Message bodies (safe HTML, plain text), made on the second core when a space is large.

Sanitising and escaping bodies is about half the CPU time of an HTML or JSON rendering, and
it is a pure function of each row's ``html`` and ``text``. So for a space of more than one
chunk of rows, one worker process makes the bodies of chunk after chunk while this process
reads the rows, builds the items and writes them; the results come back in order, so the
output is the same bytes as in-process. At most ``AHEAD`` chunks are in flight: memory
stays flat for any window. Small spaces, a one-core machine, the transcript (which needs
no HTML), or a platform without ``fork`` stay in-process: starting a worker would cost more.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from .sanitize import message_html, redact, redact_html, strip_tags, text_html

CHUNK = 2000  # rows per task: large enough that pickling stays a small part of a task
AHEAD = 3  # chunks in flight (being read, waiting, being made)
PARENT_CHECK_SECONDS = 0.5  # how soon a worker whose render was killed ends

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


def _fork_context() -> multiprocessing.context.BaseContext | None:
    """``fork`` where it exists (the worker inherits the loaded modules: no start-up cost),
    and only from a single-threaded process: a fork copies locks another thread may hold."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    if threading.active_count() > 1:
        return None
    return multiprocessing.get_context("fork")


def _exit_with(parent: int) -> None:
    """In the worker: end when the render that forked it is gone. Killed (``kill -9``, the
    OOM killer), the render cannot stop its worker, and the worker, holding a copy of every
    pipe the render had, would wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def with_bodies(rows: Iterable[tuple], columns: tuple[int, int],
                replacements: dict[str, str] | None, want_html: bool,
                want_plain: bool) -> Iterator[tuple[tuple, tuple[str, str]]]:  # fmt: skip
    """Each row with its (safe HTML, plain text), in order; ``columns``: the positions of
    ``html`` and ``text`` in a row (a placeholder's are None: it gets ("", ""))."""
    html_at, text_at = columns
    options = (replacements, want_html, want_plain)
    context = _fork_context() if want_html else None
    if context is None:
        for row in rows:
            yield row, body(row[html_at], row[text_at], *options)
        return
    chunks = _chunks(rows)
    first = next(chunks, [])
    if len(first) < CHUNK:  # the whole window: not worth a worker
        for row in first:
            yield row, body(row[html_at], row[text_at], *options)
        return
    pending: deque[tuple[list[tuple], Future[Bodies]]] = deque()
    parent = (os.getpid(),)
    with ProcessPoolExecutor(1, context, initializer=_exit_with, initargs=parent) as pool:
        for chunk in itertools.chain([first], chunks):
            sources = [(row[html_at], row[text_at]) for row in chunk]
            pending.append((chunk, pool.submit(_chunk_bodies, sources, *options)))
            if len(pending) >= AHEAD:
                done, future = pending.popleft()
                yield from zip(done, future.result(), strict=True)
        while pending:
            done, future = pending.popleft()
            yield from zip(done, future.result(), strict=True)

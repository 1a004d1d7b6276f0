"""Bytes from the network to a file on disk, safely: shared by attachments and avatars.

``etl.files.downloads`` (attachments) and ``etl.files.avatars`` both stream a body into a temporary
file in the folder it will end up in, check every path stays inside the space folder (names come
from the API and are hostile), fetch a body cut short again after a backoff, and run their GETs in a
few threads with results handed back in job order. Those shared pieces live here; the archive's
rules for paths and temporary files are ``webex_layout``'s, which render follows too.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import requests
from sqlite_utils import Database

from etl.files.attachments import info_from_headers
from webex_layout import new_temp, space_dir

BODY_TRIES = 3  # attempts when the connection drops mid-body
BODY_BACKOFF, BODY_BACKOFF_CAP = 0.5, 5.0  # seconds before the 2nd attempt, doubling; cap
CHUNK_BYTES = 256 * 1024
WINDOW = 8  # jobs queued per worker: a slow one delays the results after it, not the work
T, R = TypeVar("T"), TypeVar("R")


class ShortBody(Exception):
    """The body ended before its Content-Length: the connection dropped mid-body."""


def space_folder(db: Database, space_id: str, archive_dir: Path) -> tuple[str, Path]:
    """(spaces.folder, its path inside ``archive_dir``); the sync chooses the folder."""
    row = db.conn.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()
    if row is None or not row[0]:
        raise ValueError(f"space {space_id} has no folder in the archive yet: sync it first")
    return row[0], space_dir(Path(archive_dir), row[0])


def save_body(response: requests.Response, folder: Path) -> tuple[Path, str, int]:
    """Stream a body into a new temporary file in ``folder``: (its path, sha256 hex, bytes).
    Fewer bytes than Content-Length raise ShortBody; on any exception the file is removed."""
    out, temp = new_temp(folder)
    digest, size = hashlib.sha256(), 0
    try:
        with out:
            for chunk in response.iter_content(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        expected = info_from_headers(response.headers).size
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if expected is not None and encoding in ("", "identity") and size != expected:
            raise ShortBody(f"the body ended after {size} of {expected} bytes")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, digest.hexdigest(), size


def body_backoff(attempt: int) -> float:
    """Seconds to wait after the ``attempt``-th interrupted body (1, 2, …)."""
    return min(BODY_BACKOFF * 2 ** (attempt - 1), BODY_BACKOFF_CAP)


def run_in_threads(
    work: Callable[[T], R], jobs: Iterable[T], workers: int, discard: Callable[[R], None]
) -> Iterator[R]:
    """``work(job)`` in ``workers`` threads, results in job order (so names and the copy kept of
    identical bytes do not depend on timing), ``WINDOW * workers`` queued. Stopped early, it
    cancels what has not started and passes results not handed out to ``discard``."""
    queue: deque[Future[R]] = deque()
    pool = ThreadPoolExecutor(max(workers, 1), thread_name_prefix="download")
    try:
        for job in jobs:
            queue.append(pool.submit(work, job))
            if len(queue) >= WINDOW * max(workers, 1):
                yield queue.popleft().result()
        while queue:
            yield queue.popleft().result()
    finally:
        for future in queue:
            future.cancel()
        pool.shutdown(wait=True)
        for future in queue:
            if not future.cancelled() and future.exception() is None:
                discard(future.result())

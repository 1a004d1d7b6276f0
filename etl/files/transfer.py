"""Bytes from the network to a file on disk, safely: shared by attachments and avatars.

``etl.files.downloads`` (attachments) and ``etl.files.avatars`` both stream a body into a temporary
file in the folder it will end up in, check every path stays inside the space folder (names come
from the API and are hostile), fetch a body cut short again after a backoff, and run their GETs in a
few threads with results handed back in job order. Those shared pieces live here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import requests
from sqlite_utils import Database

from etl.files.attachments import info_from_headers

BODY_TRIES = 3  # attempts when the connection drops mid-body
BODY_BACKOFF, BODY_BACKOFF_CAP = 0.5, 5.0  # seconds before the 2nd attempt, doubling; cap
CHUNK_BYTES = 256 * 1024
WINDOW = 8  # jobs queued per worker: a slow one delays the results after it, not the work
TEMP_PREFIX, TEMP_SUFFIX = ".download-", ".part"
T, R = TypeVar("T"), TypeVar("R")


class ShortBody(Exception):
    """The body ended before its Content-Length: the connection dropped mid-body."""


class UnsafePath(ValueError):
    """A path that would leave the folder it must stay in."""


def check_inside(path: Path, root: Path) -> Path:
    """``path``, once checked to resolve (symlinks followed) strictly inside ``root``."""
    if root.resolve() not in path.resolve().parents:
        raise UnsafePath(f"{path} is not inside {root}: not written")
    return path


def space_folder(db: Database, space_id: str, archive_dir: Path) -> tuple[str, Path]:
    """(spaces.folder, its path inside ``archive_dir``); the sync chooses the folder."""
    row = db.conn.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()
    if row is None or not row[0]:
        raise ValueError(f"space {space_id} has no folder in the archive yet: sync it first")
    return row[0], check_inside(Path(archive_dir) / row[0], Path(archive_dir))


def remove_stale_parts(folder: Path) -> None:
    """Delete temporary files a killed run left behind (only our own ``.download-*.part``)."""
    if folder.is_dir():
        for stale in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            stale.unlink(missing_ok=True)


def save_body(response: requests.Response, folder: Path) -> tuple[Path, str, int]:
    """Stream a body into a new temporary file in ``folder``: (its path, sha256 hex, bytes).
    Fewer bytes than Content-Length raise ShortBody; on any exception the file is removed."""
    handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    temp, digest, size = Path(name), hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "wb") as out:
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

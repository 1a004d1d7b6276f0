"""One sync at a time per archive: an exclusive lock on ``archive.lock``, held for the run.

SQLite serialises single transactions, but a sync is more than one: two syncs on one archive
would each trust their own idea of the coverage spans (one deleting a span the other is still
extending), both mark the other's run as interrupted, and both choose the same free file
names for different downloads. So the second sync refuses at once, in one line, rather than
wait: a cron job that overlaps a long run should not queue up behind it.

The lock is ``flock`` (``msvcrt.locking`` on Windows) on a file beside ``archive.db``: the
kernel drops it when the process ends, ``kill -9`` included, so a crash never leaves a stale
lock behind. The pid written into the file only serves the message. Readers (render, status)
take no lock: WAL gives them a consistent snapshot while a sync writes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sqlite_utils import Database

from webex_layout import LOCK_NAME, same_file, try_lock

from .database import ArchiveError
from .database import _archive_dir as archive_file


class ArchiveBusy(ArchiveError):
    """Another process is syncing into the same archive."""


def lock_path(db: Database) -> Path | None:
    """``archive.lock`` beside the database file (None for an in-memory database)."""
    for _, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main" and file:
            return Path(file).parent / LOCK_NAME
    return None


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """The sync lock of the archive in ``folder``, taken BEFORE the archive is opened: two
    syncs racing to create a new archive must meet this lock (one clear line), not SQLite's
    while the other one creates the schema. Creates the folder if needed (one-line errors)."""
    with _holding(archive_file(Path(folder)).parent / LOCK_NAME):
        yield


@contextlib.contextmanager
def archive_lock(db: Database) -> Iterator[None]:
    """Hold the archive's sync lock for the block, or raise ArchiveBusy (one line) at once."""
    path = lock_path(db)
    if path is None:
        yield
        return
    with _holding(path):
        yield


@contextlib.contextmanager
def _holding(path: Path) -> Iterator[None]:
    """The lock at ``path`` for the block.

    The file is removed when the block ends, so that an idle archive folder holds only the
    archive; removal happens while the lock is still held, and a locker checks that the file
    it locked is still the one at the path (else it locked a removed file and tries again).
    """
    handle = _locked(path)
    try:
        with contextlib.suppress(OSError):  # the pid is only for the message: best effort
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        handle.close()


def _locked(path: Path) -> IO[str]:
    """The lock file at ``path``, opened and locked; ArchiveBusy if another process has it."""
    while True:
        try:
            handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 (the caller closes it)
        except OSError as error:
            raise ArchiveError(
                f"cannot create {path} ({error.strerror}): check the archive folder's "
                "permissions and that its file system is writable"
            ) from None
        if not try_lock(handle):
            holder = _holder(handle)
            handle.close()
            raise ArchiveBusy(
                f"another sync is running on the archive {path.parent} (pid {holder}); wait for "
                "it to finish or use another --archive"
            )
        if same_file(handle, path):
            return handle
        handle.close()  # removed by its last holder after we opened it: lock the new one


def _holder(handle: IO[str]) -> str:
    """The pid the holder wrote, or "unknown" (not written yet, or unreadable while locked)."""
    try:
        handle.seek(0)
        return handle.read(20).strip() or "unknown"
    except OSError:
        return "unknown"

"""One non-blocking exclusive lock on an open file, on POSIX and on Windows.

The kernel drops the lock when the process ends, ``kill -9`` included: a lock is how one
process tells another that it is alive and using a file (the sync's ``archive.lock``, a
temporary file still being written).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

try:  # POSIX
    import fcntl

    def try_lock(handle: IO) -> bool:
        """Take the exclusive lock without waiting; False if another process holds it."""
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

except ImportError:  # Windows
    import msvcrt

    def try_lock(handle: IO) -> bool:
        """Take the exclusive lock without waiting; False if another process holds it."""
        try:
            handle.seek(0)  # the first byte is the lock
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True


def same_file(handle: IO, path: Path) -> bool:
    """Whether ``handle`` is still the file at ``path``: a lock taken on a file that another
    process removed (or replaced) meanwhile protects nothing."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except OSError:
        return False

"""A large output hashed and synced to disk behind its writer, for the custody statement.

The custody statement (render/custody.py) gives the sha256 of every file a render writes,
and webex_layout's ``atomic_write`` syncs each to disk before renaming it. For the large
single files the mail formats write (render/mbox.py's mbox, render/eml_zip.py's ZIP: 150 MB
at 100,000 messages) both came after the write, one after the other, with a core idle:
reading the file back to hash it (0.13 s) and the fsync (0.14 s). So once the bulk of such a
file is written (its parts copied in), two threads take that bulk while the writer writes
the rest (the ZIP's central directory: 0.1-0.16 s): one hashes it, read back with
``os.pread`` from the page cache (hashlib lets other threads run while it hashes a large
buffer), one syncs it to disk (``fdatasync``: the fsync at the end then writes only what
came after). ``digest`` hashes the rest here, once the writer is done, and the writer hands
the digest to the statement (``Page.digests``), which then does not read the file again.

The threads end before ``digest`` returns and before the block is left however it is left:
the next space may fork its sinks (render/worker.py's ``can_fork`` wants one thread).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator

CHUNK = 1 << 20  # bytes hashed at a time: large enough that hashlib releases the GIL
_FLUSH = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


class Settling:
    """The first ``end`` bytes of the file ``fd`` (open for reading too: webex_layout's
    ``new_temp`` is) hashed and synced in two threads; ``digest`` adds the rest."""

    def __init__(self, fd: int, end: int):
        self.fd, self.end = fd, end
        self.hash = hashlib.sha256()
        self.error: OSError | None = None
        self.threads = [
            threading.Thread(target=work, name=f"output-{work.__name__[1:]}", daemon=True)
            for work in (self._hash, self._sync)
        ]
        for thread in self.threads:
            thread.start()

    def digest(self) -> str:
        """The sha256 of the whole file as it is now (the writer has written its last byte)."""
        self.join()
        if self.error is not None:
            raise self.error
        _hash_range(self.fd, self.end, os.fstat(self.fd).st_size, self.hash)
        return self.hash.hexdigest()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()

    def _hash(self) -> None:
        try:
            _hash_range(self.fd, 0, self.end, self.hash)
        except OSError as error:  # an unreadable file: ``digest`` says so
            self.error = error

    def _sync(self) -> None:
        # Only a head start: the fsync at the end (atomic_write's) is the one that vouches
        # for the file, and reports a failure of the disk.
        with contextlib.suppress(OSError):
            _FLUSH(self.fd)


@contextlib.contextmanager
def settling(fd: int, end: int) -> Iterator[Settling]:
    """A ``Settling`` of the first ``end`` bytes of ``fd``, its threads ended when the block
    is left."""
    behind = Settling(fd, end)
    try:
        yield behind
    finally:
        behind.join()


def _hash_range(fd: int, start: int, end: int, into: hashlib._Hash) -> None:
    """Bytes ``start`` to ``end`` of the file ``fd`` into ``into``, read where they are
    (``pread``: the writer's position in the file is not moved)."""
    while start < end:
        chunk = os.pread(fd, min(CHUNK, end - start), start)
        if not chunk:
            raise OSError(f"the output ended at {start:,} bytes while it was hashed: render again")
        into.update(chunk)
        start += len(chunk)

"""Writing a file so that it is never seen half-written, by a reader, a kill or a rival.

Every output goes to a temporary file of its own (a unique name in the same folder, so that
the final rename is atomic), is flushed to disk, and only then renamed over the final name:
killed at any instant, the final name holds the previous complete file or the new one, and
two processes writing the same file each rename a whole file of their own (the last one
wins). A temporary file is locked while its writer lives, so that ``remove_leftovers`` removes
only what a killed process left (recognisable by TEMP_PREFIX and TEMP_SUFFIX), never a file a
concurrent writer is still filling.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

from .inside import check_inside
from .locks import same_file, try_lock

TEMP_PREFIX, TEMP_SUFFIX = ".webex-archive-", ".part"
WINDOWS = os.name == "nt"


def new_temp(folder: Path) -> tuple[BinaryIO, Path]:
    """A new, empty temporary file in ``folder``, open for writing and locked: (file, path).
    Its descriptor is mkstemp's, open for reading too (render/settle.py reads it back).

    The lock is taken after the name exists, so a cleaner may have removed the file in
    between: then it is made again."""
    while True:
        handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
        out = os.fdopen(handle, "wb")
        if try_lock(out) and same_file(out, Path(name)):
            return out, Path(name)
        out.close()


def remove_leftovers(folder: Path) -> None:
    """Delete the temporary files killed writers left in ``folder``: those nobody holds."""
    if not folder.is_dir():
        return
    # The names are picked while the folder streams by (scandir): glob would first hold every
    # entry of a folder of a million mails (EML's).
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.startswith(TEMP_PREFIX)]
    for stale in (folder / name for name in names if name.endswith(TEMP_SUFFIX)):
        with contextlib.suppress(OSError):  # gone already, or (Windows) still open
            if WINDOWS:  # Windows refuses to delete a file its writer holds open
                stale.unlink()
                continue
            with open(stale, "rb") as handle:
                if try_lock(handle) and same_file(handle, stale):
                    stale.unlink()


@contextlib.contextmanager
def atomic_write(path: Path, root: Path, text: bool = True) -> Iterator[IO]:
    """A file to write ``path`` through: checked to be inside ``root``, written under a
    temporary name, synced to disk and renamed to ``path`` when the block ends; on an
    exception (or a kill) ``path`` is untouched. Text is UTF-8 with ``\\n`` line ends."""
    check_inside(path, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_inside(path, root)  # what mkdir made must not have changed the answer
    raw, temp = new_temp(path.parent)
    try:
        if text:
            out = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="\n")
            yield out
            out.detach()  # flushes into raw, which stays open
        else:
            yield raw
    except BaseException:
        raw.close()
        temp.unlink(missing_ok=True)
        raise
    commit(raw, temp, path)


def commit(raw: BinaryIO, temp: Path, path: Path) -> None:
    """The end of a file written to ``new_temp``'s (raw, temp): synced to disk, renamed to
    ``path``, closed; on failure the temporary file is removed and ``path`` untouched.
    ``atomic_write``'s last step, for a writer that hands it to a thread of its own (RSMF's
    days: fsyncs running at once share the file system's journal commits)."""
    try:
        with raw:
            raw.flush()
            os.fsync(raw.fileno())
            if not WINDOWS:  # renamed while still locked: no cleaner can take it meanwhile
                os.replace(temp, path)
        if WINDOWS:  # Windows renames only closed files
            os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

"""Where and how render writes a file: inside its root, under a temporary name, renamed whole.

Every writer (html.py, json.py, text.py, split.py, rsmf_zip.py) opens its file here, so
that every file render writes follows ``webex_layout``'s rules, the same as the sync's
downloads: the path must
resolve inside the archive (or the ``--output`` folder), and the page appears under its final
name only when complete. A killed render leaves the previous page intact and a temporary
file, which the next render of the space removes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from webex_layout import atomic_write, check_inside, new_temp, remove_leftovers

from .page import Page

Place = tuple[int, int] | None  # a directory's identity (``identity``)


@contextmanager
def open_output(page: Page) -> Iterator[TextIO]:
    """``page.path`` for writing UTF-8 text with ``\\n`` line ends; see the module doc."""
    with atomic_write(page.path, page.root) as out:
        yield out


@contextmanager
def open_binary(path: Path, root: Path) -> Iterator[BinaryIO]:
    """``path``, one of the files of a rendering inside ``root`` (RSMF's days), for bytes."""
    with atomic_write(path, root, text=False) as out:
        yield out


def begin_binary(path: Path, root: Path, place: Place = None) -> tuple[BinaryIO, Path]:
    """``path``'s temporary file (``path`` checked to be inside ``root``) and its name, for a
    writer that fills it here and has webex_layout's ``commit`` sync and rename it elsewhere
    (RSMF's threads, whose fsyncs overlap).

    ``place``: the ``identity`` of ``path``'s folder when it was checked to be inside
    ``root``, for a writer of many files there (RSMF's days). While the folder is that
    directory, ``path`` resolves inside when it is a plain file or nothing yet; anything else
    there (a link, a junction, a folder), another directory or no ``place`` take the full
    check, which resolves every part of both paths: a tenth of a millisecond, an eighth of
    the rest of the work of a day's file."""
    here = identity(path.parent) if place else None
    if here is None or here != place or not _plain_or_none(path):
        check_inside(path, root)
    return new_temp(path.parent)


def identity(folder: Path) -> Place:
    """Which directory ``folder`` is (its device and inode, links followed); None if none,
    or where the file system numbers no inodes (0: every folder would look the same)."""
    try:
        found = os.stat(folder)
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if found.st_ino else None


def _plain_or_none(path: Path) -> bool:
    """Whether ``path`` is a regular file (not followed if a link) or does not exist."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True


def clear_leftovers(page: Page) -> None:
    """Remove the temporary files a killed render left where ``page`` goes (none in use)."""
    remove_leftovers(check_inside(page.path, page.root).parent)

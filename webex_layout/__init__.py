"""The archive's layout on disk: which names are its own, where a writer may write, and how.

Both stages write into the archive folder: the sync (``etl``: downloads, avatars, its lock) and
render (pages, documents, transcripts). They must agree on the rules, yet neither may import
the other, so the rules live here, in a package that imports neither: the names the archive
keeps at its root (``reserved``), the one check that a path stays inside the archive
(``inside``), and the one way a file is written (``atomic``: a unique temporary name, renamed
when complete). Only the standard library.
"""

from __future__ import annotations

from .atomic import TEMP_PREFIX, TEMP_SUFFIX, atomic_write, commit, new_temp, remove_leftovers
from .inside import UnsafePath, check_inside, space_dir
from .locks import same_file, try_lock
from .reserved import (
    BLURRED_FOLDER,
    DB_NAME,
    DEVICES,
    HOME_PAGE,
    LOCK_NAME,
    RESERVED,
    ROOT_FILES,
    SQLITE_SIDECARS,
    fold,
    is_reserved,
)

__all__ = [
    "BLURRED_FOLDER", "DB_NAME", "DEVICES", "HOME_PAGE", "LOCK_NAME", "RESERVED", "ROOT_FILES",
    "SQLITE_SIDECARS",
    "TEMP_PREFIX", "TEMP_SUFFIX", "UnsafePath", "atomic_write", "check_inside", "commit", "fold",
    "is_reserved", "new_temp", "remove_leftovers", "same_file", "space_dir", "try_lock",
]  # fmt: skip

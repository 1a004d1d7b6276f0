"""The names the archive keeps at its root, and the names no space folder may take.

A space's folder is named after its title, and any member can rename a group space: a title
``archive.db-journal`` once made a folder SQLite then took for its journal, ``archive.lock``
a folder every later sync failed to lock. So every name the archive has at its root is
listed once here, built from the constants that name the files, and a folder name is
refused when it is, or could be on some system, one of them: compared as case-insensitive
file systems compare (Windows, macOS), with what Windows trims (trailing dots and spaces) or
reads as a device (``CON``, ``LPT1``) or as a short 8.3 alias (``ARCHIV~1.DB`` opens
``archive.db`` on NTFS), and hidden names (a leading ``.``: our temporary files, and where
tools keep their state). A file the archive adds at its root later goes into ``ROOT_FILES``
and is reserved from then on.
"""

from __future__ import annotations

import re
import unicodedata

DB_NAME = "archive.db"
# SQLite's companion files of a database: its write-ahead log, shared memory, rollback
# journal; "-mj" starts the names of its super-journals (archive.db-mjXXXXXXXX).
SQLITE_SIDECARS = ("-wal", "-shm", "-journal", "-mj")
LOCK_NAME = "archive.lock"
HOME_PAGE = "index.html"  # the archive's home page, listing its spaces
# Where --blur renderings go: a space's own folder is named after its title, and a direct
# space's title is the other person's name.
BLURRED_FOLDER = "blurred"
ROOT_FILES = (
    DB_NAME,
    *(DB_NAME + sidecar for sidecar in SQLITE_SIDECARS),
    LOCK_NAME,
    HOME_PAGE,
    BLURRED_FOLDER,
)
# Windows device names, reserved with any extension ("CON.txt" opens the console).
DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{digit}" for port in ("COM", "LPT") for digit in "0123456789\u00b9\u00b2\u00b3"}
)
# A Windows short name: up to 6 characters, "~", a number, an extension of up to 3.
_SHORT_NAME = re.compile(r"[^.]{0,6}~[0-9]{1,6}(\.[^.]{0,3})?")


def fold(name: str) -> str:
    """The form two names share when a case-insensitive file system sees them as one."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


RESERVED = frozenset(fold(name) for name in ROOT_FILES)
_PREFIXES = tuple(fold(DB_NAME + sidecar) for sidecar in SQLITE_SIDECARS)


def is_reserved(name: str) -> bool:
    """Whether ``name`` may not be a folder at the archive's root: one of its own files on
    some system, a device, a short-name alias, hidden, or not one plain path component."""
    if not name or name != name.rstrip(" .") or name.startswith("."):
        return True  # Windows trims a trailing dot or space: "archive.db." is archive.db
    if any(separator in name for separator in "/\\:\x00"):
        return True  # more than one component, or a Windows stream ("archive.db:x")
    folded = fold(name)
    if folded in RESERVED or folded.startswith(_PREFIXES):
        return True
    return name.split(".", 1)[0].rstrip(" ").upper() in DEVICES or bool(_SHORT_NAME.fullmatch(name))

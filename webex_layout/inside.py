"""The one check every writer makes: the path it writes stays inside the archive.

Names come from Webex (titles, file names) and folders can be replaced by symbolic links, so
before a byte is written the path is resolved, links followed, and must lie strictly inside
the folder it belongs to. Render, the downloads and the avatars all ask here; the sync
refusing a folder that render then wrote through (a symlinked space folder) was the bug.
"""

from __future__ import annotations

from pathlib import Path

from .reserved import is_reserved


class UnsafePath(ValueError):
    """A path that would leave the folder it must stay in; str() is one line."""


def check_inside(path: Path, root: Path) -> Path:
    """``path``, once checked to resolve (symlinks followed) strictly inside ``root``."""
    if Path(root).resolve() not in Path(path).resolve().parents:
        raise UnsafePath(
            f"{path} is not inside {root} (a symbolic link leads elsewhere?): not written; "
            "move it away and run again"
        )
    return Path(path)


def space_dir(archive: Path, folder: str) -> Path:
    """The space folder ``folder`` of the archive at ``archive``, checked: one plain name that
    is none of the archive's own (``reserved``), resolving inside the archive."""
    if is_reserved(folder):
        raise UnsafePath(
            f"the space folder {folder!r} is a name the archive keeps for itself: "
            "sync the space again to give it another folder"
        )
    return check_inside(Path(archive) / folder, Path(archive))

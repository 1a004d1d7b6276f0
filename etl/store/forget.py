"""Removing a space from the archive (``webex-archive forget``): rows, index and files.

An archive keeps everything by design, so forgetting is explicit and complete: every row that
belongs to the space goes in one transaction (the full-text index follows through its
triggers), then the space's folder (downloads and rendered pages) is deleted — only if it
really is a folder inside the archive.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlite_utils import Database

from webex_layout import check_inside, is_reserved

from .database import transaction

# Children first, so that foreign keys never point at a deleted row.
_BY_SPACE = ("avatars", "unavailable_messages", "coverage", "files", "memberships", "events")


def forget_space(db: Database, archive: Path, space_id: str) -> dict[str, int]:
    """Delete the space's rows and folder; return how many rows each table lost."""
    row = db.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()
    if row is None:
        raise KeyError(space_id)
    removed: dict[str, int] = {}
    with transaction(db):
        removed["message_revisions"] = db.execute(
            "DELETE FROM message_revisions WHERE message_id IN "
            "(SELECT id FROM messages WHERE space_id = ?)",
            [space_id],
        ).rowcount
        for table in _BY_SPACE:
            removed[table] = db.execute(
                f"DELETE FROM {table} WHERE space_id = ?", [space_id]
            ).rowcount
        removed["messages"] = db.execute(
            "DELETE FROM messages WHERE space_id = ?", [space_id]
        ).rowcount
        removed["spaces"] = db.execute("DELETE FROM spaces WHERE id = ?", [space_id]).rowcount
        # the deletions just logged by schema.sql's triggers (render's record of changes) are
        # of a space no rendering will read again; its seq numbers are never given again
        db.execute("DELETE FROM changes WHERE space_id = ?", [space_id])
    if row[0] and not is_reserved(row[0]):
        folder = archive / row[0]
        if folder.is_dir() and not folder.is_symlink() and check_inside(folder, archive):
            shutil.rmtree(folder)
    return removed

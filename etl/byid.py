"""Messages fetched one by one (GET /messages/{id}): thread parents that lie outside what was
walked, and messages stored undecrypted (asked for again until Webex decrypts them)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from . import store
from .api import ForbiddenError, NotFoundError
from .pages import SpaceMessages
from .people import undecrypted
from .store import transaction

# Parents the space's replies name that the archive lacks (and Webex did not refuse before).
# The space's replies come from the index messages_space_order, which holds each message's
# parent_id, and each parent is looked up by id: no message row is read (reading the
# space's rows took 3 s per sync at 1,000,000 messages from a cold cache). The cost follows
# the space's size, not the archive's, which matters when --all syncs hundreds of spaces.
MISSING_PARENTS = """
SELECT DISTINCT r.parent_id FROM messages AS r
WHERE r.space_id = ? AND r.parent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM messages AS p WHERE p.id = r.parent_id)
  AND r.parent_id NOT IN (SELECT id FROM unavailable_messages)
"""


def fetch_parents(space: SpaceMessages, full: bool, stored: Callable[[int], None]) -> None:
    """Thread replies whose parent lies outside what was walked get it by id; ``stored`` is
    told of each parent written (1 when it is new to the archive, else 0). ``full``: the
    parents Webex refused before are asked for again."""
    db, space_id = space.db, space.space_id
    if full:
        with transaction(db):
            store.forget_unavailable(db, space_id)
    missing = [row[0] for row in db.execute(MISSING_PARENTS, [space_id])]
    for parent_id in missing:
        try:
            parent = get_message(space, parent_id)
        except (NotFoundError, ForbiddenError) as error:
            unavailable(space, parent_id, error.status or 404)
            continue
        if parent.get("id") != parent_id or parent.get("roomId") != space_id:
            # Another space's message (or none): not this thread's parent, and storing it
            # would need that space. Recorded like a 404, with the 200 Webex answered.
            unavailable(space, parent_id, 200)
            continue
        with transaction(db):
            new, _ = store.save_messages(db, [parent], space.now)
        stored(len(new))


def get_message(space: SpaceMessages, message_id: str) -> dict:
    """GET /messages/{id} with the id as one path segment ("../people/me" is no message)."""
    return space.client.get_json(f"messages/{quote(message_id, safe='')}")


def unavailable(space: SpaceMessages, message_id: str, status: int) -> None:
    """Remember a parent Webex will not give, so that later runs do not ask again."""
    with transaction(space.db):
        store.save_unavailable(space.db, message_id, space.space_id, status, space.now)


# A space's messages stored undecrypted, by schema.sql's partial index messages_undecrypted
# (SQLite uses it only for a query that repeats its WHERE terms, as this one does).
UNDECRYPTED = (
    "SELECT id FROM messages WHERE space_id = :space AND deleted_at IS NULL "
    "AND instr(raw, '\"errors\"') > 0 AND json_extract(raw, '$.errors') IS NOT NULL"
)


def fetch_undecrypted(space: SpaceMessages) -> None:
    """Messages stored undecrypted (a key-server failure, webex-api.md §7.2) are asked for
    again by id, every run until Webex decrypts them; then the readable version becomes
    current and the undecrypted one stays in message_revisions, like every version the
    archive ever held."""
    ids = [row[0] for row in space.db.execute(UNDECRYPTED, {"space": space.space_id})]
    for message_id in ids:
        try:
            message = get_message(space, message_id)
        except (NotFoundError, ForbiddenError):
            continue  # gone: a complete re-read marks it deleted
        if not undecrypted(message) and message.get("id") == message_id:
            with transaction(space.db):
                store.save_messages(space.db, [message], space.now)

"""People and members: the membership listing of a space, people fetched by id, and keeping
the archive's decrypted copy when Webex serves an item it could not decrypt."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlite_utils import Database

from . import store
from .api import WebexClient
from .store import transaction
from .times import utc_iso

PEOPLE_PER_CALL = 85


def sync_members(db: Database, client: WebexClient, space_id: str, now: str) -> None:
    """The complete listing; an undecrypted member keeps the archive's copy if any (a new
    one is stored as sent: the next run's listing replaces it)."""
    pages = client.pages("memberships", {"roomId": space_id, "max": 1000})
    listed = [member for page in pages for member in page]
    members, _ = decrypted_or_stored(db, "memberships", listed)
    with transaction(db):
        store.save_memberships(db, space_id, members, now)
        store.members_listed(db, space_id, now)


def sync_people(
    db: Database,
    client: WebexClient,
    stale_days: float,
    progress: Callable[..., None] | None = None,
) -> int:
    """Fetch people who are unknown or stale, 85 ids a call; rows even for unknown ids.

    The answer is a list like any other and is followed to its last page: an empty page that
    still links on (webex-api.md §1.2) must not make everyone "not found" for a week. A
    person Webex could not decrypt is kept as sent but asked about again next run.
    """
    now = store.utc_now()
    stale = utc_iso(datetime.now(timezone.utc) - timedelta(days=stale_days))
    ids = store.people_to_fetch(db, stale)
    for start in range(0, len(ids), PEOPLE_PER_CALL):
        if progress:
            progress("people", start, len(ids))
        chunk = ids[start : start + PEOPLE_PER_CALL]
        pages = client.pages("people", {"id": ",".join(chunk)})
        found, undecrypted = decrypted_or_stored(db, "people", [p for page in pages for p in page])
        missing = set(chunk) - {p["id"] for p in found}
        with transaction(db):
            store.save_people(db, found, now)
            store.save_not_found_people(db, dict.fromkeys(sorted(missing)), now)
            store.refetch_people(db, undecrypted)
    if progress and ids:
        progress("people", len(ids), len(ids))
    return len(ids)


def undecrypted(item: Mapping[str, Any]) -> bool:
    """An item Webex served with an ``errors`` object (webex-api.md §7.2: its key server
    failed, so a field such as the text is an undecrypted JWE string)."""
    return bool(item.get("errors"))


def decrypted_or_stored(db: Database, table: str, items: list[dict]) -> tuple[list[dict], set[str]]:
    """``items`` with every undecrypted one replaced by the archive's own decrypted copy when
    it has one: a key-server failure must not overwrite what the archive already holds.
    Returns the items and the ids that are still undecrypted (new to the archive: they are
    kept as sent, with their ``errors`` in ``raw``, and asked for again)."""
    failed = [item["id"] for item in items if undecrypted(item) and isinstance(item.get("id"), str)]
    if not failed:
        return items, set()
    rows = db.execute(
        f"SELECT id, raw FROM {table} WHERE id IN (SELECT value FROM json_each(?)) "
        "AND raw IS NOT NULL AND json_extract(raw, '$.errors') IS NULL",
        [json.dumps(failed)],
    )
    stored = {row[0]: json.loads(row[1]) for row in rows}
    kept = [stored.get(item.get("id"), item) if undecrypted(item) else item for item in items]
    return kept, set(failed) - set(stored)

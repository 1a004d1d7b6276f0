"""Finding spaces: list what a token sees, and turn ids or title searches into space ids."""

from __future__ import annotations

import base64
import binascii

from .api import WebexClient
from .store import archive_time


class SpaceNotFound(Exception):
    """A space argument that matches no space, or more than one: the message says which."""


def list_spaces(client: WebexClient) -> list[dict]:
    """Every space the token is a member of (all pages), most recently active first."""
    rooms = [room for page in client.pages("rooms", {"max": 1000}) for room in page]
    return sorted(rooms, key=_activity, reverse=True)


def _activity(room: dict) -> str:
    """A room's lastActivity in the archive's form, comparable whatever form Webex sent."""
    return archive_time(room.get("lastActivity")) or ""


def is_space_id(text: str) -> bool:
    """True for a Webex room id (base64 of ``ciscospark://<cluster>/ROOM/<uuid>``)."""
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return decoded.startswith(b"ciscospark://") and b"/ROOM/" in decoded


def resolve(client: WebexClient, queries: list[str]) -> list[str]:
    """Space ids for arguments that are ids or title searches (one match each, exact first)."""
    searches = [q for q in queries if not is_space_id(q)]
    rooms = list_spaces(client) if searches else []
    ids = []
    for query in queries:
        ids.append(query if is_space_id(query) else match_title(rooms, query)["id"])
    return list(dict.fromkeys(ids))


def match_title(rooms: list[dict], query: str) -> dict:
    """The one space whose title equals ``query`` (ignoring case) or, failing that, contains it."""
    wanted = query.casefold()
    exact = [r for r in rooms if r.get("title", "").casefold() == wanted]
    found = exact or [r for r in rooms if wanted in r.get("title", "").casefold()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise SpaceNotFound(
            f"no space title contains {query!r}; run `webex-archive spaces` to list them"
        )
    names = "; ".join(f"{r.get('title')!r} ({r['id']})" for r in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    raise SpaceNotFound(
        f"{query!r} matches {len(found)} spaces: {names}{more}; pass a longer title or the id"
    )


def select(
    rooms: list[dict],
    kind: str | None = None,
    active_since: str | None = None,
    exclude: tuple[str, ...] = (),
) -> list[dict]:
    """The rooms of one type, active since a time (API time text), minus title searches."""
    unwanted = [e.casefold() for e in exclude]
    return [
        room for room in rooms
        if (kind is None or room.get("type") == kind)
        and (active_since is None or _activity(room) >= active_since)
        and not any(e in room.get("title", "").casefold() for e in unwanted)
    ]  # fmt: skip

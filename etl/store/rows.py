"""API objects to archive rows (pure functions: no database, no HTTP); the rule is below."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import timezone
from typing import Any
from urllib.parse import urlsplit

from dateutil import parser as dateparser

from .database import _json

# Webex sends every field in one documented shape, but the archive must keep whatever it is
# sent without crashing (tests/test_fuzz.py feeds it every shape). The rule: ``raw`` keeps the
# object exactly as sent, and each column holds what schema.sql says it holds, or NULL:
#   * text: a string as sent; a number, boolean, list or object as its JSON text (so that it
#     is still shown and found); null or absent: NULL;
#   * times (created, updated, lastActivity, madePublic): any ISO 8601 date-time (``Z`` or an
#     offset or none, which is UTC as all Webex times are; any fraction of a second), written
#     in the API's own form ``2024-03-01T09:30:00.000Z``, so that times sort and compare as
#     text everywhere (sync, coverage, render's windows); anything else: NULL;
#   * booleans (isXxx): true and false as 1 and 0; anything else: NULL;
#   * lists of ids, URLs or names (files, mentionedPeople, mentionedGroups, emails): the list's
#     strings, as a JSON array; cards (attachments): the list as sent; not a list: NULL.

_STRING_LISTS = {"files", "mentionedPeople", "mentionedGroups", "emails"}
_JSON_KEYS = {*_STRING_LISTS, "attachments"}
_TIME_KEYS = {"created", "updated", "lastActivity", "madePublic"}
# Years a stored time may have: four digits (so that the text sorts), and a day's margin at
# both ends so that every time zone can still show it (render converts to local time).
_YEARS = range(1000, 9999)
# The API's own form with a date and time that are valid in any year (February 29th aside):
# such a value is its own archive time, so parsing it (20 µs a time, three times a message)
# is skipped. Anything else takes the full parse below.
_CANONICAL = re.compile(
    r"[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z"
)


def archive_time(value: Any) -> str | None:
    """``value`` as the archive's time text (``2024-03-01T09:30:00.000Z``, UTC, milliseconds),
    if it is an ISO 8601 date-time string; else None. The API's own form comes back unchanged.
    """
    if type(value) is str and _CANONICAL.fullmatch(value) and value[:4] != "9999":
        return value
    if not isinstance(value, str):
        return None
    try:
        moment = dateparser.isoparse(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    if moment.year not in _YEARS:
        return None
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _text(value: Any) -> str | None:
    """A text column: the string, or the JSON text of any other value (NULL stays NULL)."""
    return value if value is None or isinstance(value, str) else _json(value)


def _flag(value: Any) -> int | None:
    """A boolean column: 1 or 0 for true or false; NULL for anything else."""
    return int(value) if isinstance(value, bool) else None


def _strings(value: Any) -> str | None:
    """A list-of-strings column: the list's strings as JSON; NULL when it is not a list."""
    if not isinstance(value, list):
        return None
    return _json([item for item in value if isinstance(item, str)])


def _list(value: Any) -> str | None:
    """A list column (cards): the list as JSON, as sent; NULL when it is not a list."""
    return _json(value) if isinstance(value, list) else None


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "text": _text, "time": archive_time, "bool": _flag, "strings": _strings, "json": _list,
}  # fmt: skip


_NONE = type(None)
_KEPT = {kind: frozenset({_NONE, str} if kind == "text" else {_NONE}) for kind in _CONVERT}


def _fields(keys: Sequence[str]) -> tuple[tuple[str, str, Callable[[Any], Any], frozenset], ...]:
    """(API key, column, converter, kept types) in column order, worked out once at import
    (not per row). A value of a kept type is its own column value (the converter would
    return it as it is): _map stores it without calling the converter, which is most values.

    A column is the snake_case of its key (roomId is space_id); keys "isXxx" are booleans
    stored 0/1; _JSON_KEYS hold lists, stored as compact JSON text; _TIME_KEYS are times.
    """
    fields = []
    for key in keys:
        column = "space_id" if key == "roomId" else re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
        kind = (
            "strings" if key in _STRING_LISTS
            else "json" if key in _JSON_KEYS
            else "time" if key in _TIME_KEYS
            else "bool" if re.match(r"is[A-Z]", key)
            else "text"
        )  # fmt: skip
        fields.append((key, column, _CONVERT[kind], _KEPT[kind]))
    return tuple(fields)


_MESSAGE_FIELDS = _fields((
    "id", "roomId", "roomType", "parentId", "personId", "personEmail", "text", "markdown",
    "html", "files", "attachments", "mentionedPeople", "mentionedGroups", "isVoiceClip",
    "created", "updated",
))  # fmt: skip
_SPACE_FIELDS = _fields((
    "id", "title", "type", "isLocked", "teamId", "lastActivity", "creatorId", "created",
    "ownerId", "isPublic", "isReadOnly", "isAnnouncementOnly", "classificationId",
    "description", "madePublic",
))  # fmt: skip
_PERSON_FIELDS = _fields((
    "id", "emails", "displayName", "nickName", "firstName", "lastName", "avatar", "orgId",
    "type", "created",
))  # fmt: skip
_MEMBERSHIP_FIELDS = _fields((
    "id", "roomId", "personId", "personEmail", "personDisplayName", "personOrgId",
    "isModerator", "isMonitor", "isRoomHidden", "created",
))  # fmt: skip


def _map(api: Mapping[str, Any], fields: Sequence[tuple[str, str, Callable, frozenset]]) -> dict:
    """API object to row, column by column as the rule above says; plus raw, as sent."""
    get = api.get
    row = {
        column: value if type(value := get(key)) in kept else convert(value)
        for key, column, convert, kept in fields
    }
    sent = getattr(api, "sent", api)
    row["raw"] = _json(sent if type(sent) is dict else dict(sent))
    return row


class Received(dict):
    """A listed message as the sync works with it (see ``received``): ``created`` in the
    archive's form; ``sent`` is the object exactly as Webex sent it, which raw keeps."""

    sent: Mapping[str, Any]


def received(
    page: Sequence[Mapping[str, Any]], now: str, newer: str | None = None
) -> list[Received]:
    """A page of messages (newest first, as listed) with a ``created`` that the walk and the
    coverage can compare as text, which they do with every message's.

    Webex always sends ``created``, in its own form. The archive does not rely on that: a
    time in another ISO 8601 form is rewritten in that form, and a message with none that
    reads as a time (missing, null, a number, not a date) is still archived, at the time of
    the message listed just before it (newer; ``newer`` is the last one of the page before),
    else just after it, else at ``now`` (when the sync first saw it): the list is in time
    order, so its place is the best word there is on when it was written, and the walk's
    order stays intact. Nothing else changes.
    """
    times = [archive_time(message.get("created")) for message in page]
    for index, time in enumerate(times):  # fill from the newer neighbour...
        times[index] = newer = time or newer
    older: str | None = None
    for index in range(len(times) - 1, -1, -1):  # ...the first ones from the older one
        times[index] = older = times[index] or older
    messages = []
    for message, time in zip(page, times, strict=True):
        kept = Received(message)
        kept["created"] = time or now
        kept.sent = getattr(message, "sent", message)
        messages.append(kept)
    return messages


def message_row(api_message: Mapping[str, Any], now: str) -> dict[str, Any]:
    """A messages row; first/last_seen_at are ``now`` (the upsert keeps the stored first).

    ``id`` and ``roomId`` name the row and its space: without them (Webex always sends both)
    there is nothing to keep, and this raises ValueError. A message without a usable
    ``created`` is kept at ``now``; listed messages get a better time from ``received``.
    """
    key, room = api_message.get("id"), api_message.get("roomId")
    if not (type(key) is str and key and type(room) is str and room):
        _check_names(api_message)
    row = _map(api_message, _MESSAGE_FIELDS)
    row["created"] = row["created"] or now
    row["first_seen_at"] = row["last_seen_at"] = now  # in place: a copy costs a µs a row
    row["deleted_at"] = None
    return row


def _check_names(api_message: Mapping[str, Any]) -> None:
    """ValueError unless the message has a non-empty string ``id`` and ``roomId``."""
    missing = [key for key in ("id", "roomId") if not isinstance(api_message.get(key), str)]
    if missing or not api_message["id"] or not api_message["roomId"]:
        missing = missing or [key for key in ("id", "roomId") if not api_message[key]]
        raise ValueError(f"message without {', '.join(missing)}: {api_message!r:.200}")


def space_row(api_room: Mapping[str, Any]) -> dict[str, Any]:
    """The spaces columns that come from the API (not folder, not the sync times)."""
    return _map(api_room, _SPACE_FIELDS)


def person_row(api_person: Mapping[str, Any]) -> dict[str, Any]:
    """The people columns that come from the API; email is the first string of emails."""
    row = _map(api_person, _PERSON_FIELDS)
    emails = json.loads(row["emails"]) if row["emails"] else []
    return {"id": row.pop("id"), "email": emails[0] if emails else None} | row


def membership_row(api_membership: Mapping[str, Any]) -> dict[str, Any]:
    """The memberships columns that come from the API (not the seen/left times)."""
    return _map(api_membership, _MEMBERSHIP_FIELDS)


def _content_id(url: str) -> str | None:
    """The last path segment of a file URL (None when there is none, or no URL at all)."""
    try:
        return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or None
    except ValueError:  # e.g. "http://[::1": not a URL
        return None


def file_rows(api_message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One 'pending' files row per URL in the message's files array, in order.

    ``position`` is the index in the array as sent; items that are not strings (Webex sends
    only URLs) name no file and get no row, and neither does a ``files`` that is no list.
    """
    files = api_message.get("files")
    if not files:  # most messages: no files (None, absent, or [])
        return []
    rows = []
    for position, url in enumerate(files if isinstance(files, list) else []):
        if not isinstance(url, str):
            continue
        rows.append(
            {"url": url, "message_id": api_message["id"], "space_id": api_message["roomId"],
             "position": position, "content_id": _content_id(url), "name": None,
             "content_type": None, "size": None, "status": "pending", "error": None,
             "local_path": None, "sha256": None, "downloaded_at": None, "checked_at": None}
        )  # fmt: skip
    return rows

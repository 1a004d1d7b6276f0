"""Compliance officers (webex-api.md §13): who they are and what their token may read.

Documented by Webex (Compliance guide, the messaging spec): an officer's token with the
``spark-compliance:*`` scopes reads ``GET /messages?roomId=`` and ``GET /messages/{id}`` of
every space the organisation owns, member or not; content a user deleted stays readable by id
for the retention period; ``GET /memberships?personEmail=`` without ``roomId`` lists all of
that person's spaces; ``GET /events`` is the organisation's change feed; ``GET /rooms`` still
lists only the officer's own spaces. Our guesses: an organisation owns a space when the
space's ``ownerId`` is its id; room details (``GET /rooms/{id}``) are readable like its
messages; the 403 for a token without the scope has the body shape Webex uses for a missing
scope.
"""

from __future__ import annotations

from collections.abc import Callable

from .events import EventLog
from .ids import format_time, make_id, normalise_time, parse_time
from .model import DataSet
from .wire import ApiError, Request, Response

EVENTS_SCOPE = "spark-compliance:events_read"
MISSING_SCOPE = f"Missing required scope: {EVENTS_SCOPE}"
RESOURCE_ENUM = (
    "attachmentActions", "businessTexts", "call_records", "convergedRecordings",
    "file_transcodings", "files", "meetingMessages", "meetings", "meetingTranscripts",
    "memberships", "messages", "rooms", "tabs",
)  # fmt: skip
TYPE_ENUM = ("created", "updated", "deleted", "ended")
OFFICER_NAME = "Compliance Officer"


def is_officer(ds: DataSet, person_id: str) -> bool:
    return person_id in ds.officers


def owns(ds: DataSet, person_id: str, room: dict) -> bool:
    """Whether the officer's organisation owns the room (its ``ownerId``)."""
    person = ds.people.get(person_id, {})
    return bool(room.get("ownerId")) and room.get("ownerId") == person.get("orgId")


def officer_sees(ds: DataSet, person_id: str, room: dict) -> bool:
    """An officer reads every space its organisation owns, member or not."""
    return is_officer(ds, person_id) and owns(ds, person_id, room)


def deleted_message(ds: DataSet, person_id: str, message_id: str) -> dict | None:
    """A deleted message an officer may still read by id: within the retention window, in a
    space its organisation owns."""
    kept = ds.deleted.get(message_id)
    if kept is None or not is_officer(ds, person_id):
        return None
    message, deleted_at = kept
    room = ds.rooms.get(message["roomId"])
    if room is None or not owns(ds, person_id, room) or deleted_at < ds.events.oldest_kept():
        return None
    return message


def person_memberships(ds: DataSet, request: Request) -> list[dict]:
    """``GET /memberships`` without ``roomId``, for an officer: the person's memberships in
    every space the organisation owns. Webex requires a person filter then (our guess)."""
    person_id, email = request.arg("personId"), request.arg("personEmail")
    if not is_officer(ds, request.person_id):
        raise ApiError(400, "roomId is required unless you are a compliance officer.")
    if person_id is None and email is None:
        raise ApiError(400, "personId or personEmail is required without roomId.")
    wanted = (email or "").casefold()
    return [
        m
        for room_id, members in ds.memberships.items()
        if room_id in ds.rooms and owns(ds, request.person_id, ds.rooms[room_id])
        for m in members
        if person_id in (None, m["personId"])
        and (email is None or m["personEmail"].casefold() == wanted)
    ]


def add_officer(ds: DataSet, token: str, person_id: str | None = None) -> str:
    """Grant the role (and a token with the compliance scopes): to ``person_id``, or to a new
    person of the token owner's organisation who is a member of no space. Returns the person."""
    with ds.lock:
        if person_id is None:
            owner = ds.people[ds.tokens[ds.owner_token()]]
            person_id = make_id("PEOPLE", f"officer-{len(ds.officers) + 1}")
            domain = owner["emails"][0].split("@")[-1]
            ds.people[person_id] = {
                "id": person_id,
                "emails": [f"compliance{len(ds.officers) + 1}@{domain}"],
                "displayName": OFFICER_NAME,
                "orgId": owner["orgId"],
                "type": "person",
            }
        if person_id not in ds.people:
            raise KeyError(person_id)
        ds.tokens[token] = person_id
        if person_id not in ds.officers:
            ds.officers.append(person_id)
        return person_id


def list_events(
    events: EventLog,
    request: Request,
    size: int,
    link: Callable[[dict[str, str]], str],
    serve: Callable[[dict], dict],
) -> Response:
    """One page of the feed, newest first, with every documented filter; ``serve`` turns a
    message's content ids into URLs, as the messages endpoints do."""
    resource, kind, actor = request.arg("resource"), request.arg("type"), request.arg("actorId")
    if resource is not None and resource not in RESOURCE_ENUM:
        raise ApiError(400, f"Invalid resource '{resource}'.")
    if kind is not None and kind not in TYPE_ENUM:
        raise ApiError(400, f"Invalid type '{kind}'.")
    now = format_time(events.clock.now())
    after = max(_time(request, "from") or "", events.oldest_kept())
    up_to = _time(request, "to") or "9999"  # default: up to the present, whatever comes
    if up_to != "9999" and parse_time(up_to) > parse_time(now):
        raise ApiError(400, "to cannot be set to a future date relative to the current time.")
    below = _cursor(request.arg("cursor"))
    page: list[dict] = []
    last: tuple[str, int] | None = None
    wanted = {"resource": resource, "type": kind, "actorId": actor}
    for key, event in events.newest_first(after, up_to, below):
        if all(value in (None, event[name]) for name, value in wanted.items()):
            if len(page) == size:
                break
            page.append(event)
            last = key
    else:
        last = None  # the feed ended on this page
    headers = {}
    if last is not None:
        params = {k: request.arg(k) for k in ("resource", "type", "actorId", "from", "to")}
        params = {k: v for k, v in params.items() if v is not None}
        params.update({"max": str(size), "cursor": f"{last[0]}|{last[1]}"})
        headers["Link"] = link(params)
    return Response.json({"items": [served(e, serve) for e in page]}, **headers)


def get_event(events: EventLog, event_id: str, serve: Callable[[dict], dict]) -> Response:
    event = events.get(event_id)
    if event is None:
        raise ApiError(404, "The requested resource could not be found.")
    return Response.json(served(event, serve))


def served(event: dict, serve: Callable[[dict], dict]) -> dict:
    if event["resource"] != "messages":
        return event
    return {**event, "data": serve(event["data"])}


def require_officer(ds: DataSet, request: Request) -> None:
    if not is_officer(ds, request.person_id):
        raise ApiError(403, MISSING_SCOPE)


def _time(request: Request, name: str) -> str | None:
    raw = request.arg(name)
    if raw is None:
        return None
    try:
        return normalise_time(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{raw}': use ISO 8601.") from None


def _cursor(raw: str | None) -> tuple[str, int] | None:
    if raw is None:
        return None
    moment, _, seq = raw.rpartition("|")
    if not moment or not seq.isdigit():
        raise ApiError(400, "Invalid cursor.")
    return (moment, int(seq))

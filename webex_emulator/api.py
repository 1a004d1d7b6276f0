"""The ``/v1`` endpoints, answering as Webex does (see ../shared/webex-api.md).

Each handler takes the parsed request (already authenticated: ``request.person_id`` is the
caller) and returns a Response or raises ApiError. Paging follows the real API: ``max`` is
clamped to the endpoint's cap, the next page is announced only by ``Link: <absolute>;
rel="next"``, messages page with ``beforeMessage`` (exclusive), everything else with an opaque
``cursor`` placed last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial
from urllib.parse import urlencode

from . import compliance
from .disposition import content_disposition
from .ids import normalise_time, served_times
from .model import DataSet
from .paging import decode_cursor, encode_cursor, page_size, take
from .quirks import Quirks
from .wire import ApiError, Request, Response

NOT_FOUND = "The requested resource could not be found."
PRESENCE_FIELDS = ("status", "lastActivity")
MAX_PEOPLE_IDS = 85


class WebexApi:
    """Routes ``/v1`` requests to handlers over one DataSet."""

    def __init__(self, dataset: DataSet, quirks: Quirks | None = None):
        self.ds = dataset
        self.quirks = quirks or Quirks()
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/v1/rooms"), self.list_rooms),
            ("GET", re.compile(r"/v1/rooms/([^/]+)"), self.get_room),
            ("GET", re.compile(r"/v1/messages"), self.list_messages),
            ("GET", re.compile(r"/v1/messages/([^/]+)"), self.get_message),
            ("GET", re.compile(r"/v1/memberships"), self.list_memberships),
            ("GET", re.compile(r"/v1/people"), self.list_people),
            ("GET", re.compile(r"/v1/people/me"), self.get_me),
            ("GET", re.compile(r"/v1/people/([^/]+)"), self.get_person),
            ("GET", re.compile(r"/v1/contents/([^/]+)"), self.get_content),
            ("HEAD", re.compile(r"/v1/contents/([^/]+)"), self.get_content),
            ("GET", re.compile(r"/v1/events"), self.list_events),
            ("GET", re.compile(r"/v1/events/([^/]+)"), self.get_event),
        ]

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match:
                allowed = True
                if method == request.method:
                    return self.timed(handler(request, *match.groups()))
        if allowed:
            raise ApiError(405, f"Method {request.method} is not allowed on {request.path}.")
        raise ApiError(404, NOT_FOUND)

    def timed(self, response: Response) -> Response:
        """The answer with its times in the form ``quirks.timestamps`` asks for."""
        form = self.quirks.timestamps
        if form == "millis-z" or not response.headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        body = served_times(response.body, form)
        return Response(response.status, body, response.headers, response.items)

    # ----- rooms -------------------------------------------------------------------------

    def member_of(self, person_id: str, room_id: str) -> bool:
        return any(m["personId"] == person_id for m in self.ds.memberships.get(room_id, []))

    def visible_room(self, request: Request, room_id: str) -> dict:
        room = self.ds.rooms.get(room_id)
        if room is None or not (
            self.member_of(request.person_id, room_id)
            or compliance.officer_sees(self.ds, request.person_id, room)
        ):
            raise ApiError(404, "Could not find a room with provided ID.")
        return room

    def list_rooms(self, request: Request) -> Response:
        if request.arg("orgPublicSpaces") and (request.arg("type") or request.arg("sortBy")):
            raise ApiError(400, "orgPublicSpaces cannot be combined with type or sortBy.")
        kind = request.arg("type")
        if kind not in (None, "direct", "group"):
            raise ApiError(400, f"Invalid type '{kind}': must be direct or group.")
        sort = request.arg("sortBy") or "created"
        fields = {"id": "id", "lastactivity": "lastActivity", "created": "created"}
        if sort not in fields:
            raise ApiError(400, f"Invalid sortBy '{sort}': must be id, lastactivity or created.")
        rooms = [
            r
            for r in self.ds.rooms.values()
            if self.member_of(request.person_id, r["id"])
            and (kind is None or r["type"] == kind)
            and (request.arg("teamId") is None or r.get("teamId") == request.arg("teamId"))
        ]
        return self.cursor_page(
            request,
            rooms,
            key=lambda r: (r.get(fields[sort], ""), r["id"]),
            newest_first=sort != "id",
            default_max=100,
            cap=1000,
            keep=("type", "sortBy", "teamId"),
            strict=self.quirks.over_cap == "400",
        )

    def get_room(self, request: Request, room_id: str) -> Response:
        return Response.json(self.visible_room(request, room_id))

    # ----- messages ----------------------------------------------------------------------

    def list_messages(self, request: Request) -> Response:
        room_id = request.arg("roomId")
        if not room_id:
            raise ApiError(400, "roomId cannot be null or empty.")
        room = self.visible_room(request, room_id)
        mentioned = request.arg("mentionedPeople")
        caller = self.ds.people.get(request.person_id, {})
        if mentioned is not None and mentioned not in ("me", request.person_id):
            raise ApiError(400, "mentionedPeople may only be 'me' or your own person id.")
        if caller.get("type") == "bot" and room["type"] == "group" and mentioned is None:
            raise ApiError(403, "Failed to get activity.")
        strict = mentioned is not None and self.quirks.over_cap == "400"
        size = page_size(request, default=50, cap=100 if mentioned else 1000, strict=strict)
        before_key = self.before_key(request)
        items = self.ds.room_messages(room_id, before_key, request.arg("parentId"))
        if mentioned:
            items = (m for m in items if request.person_id in _listed(m.get("mentionedPeople")))
        page, more = take(items, size, self.quirks.link_on_full_page)
        headers = {}
        if more:
            params = {"roomId": room_id, "max": str(size)}
            if not self.quirks.drop_filters_in_next:
                params.update(
                    {k: request.arg(k) for k in ("parentId", "mentionedPeople") if request.arg(k)}
                )
            params["beforeMessage"] = page[-1]["id"] if page else request.arg("beforeMessage")
            headers["Link"] = self.link(request, "/v1/messages", params)
        body = {"items": [self.served_message(request, m) for m in page]}
        return Response.json(body, **headers)

    def before_key(self, request: Request) -> tuple[str, int] | None:
        """The exclusive upper bound of a listing from ``before`` and/or ``beforeMessage``."""
        keys = []
        before_message = request.arg("beforeMessage")
        if before_message is not None:
            key = self.ds.message_key(before_message)
            if key is None or self.ds.messages[before_message]["roomId"] != request.arg("roomId"):
                raise ApiError(404, "Could not find the message named by beforeMessage.")
            keys.append(key)
        before = request.arg("before")
        if before is not None:
            try:
                keys.append((normalise_time(before), 0))
            except ValueError:
                raise ApiError(400, f"Invalid before '{before}': use ISO 8601.") from None
        return min(keys) if keys else None

    def get_message(self, request: Request, message_id: str) -> Response:
        message = self.ds.messages.get(message_id)
        if message is not None:
            self.visible_room(request, message["roomId"])
        else:
            message = compliance.deleted_message(self.ds, request.person_id, message_id)
        if message is None:
            raise ApiError(404, NOT_FOUND)
        return Response.json(self.served_message(request, message))

    def list_events(self, request: Request) -> Response:
        compliance.require_officer(self.ds, request)
        size = page_size(request, default=100, cap=1000)
        return compliance.list_events(
            self.ds.events,
            request,
            size,
            lambda p: self.link(request, "/v1/events", p),
            partial(self.served_message, request),
        )

    def get_event(self, request: Request, event_id: str) -> Response:
        compliance.require_officer(self.ds, request)
        serve = partial(self.served_message, request)
        return compliance.get_event(self.ds.events, event_id, serve)

    def served_message(self, request: Request, message: dict) -> dict:
        """The message as Webex sends it: content ids become absolute ``/v1/contents`` URLs.

        Lenient (see model.py): only the strings of a ``files`` list are content ids; any
        other value, or item, and a string holding ``://`` (a URL a test stored, pointing
        anywhere) is served as stored."""
        files = message.get("files")
        if not isinstance(files, list):
            return message
        served = dict(message)
        served["files"] = [
            f"{request.base}/v1/contents/{c}" if isinstance(c, str) and "://" not in c else c
            for c in files
        ]
        return served

    # ----- memberships and people --------------------------------------------------------

    def list_memberships(self, request: Request) -> Response:
        room_id = request.arg("roomId")
        keep: tuple[str, ...] = ("roomId", "personId", "personEmail")
        if not room_id:
            if compliance.is_officer(self.ds, request.person_id):
                members = compliance.person_memberships(self.ds, request)
            else:
                members, keep = self.my_memberships(request), ()
        else:
            self.visible_room(request, room_id)
            members = [
                m
                for m in self.ds.memberships.get(room_id, [])
                if request.arg("personId") in (None, m["personId"])
                and request.arg("personEmail") in (None, m["personEmail"])
            ]
        return self.cursor_page(
            request,
            members,
            key=lambda m: (m["created"], m["id"]),
            newest_first=False,
            default_max=100,
            cap=1000,
            keep=keep,
        )

    def my_memberships(self, request: Request) -> list[dict]:
        """``GET /memberships`` without ``roomId``: the spec says it "lists memberships for
        rooms to which the authenticated user belongs"; read here as the caller's own
        membership of each (``quirks.memberships_without_room == "list"``), else a 400.
        ``personId``/``personEmail`` need ``roomId`` either way, as the spec says."""
        if self.quirks.memberships_without_room != "list" or any(
            request.arg(k) is not None for k in ("personId", "personEmail")
        ):
            raise ApiError(400, "roomId is required unless you are a compliance officer.")
        return [
            m
            for members in self.ds.memberships.values()
            for m in members
            if m["personId"] == request.person_id
        ]

    def list_people(self, request: Request) -> Response:
        ids, email, name = request.arg("id"), request.arg("email"), request.arg("displayName")
        if ids is not None:
            return self.people_by_id(request, [i for i in ids.split(",") if i])
        me = self.ds.people[request.person_id]
        if email is not None:
            found = [
                p
                for p in self.ds.people.values()
                if email.lower() in (e.lower() for e in p["emails"]) and p["orgId"] == me["orgId"]
            ]
        elif name is not None:
            found = [
                p
                for p in self.ds.people.values()
                if p["displayName"].lower().startswith(name.lower())
            ]
        else:
            raise ApiError(400, "Either id, email or displayName must be specified.")
        return self.cursor_page(
            request,
            [self.served_person(request, p) for p in found],
            key=lambda p: (p["displayName"], p["id"]),
            newest_first=False,
            default_max=100,
            cap=1000,
            keep=("email", "displayName"),
        )

    def people_by_id(self, request: Request, ids: list[str]) -> Response:
        if len(ids) > MAX_PEOPLE_IDS:
            raise ApiError(400, f"Too many ids: at most {MAX_PEOPLE_IDS} per request.")
        found, missing = [], []
        for person_id in ids:
            person = self.ds.people.get(person_id)
            if person is None:
                missing.append(person_id)
            else:
                found.append({k: v for k, v in person.items() if k not in PRESENCE_FIELDS})
        body: dict = {"items": [self.with_avatar_url(p, request.base) for p in found]}
        if missing:
            body["notFoundIds"] = missing
        return Response.json(body)

    def get_me(self, request: Request) -> Response:
        return Response.json(self.served_person(request, self.ds.people[request.person_id]))

    def get_person(self, request: Request, person_id: str) -> Response:
        person = self.ds.people.get(person_id)
        if person is None:
            raise ApiError(404, NOT_FOUND)
        return Response.json(self.served_person(request, person))

    def served_person(self, request: Request, person: dict) -> dict:
        me = self.ds.people[request.person_id]
        if person["orgId"] != me["orgId"]:  # presence only inside the caller's organisation
            person = {k: v for k, v in person.items() if k not in PRESENCE_FIELDS}
        return self.with_avatar_url(person, request.base)

    def with_avatar_url(self, person: dict, base: str) -> dict:
        """Avatar keys become absolute, unauthenticated URLs ending in the size (``~1600``);
        an absolute URL stored instead (another host, a test's) is served as it is."""
        if "avatar" not in person or "://" in str(person["avatar"]):
            return person
        served = dict(person)
        served["avatar"] = f"{base}/avatars/{person['avatar']}~1600"
        return served

    # ----- file contents -----------------------------------------------------------------

    def get_content(self, request: Request, content_id: str) -> Response:
        content = self.ds.contents.get(content_id)
        if content is None:
            raise ApiError(404, NOT_FOUND)
        if content.scan == "infected":
            raise ApiError(410, "The file was found to be infected and is not available.")
        if content.scan == "unscannable" and request.arg("allow") != "unscannable":
            raise ApiError(428, "The file cannot be scanned; add ?allow=unscannable to accept.")
        body = content.body()
        headers = {
            "Content-Type": content.content_type,
            "Content-Disposition": content_disposition(content.filename, self.quirks.file_names),
            "Cache-Control": "no-cache",
        }
        return Response(
            200,
            b"" if request.method == "HEAD" else body,
            {**headers, "Content-Length": str(len(body))},
        )

    def avatar(self, request: Request) -> Response:
        """``/avatars/<key>~<size>``: unauthenticated, like Webex's avatar CDN."""
        key = request.path.removeprefix("/avatars/").rsplit("~", 1)[0]
        recipe = self.ds.avatars.get(key)
        if recipe is None:
            raise ApiError(404, NOT_FOUND)
        return Response(200, recipe.make("image/png"), {"Content-Type": "image/png"})

    # ----- paging ------------------------------------------------------------------------

    def link(self, request: Request, path: str, params: dict[str, str]) -> str:
        base = "" if self.quirks.relative_links else request.base
        return f'<{base}{path}?{urlencode(params)}>; rel="next"'

    def cursor_page(
        self,
        request: Request,
        items: list[dict],
        key: Callable[[dict], tuple],
        newest_first: bool,
        default_max: int,
        cap: int,
        keep: Iterable[str],
        strict: bool = False,
    ) -> Response:
        """One page of ``items`` in ``key`` order after the opaque ``cursor``, Webex style."""
        size = page_size(request, default_max, cap, strict)
        ordered = sorted(items, key=key, reverse=newest_first)
        cursor = request.arg("cursor")
        if cursor:
            last = decode_cursor(cursor)
            ordered = [i for i in ordered if (key(i) < last if newest_first else key(i) > last)]
        page, more = take(iter(ordered), size, self.quirks.link_on_full_page)
        headers = {}
        if more and page:
            params = {k: request.arg(k) for k in keep if request.arg(k) is not None}
            params["max"] = str(size)
            params["cursor"] = encode_cursor(key(page[-1]))
            headers["Link"] = self.link(request, request.path, params)
        return Response.json({"items": page}, **headers)


def _listed(value: object) -> list:
    """A list field of a stored message, or [] when the data set holds something else there."""
    return value if isinstance(value, list) else []

"""``/_emulator/...``: change a running emulator over HTTP, and read what it saw.

Not part of Webex, and deliberately outside ``/v1``: no token, JSON in and out. It lets tools
written in any language drive the same scenarios as the Python API.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Protocol

from . import changes
from .faults import Faults, RequestLog
from .ids import format_time
from .integrations import Integration, OAuthSettings
from .model import DataSet
from .oauth import OAuth
from .settings import Settings
from .wire import ApiError, Request, Response, error_response


class Host(Protocol):
    """What the control endpoints need of the running emulator (server.Emulator), named here
    so that this module does not import the server that imports it."""

    dataset: DataSet
    faults: Faults
    log: RequestLog
    oauth: OAuth
    settings: Settings

    @property
    def api_url(self) -> str: ...

    @property
    def token(self) -> str: ...

    def add_member(self, room_id: str, person_id: str, at: str | None = None) -> dict: ...

    def remove_member(self, membership_id: str, at: str | None = None) -> dict: ...

    def officer_token(self, person_id: str | None = None) -> str: ...

    def edit_message(self, message_id: str, **fields: object) -> dict: ...

    def delete_message(self, message_id: str, at: str | None = None) -> None: ...

    def add_integration(self, integration: Integration) -> Integration: ...

    def sign_in_as(self, person_id: str | None) -> None: ...

    def revoke_grants(self, client_id: str) -> int: ...


class Control:
    def __init__(self, emulator: Host):
        self.emu = emulator
        route = re.compile
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", route(r"/_emulator/?"), self.info),
            ("GET", route(r"/_emulator/log"), self.get_log),
            ("DELETE", route(r"/_emulator/log"), self.clear_log),
            ("GET", route(r"/_emulator/faults"), self.get_faults),
            ("PUT", route(r"/_emulator/faults"), self.put_faults),
            ("GET", route(r"/_emulator/settings"), self.get_settings),
            ("PUT", route(r"/_emulator/settings"), self.put_settings),
            ("GET", route(r"/_emulator/dataset"), self.get_dataset),
            ("POST", route(r"/_emulator/messages"), self.post_message),
            ("PATCH", route(r"/_emulator/messages/([^/]+)"), self.edit_message),
            ("DELETE", route(r"/_emulator/messages/([^/]+)"), self.delete_message),
            ("POST", route(r"/_emulator/rooms/([^/]+)/messages"), self.add_messages),
            ("POST", route(r"/_emulator/memberships"), self.add_member),
            ("DELETE", route(r"/_emulator/memberships/([^/]+)"), self.remove_member),
            ("PUT", route(r"/_emulator/contents/([^/]+)"), self.set_scan),
            ("POST", route(r"/_emulator/officers"), self.add_officer),
            ("PUT", route(r"/_emulator/compliance"), self.put_compliance),
            ("GET", route(r"/_emulator/oauth"), self.get_oauth),
            ("PUT", route(r"/_emulator/oauth"), self.put_oauth),
            ("POST", route(r"/_emulator/integrations"), self.add_integration),
            ("DELETE", route(r"/_emulator/integrations/([^/]+)/grants"), self.revoke_grants),
            ("GET", route(r"/_emulator/clock"), self.get_clock),
            ("POST", route(r"/_emulator/clock"), self.advance_clock),
        ]

    def dispatch(self, request: Request) -> Response:
        try:
            for method, pattern, handler in self.routes:
                match = pattern.fullmatch(request.path)
                if match and method == request.method:
                    return handler(request, *match.groups())
            raise ApiError(404, f"No emulator control endpoint {request.method} {request.path}.")
        except KeyError as error:
            return error_response(ApiError(404, f"Unknown id: {error.args[0]}"))
        except (ValueError, TypeError) as error:
            return error_response(ApiError(400, str(error)))
        except ApiError as error:
            return error_response(error)

    def info(self, request: Request) -> Response:
        ds = self.emu.dataset
        rooms = [
            {
                "id": r["id"],
                "title": r["title"],
                "type": r["type"],
                "messages": ds.room_message_count(r["id"]),
            }
            for r in ds.rooms.values()
        ]
        return Response.json(
            {
                "apiUrl": self.emu.api_url,
                "token": self.emu.token,
                "botToken": ds.bot_token(),
                "me": ds.tokens[self.emu.token],
                "rooms": rooms,
                "requests": len(self.emu.log.entries()),
            }
        )

    def get_log(self, request: Request) -> Response:
        return Response.json({"items": self.emu.log.to_json()})

    def clear_log(self, request: Request) -> Response:
        self.emu.log.clear()
        return Response(204)

    def get_faults(self, request: Request) -> Response:
        return Response.json(self.emu.faults.to_json())

    def put_faults(self, request: Request) -> Response:
        self.emu.faults = Faults.from_json(request.json())
        return Response.json(self.emu.faults.to_json())

    def get_settings(self, request: Request) -> Response:
        return Response.json(self.emu.settings.to_json())

    def put_settings(self, request: Request) -> Response:
        """Replace quirks, quota and latency (keys left out take their defaults)."""
        self.emu.settings = Settings.from_json(request.json())
        return self.get_settings(request)

    def get_dataset(self, request: Request) -> Response:
        return Response.json(self.emu.dataset.to_json())

    def post_message(self, request: Request) -> Response:
        body = request.json()
        files = [
            {**f, "data": base64.b64decode(f["base64"])} if "base64" in f else f
            for f in body.get("files", [])
        ]
        person = body.get("personId") or self.emu.dataset.tokens[self.emu.token]
        message = changes.post_message(
            self.emu.dataset,
            body["roomId"],
            person,
            text=body.get("text"),
            markdown=body.get("markdown"),
            html=body.get("html"),
            parent_id=body.get("parentId"),
            files=files or None,
            mentioned_people=body.get("mentionedPeople"),
            created=body.get("created"),
        )
        return Response.json(message)

    def edit_message(self, request: Request, message_id: str) -> Response:
        body = request.json()
        allowed = {"text", "markdown", "html", "updated"}
        if not body or set(body) - allowed:
            raise ValueError(f"edit takes only {', '.join(sorted(allowed))}")
        return Response.json(self.emu.edit_message(message_id, **body))

    def delete_message(self, request: Request, message_id: str) -> Response:
        self.emu.delete_message(message_id, request.arg("at"))
        return Response(204)

    def add_messages(self, request: Request, room_id: str) -> Response:
        body = request.json()
        added = changes.add_messages(
            self.emu.dataset, room_id, int(body.get("count", 1)), body.get("seed")
        )
        return Response.json({"items": [m["id"] for m in added]})

    def add_member(self, request: Request) -> Response:
        body = request.json()
        return Response.json(self.emu.add_member(body["roomId"], body["personId"], body.get("at")))

    def remove_member(self, request: Request, membership_id: str) -> Response:
        self.emu.remove_member(membership_id, request.arg("at"))
        return Response(204)

    def add_officer(self, request: Request) -> Response:
        """A compliance officer's token: for ``personId``, or a new person in no space."""
        body = request.json()
        token = self.emu.officer_token(body.get("personId"))
        return Response.json({"token": token, "personId": self.emu.dataset.tokens[token]}, 201)

    def put_compliance(self, request: Request) -> Response:
        """Change how long events (and deleted messages) are kept: ``retentionDays``."""
        days = request.json().get("retentionDays")
        if not isinstance(days, (int, float)) or days <= 0:
            raise ValueError("retentionDays is a positive number")
        self.emu.dataset.events.retention_days = float(days)
        return Response.json({"retentionDays": float(days), "officers": self.emu.dataset.officers})

    def set_scan(self, request: Request, content_id: str) -> Response:
        scan = request.json().get("scan")
        if scan not in (None, "infected", "unscannable"):
            raise ValueError("scan must be infected, unscannable or null")
        self.emu.dataset.contents[content_id].scan = scan
        return Response.json({"id": content_id, "scan": scan})

    def get_oauth(self, request: Request) -> Response:
        return Response.json(
            {
                "integrations": [i.to_json() for i in self.emu.dataset.integrations.values()],
                "settings": self.emu.dataset.oauth.to_json(),
                "signedIn": self.emu.oauth.signed_in(),
            }
        )

    def put_oauth(self, request: Request) -> Response:
        """Change lifetimes or rotation (keys left out stay) and who signs in (``signedIn``:
        a person id, or null for the token owner)."""
        body = request.json()
        if not isinstance(body, dict):
            raise ValueError("the body is a JSON object")
        settings = OAuthSettings.from_json(
            {k: v for k, v in body.items() if k != "signedIn"}, self.emu.dataset.oauth
        )
        if "signedIn" in body:
            self.emu.sign_in_as(body["signedIn"])
        self.emu.dataset.oauth = settings
        return self.get_oauth(request)

    def add_integration(self, request: Request) -> Response:
        integration = self.emu.add_integration(Integration.from_json(request.json()))
        return Response.json(integration.to_json(), 201)

    def revoke_grants(self, request: Request, client_id: str) -> Response:
        if client_id not in self.emu.dataset.integrations:
            raise KeyError(client_id)
        return Response.json({"revoked": self.emu.revoke_grants(client_id)})

    def get_clock(self, request: Request) -> Response:
        """The emulator's present and how far it was moved (clock.py)."""
        clock = self.emu.dataset.clock
        return Response.json({"now": format_time(clock.now()), "offset": clock.offset})

    def advance_clock(self, request: Request) -> Response:
        """``{"advance": seconds}``: that much time passes at once, for everything timed."""
        body = request.json()
        if not isinstance(body, dict) or set(body) != {"advance"}:
            raise ValueError('the body is {"advance": seconds}')
        self.emu.dataset.clock.advance(body["advance"])
        return self.get_clock(request)

"""Request and response values shared by the endpoint modules and the server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .ids import tracking_id

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Request:
    method: str
    path: str
    target: str  # path and query exactly as requested
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base: str  # scheme://host:port of this server, for absolute URLs
    person_id: str = ""  # the caller, once authenticated

    @classmethod
    def parse_query(cls, raw: str) -> dict[str, list[str]]:
        return parse_qs(raw, keep_blank_values=True)

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError as error:
            raise ApiError(400, f"The request body is not valid JSON: {error}") from None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    items: int = 0  # how many items a list answer carries (what its latency costs per item)

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Response:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        listed = data.get("items") if isinstance(data, dict) else None
        items = len(listed) if isinstance(listed, list) else 0
        return cls(status, body, {"Content-Type": JSON_TYPE, **headers}, items)


class ApiError(Exception):
    """An error answered in Webex's shape: ``{"message", "errors": [...], "trackingId"}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(error: ApiError) -> Response:
    """The answer to an ApiError, for the API and the control endpoints alike."""
    tid = tracking_id()
    body = {"message": error.message, "errors": [{"description": error.message}], "trackingId": tid}
    return Response.json(body, error.status, TrackingID=tid, **error.headers)

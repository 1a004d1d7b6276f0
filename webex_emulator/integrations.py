"""Registered OAuth integrations and the lifetimes of what they are issued (docs/emulator.md).

What Webex documents (developer.webex.com, "Integrations & Authorization"): an integration has
a client id, a client secret, one or more redirect URIs and the scopes it may ask for; an
access token lasts 14 days (``expires_in`` 1209600) and a refresh token 90 days
(``refresh_token_expires_in`` 7776000), the refresh token's life starting again when it is used.
What it does not say, and is our guess: how long an authorization code lives (RFC 6749 §4.1.2
recommends at most 10 minutes: 600 s here) and whether a refresh returns a new refresh token
(``refresh_rotation``: ``rotate``, the default, issues a new one and the old one stops working at
once, the strictest reading, which a client must survive; ``renew`` returns the same one with
its lifetime restarted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ACCESS_SECONDS = 14 * 24 * 3600
REFRESH_SECONDS = 90 * 24 * 3600
CODE_SECONDS = 600
ROTATIONS = ("rotate", "renew")
GRANT_TYPES = ("authorization_code", "refresh_token")
ARCHIVE_SCOPES = (
    "spark:rooms_read",
    "spark:messages_read",
    "spark:memberships_read",
    "spark:people_read",
)
# The generated data set's integration: fixed, so that docs and scripts can name it. Shaped as
# Webex's (a "C" and 64 hex digits; a secret of 64 hex digits).
DEFAULT_CLIENT_ID = "C" + "0e1a7e5a" * 8
DEFAULT_CLIENT_SECRET = "5ec2e7e0" * 8
DEFAULT_REDIRECT_URIS = ("http://localhost:8765/callback", "http://127.0.0.1:8765/callback")


HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def check_redirect_uri(uri: str) -> str:
    """An absolute http(s) URI without a fragment (RFC 6749 §3.1.2), its host plain enough to
    be named in a Content-Security-Policy header; anything else is refused at registration."""
    parts = urlsplit(uri)
    if (
        parts.scheme not in ("http", "https")
        or not HOST.fullmatch(parts.netloc)
        or parts.fragment
        or "#" in uri
        or not uri.isprintable()
        or not uri.isascii()
        or " " in uri
    ):
        raise ValueError(f"{uri!r} is not a usable redirect URI (absolute http or https, no #)")
    return uri


def _strings(data: dict, key: str, default: tuple[str, ...] = ()) -> list[str]:
    value = data.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"integration {key!r} must be a list of non-empty strings")
    return list(value)


@dataclass
class Integration:
    """One app registered at developer.webex.com → My Webex Apps."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: list[str] = field(default_factory=lambda: list(ARCHIVE_SCOPES))
    name: str = "Webex Archive (emulated)"
    grant_types: list[str] = field(default_factory=lambda: list(GRANT_TYPES))

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise ValueError("an integration needs a clientId and a clientSecret")
        if not self.redirect_uris:
            raise ValueError(f"integration {self.client_id} needs at least one redirect URI")
        for uri in self.redirect_uris:
            check_redirect_uri(uri)
        unknown = set(self.grant_types) - set(GRANT_TYPES)
        if unknown:
            raise ValueError(f"unknown grant types {sorted(unknown)}: use {list(GRANT_TYPES)}")

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "redirectUris": list(self.redirect_uris),
            "scopes": list(self.scopes),
            "grantTypes": list(self.grant_types),
        }

    @classmethod
    def from_json(cls, data: Any) -> Integration:
        if not isinstance(data, dict):
            raise ValueError("an integration is a JSON object")
        return cls(
            client_id=str(data.get("clientId") or ""),
            client_secret=str(data.get("clientSecret") or ""),
            redirect_uris=_strings(data, "redirectUris"),
            scopes=_strings(data, "scopes", ARCHIVE_SCOPES),
            name=str(data.get("name") or "Webex Archive (emulated)"),
            grant_types=_strings(data, "grantTypes", GRANT_TYPES),
        )


def default_integration() -> Integration:
    return Integration(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, list(DEFAULT_REDIRECT_URIS))


def _seconds(data: dict, key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e10:
        raise ValueError(f"{key} must be a positive number of seconds")
    return value


@dataclass
class OAuthSettings:
    """Lifetimes in seconds (fractions allowed, for tests) and the refresh-token policy."""

    access_token_seconds: float = ACCESS_SECONDS
    refresh_token_seconds: float = REFRESH_SECONDS
    code_seconds: float = CODE_SECONDS
    refresh_rotation: str = "rotate"

    def __post_init__(self) -> None:
        if self.refresh_rotation not in ROTATIONS:
            raise ValueError(f"refreshRotation must be one of {list(ROTATIONS)}")

    def to_json(self) -> dict:
        return {
            "accessTokenSeconds": self.access_token_seconds,
            "refreshTokenSeconds": self.refresh_token_seconds,
            "codeSeconds": self.code_seconds,
            "refreshRotation": self.refresh_rotation,
        }

    @classmethod
    def from_json(cls, data: Any, base: OAuthSettings | None = None) -> OAuthSettings:
        """Settings from JSON; keys left out keep ``base``'s values (the defaults if none)."""
        if not isinstance(data, dict):
            raise ValueError("the oauth settings are a JSON object")
        base = base or cls()
        return cls(
            access_token_seconds=_seconds(data, "accessTokenSeconds", base.access_token_seconds),
            refresh_token_seconds=_seconds(data, "refreshTokenSeconds", base.refresh_token_seconds),
            code_seconds=_seconds(data, "codeSeconds", base.code_seconds),
            refresh_rotation=str(data.get("refreshRotation", base.refresh_rotation)),
        )

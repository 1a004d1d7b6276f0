"""What the OAuth endpoints have issued: authorization codes, access and refresh tokens.

Kept while the emulator runs, never in the data-set file (Webex does not export them either).
Times are the data set's clock's ``monotonic()`` (clock.py): the machine's monotonic clock,
not fooled by changes to the wall clock, moved forward when a test advances the emulator's.
A code is single use; presenting it a second time also revokes the tokens it gave, as
RFC 6749 §4.1.2 asks ("SHOULD revoke"). Revoking a refresh token revokes the access tokens
issued from it, as Webex documents for its Authorizations API.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from .clock import Clock
from .integrations import OAuthSettings


class OAuthError(Exception):
    """An OAuth 2 error (RFC 6749 §5.2): its code, a description, and the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400, **headers: str):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_token() -> str:
    """A random token shaped as Webex's: 64 letters and digits, ``_PF84_``, an org uuid."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(64))
    return f"{body}_PF84_{secrets.token_hex(16)}"


@dataclass
class Refresh:
    """One refresh token: the grant it stands for and the access tokens it issued."""

    client_id: str
    scopes: list[str]
    person_id: str
    expires: float
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class Code:
    """An authorization code and what it was issued for."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    person_id: str
    expires: float
    challenge: str | None = None
    method: str | None = None
    used: bool = False
    grant: Refresh | None = None  # what redeeming it gave, so that a replay can revoke it


@dataclass
class Issued:
    """A successful token answer, before it is put in Webex's JSON shape."""

    access_token: str
    access_seconds: float
    refresh_token: str
    refresh_seconds: float
    scopes: list[str]


class Grants:
    """Thread-safe store of codes and tokens; every lookup checks expiry."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.codes: dict[str, Code] = {}
        self.access: dict[str, tuple[str, float, str]] = {}  # token → person, expiry, client
        self.refresh: dict[str, Refresh] = {}

    def issue_code(self, code: Code) -> str:
        value = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[value] = code
        return value

    def redeem(self, value: str) -> Code | None:
        """The code if this is its first use while it lives, else None; a second use also
        revokes the tokens the first one gave."""
        with self.lock:
            code = self.codes.get(value)
            if code is None or self.clock.monotonic() >= code.expires:
                return None
            if code.used:
                self._revoke_grant(code.grant)
                return None
            code.used = True
            return code

    def person_for(self, token: str) -> str | None:
        """Whom an issued access token authenticates, while it lives."""
        with self.lock:
            entry = self.access.get(token)
            if entry is None or self.clock.monotonic() >= entry[1]:
                return None
            return entry[0]

    def issue(self, code: Code, settings: OAuthSettings) -> Issued:
        """Tokens for a redeemed code: a new grant (refresh token) and its first access token."""
        refresh_token = new_token()
        with self.lock:
            code.grant = Refresh(
                code.client_id,
                code.scopes,
                code.person_id,
                self.clock.monotonic() + settings.refresh_token_seconds,
            )
            self.refresh[refresh_token] = code.grant
            return self._answer(refresh_token, code.scopes, settings)

    def use_refresh(
        self, token: str, client_id: str, asked: list[str] | None, settings: OAuthSettings
    ) -> Issued:
        """A new access token from a live refresh token of this client, rotating or renewing
        the refresh token; ``asked`` may narrow the scopes, never widen them (RFC 6749 §6)."""
        with self.lock:
            grant = self.refresh.get(token)
            if grant is None or self.clock.monotonic() >= grant.expires:
                raise OAuthError("invalid_grant", "The refresh token is invalid or expired.")
            if grant.client_id != client_id:
                raise OAuthError("invalid_grant", "The refresh token was issued to another client.")
            if asked is not None and (not asked or not set(asked) <= set(grant.scopes)):
                raise OAuthError("invalid_scope", "A refresh may only ask for granted scopes.")
            scopes = grant.scopes if asked is None else asked
            if settings.refresh_rotation == "rotate":
                del self.refresh[token]
                token = new_token()
                self.refresh[token] = grant
            grant.expires = self.clock.monotonic() + settings.refresh_token_seconds
            return self._answer(token, scopes, settings)

    def _answer(self, refresh_token: str, scopes: list[str], settings: OAuthSettings) -> Issued:
        grant = self.refresh[refresh_token]
        access_token = new_token()
        expires = self.clock.monotonic() + settings.access_token_seconds
        self.access[access_token] = (grant.person_id, expires, grant.client_id)
        grant.access_tokens.append(access_token)
        return Issued(
            access_token,
            settings.access_token_seconds,
            refresh_token,
            max(0.0, grant.expires - self.clock.monotonic()),
            scopes,
        )

    def revoke_client(self, client_id: str) -> int:
        """Revoke every grant of an integration (a user removing it); how many were live."""
        with self.lock:
            grants = [g for g in self.refresh.values() if g.client_id == client_id]
            for grant in grants:
                self._revoke_grant(grant)
            return len(grants)

    def _revoke_grant(self, grant: Refresh | None) -> None:
        """Its refresh token (whatever rotation made of it) and every access token it gave."""
        for token in [t for t, g in self.refresh.items() if g is grant]:
            del self.refresh[token]
        for access_token in grant.access_tokens if grant else []:
            self.access.pop(access_token, None)

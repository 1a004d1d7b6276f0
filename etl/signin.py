"""Signing in with an integration: the authorize URL, and the code and refresh grants.

Documented by Webex (developer.webex.com, "Integrations & Authorization"; webex-api.md §12):
the browser goes to ``{api}/authorize`` with ``response_type=code``, ``client_id``,
``redirect_uri``, ``scope`` and ``state``; the code is exchanged, and the tokens renewed, by
a form-encoded ``POST {api}/access_token`` carrying the client id and secret, which answers
``access_token``, ``expires_in``, ``refresh_token`` and ``refresh_token_expires_in`` (seconds;
about 14 and 90 days). Webex recommends the code flow with PKCE (RFC 7636, ``S256``) for
"Login with Webex", which uses the same two endpoints; that integrations accept it too is our
reading (the emulator does), so the command line can turn it off.

Our reading where Webex is silent: errors are RFC 6749 §5.2 bodies (``error``,
``error_description``), a refresh may or may not return a new refresh token (the old one is
kept when none comes back, §6), and ``scope`` may be missing from an answer (the scopes asked
for are kept then). Both URLs derive from the API URL, so the emulator signs in the same way.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from .webex_errors import AuthError, NetworkError, ServerError, describe

# What an archive reads (webex-api.md §12); compliance officers add spark-compliance:*_read.
READ_SCOPES = (
    "spark:rooms_read",
    "spark:messages_read",
    "spark:memberships_read",
    "spark:people_read",
)
LOGIN_AGAIN = "run `webex-archive login` again"
TRIES = 3  # a token request that fails with 5xx or a broken connection is tried again
TIMEOUT = (10.0, 30.0)


class SigninError(AuthError):
    """Webex refused a sign-in or a renewal: one line, saying what to do. An ``AuthError``,
    so that a renewal refused in the middle of a sync stops the run as a 401 does."""


@dataclass(frozen=True)
class Integration:
    """The user's own integration (developer.webex.com → My Webex Apps)."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint gave, with lifetimes turned into times (seconds since the
    epoch): ``lifetime`` is how long the access token was issued for."""

    access_token: str
    expires_at: float
    lifetime: float
    refresh_token: str
    refresh_expires_at: float | None
    scopes: tuple[str, ...]


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE verifier (64 URL-safe characters, RFC 7636 §4.1) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    api_url: str,
    client_id: str,
    redirect_uri: str,
    scopes: tuple[str, ...],
    state: str,
    challenge: str | None,
) -> str:
    """Where the browser goes to approve the integration."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    if challenge is not None:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return f"{api_url.rstrip('/')}/authorize?{urlencode(query)}"


def exchange_code(
    api_url: str,
    integration: Integration,
    code: str,
    redirect_uri: str,
    verifier: str | None,
    scopes: tuple[str, ...],
    now: Callable[[], float] = time.time,
) -> Tokens:
    """The authorization code for tokens (it can be used once)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return _tokens(_post(api_url, integration, form), None, scopes, now())


def refresh_tokens(
    api_url: str,
    integration: Integration,
    refresh_token: str,
    scopes: tuple[str, ...],
    now: Callable[[], float] = time.time,
) -> Tokens:
    """New tokens for a refresh token. Webex may rotate the refresh token: the one given is
    then spent, and only the answer's may be used again."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _tokens(_post(api_url, integration, form), refresh_token, scopes, now())


def _post(api_url: str, integration: Integration, form: dict[str, str]) -> dict[str, Any]:
    """POST to the token endpoint; 5xx and broken connections are tried again (a refresh
    whose answer was lost may have spent its refresh token: then Webex says invalid_grant)."""
    url = f"{api_url.rstrip('/')}/access_token"
    body = {**form, "client_id": integration.client_id, "client_secret": integration.client_secret}
    headers = {"Accept": "application/json", "User-Agent": "webex-space-archive"}
    problem = ""
    for attempt in range(TRIES):
        if attempt:
            time.sleep(attempt)
        try:
            response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout) as error:
            problem = describe(error)
            continue
        with response:
            if response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            return _answer(response)
    if problem.startswith("HTTP"):
        raise ServerError(f"Webex's sign-in kept failing ({problem}); try again later")
    raise NetworkError(f"cannot reach Webex's sign-in at {url}: {problem}; check --api-url")


def _answer(response: requests.Response) -> dict[str, Any]:
    """The token answer's JSON, or the one-line error its §5.2 body names."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SigninError(
            f"Webex's sign-in answered {response.status_code} without JSON; check --api-url"
        )
    if response.status_code == 200 and isinstance(body.get("access_token"), str):
        return body
    raise oauth_error(str(body.get("error") or ""), body.get("error_description"))


def oauth_error(error: str, description: object) -> SigninError:
    """An RFC 6749 error code (token endpoint §5.2, or redirect §4.1.2.1) as one line."""
    if error == "invalid_grant":
        return SigninError(f"the Webex sign-in has expired or was revoked ({error}): {LOGIN_AGAIN}")
    if error == "invalid_client":
        return SigninError(
            f"Webex refused the integration's client id or secret ({error}): check them at "
            f"developer.webex.com → My Webex Apps and {LOGIN_AGAIN}"
        )
    if error == "access_denied":
        return SigninError(
            "the sign-in was denied in the browser: run `webex-archive login` to try again"
        )
    said = one_line(description)
    return SigninError(
        f"Webex refused the sign-in ({one_line(error) or 'no error code'}"
        f"{': ' + said if said else ''}); {LOGIN_AGAIN}"
    )


def one_line(text: object, limit: int = 200) -> str:
    """Text from the server made one short printable line (it is untrusted)."""
    if not isinstance(text, str):
        return ""
    printable = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(printable.split())[:limit]


def _tokens(
    body: dict[str, Any], old_refresh: str | None, scopes: tuple[str, ...], now: float
) -> Tokens:
    lifetime = _seconds(body.get("expires_in"))
    refresh = body.get("refresh_token") or old_refresh
    if lifetime is None or not isinstance(refresh, str) or not refresh:
        raise SigninError("Webex's sign-in answered without an expiry or a refresh token")
    refresh_lifetime = _seconds(body.get("refresh_token_expires_in"))
    granted = body.get("scope")
    return Tokens(
        access_token=body["access_token"],
        expires_at=now + lifetime,
        lifetime=lifetime,
        refresh_token=refresh,
        refresh_expires_at=None if refresh_lifetime is None else now + refresh_lifetime,
        scopes=tuple(granted.split()) if isinstance(granted, str) and granted else scopes,
    )


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        return None
    return float(value)

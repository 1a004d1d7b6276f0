"""The OAuth code flow against the emulator over real HTTP, for the OAuth tests."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from webex_emulator import Emulator
from webex_emulator.integrations import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

CID, SECRET = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
REDIRECT = "http://localhost:8765/callback"
SCOPE = "spark:rooms_read spark:messages_read"


def authorize(emu: Emulator, **params: str | None) -> requests.Response:
    """GET /v1/authorize with the default integration's parameters, overridable (None drops)."""
    query = {
        "response_type": "code",
        "client_id": CID,
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "s-1",
        **params,
    }
    query = {k: v for k, v in query.items() if v is not None}
    return requests.get(emu.api_url + "/authorize", params=query, allow_redirects=False, timeout=10)


def consent_of(page: requests.Response) -> str:
    assert page.status_code == 200, page.text
    return re.search(r'name="consent" value="([^"]+)"', page.text).group(1)


def decide(emu: Emulator, consent: str, decision: str = "approve") -> requests.Response:
    return requests.post(
        emu.api_url + "/authorize",
        data={"consent": consent, "decision": decision},
        allow_redirects=False,
        timeout=10,
    )


def redirected(response: requests.Response) -> tuple[str, dict[str, str]]:
    """Where a 302 goes (without its query) and its query parameters."""
    assert response.status_code == 302, response.text
    parts = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


def get_code(emu: Emulator, **params: str | None) -> str:
    return redirected(decide(emu, consent_of(authorize(emu, **params))))[1]["code"]


def token(emu: Emulator, auth: tuple[str, str] | None = None, **form: str) -> requests.Response:
    return requests.post(emu.api_url + "/access_token", data=form, auth=auth, timeout=10)


def exchange(emu: Emulator, code: str, **form: str) -> requests.Response:
    body = {
        "grant_type": "authorization_code",
        "client_id": CID,
        "client_secret": SECRET,
        "code": code,
        "redirect_uri": REDIRECT,
        **form,
    }
    return token(emu, **body)


def refresh(emu: Emulator, refresh_token: str, **form: str) -> requests.Response:
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token, **form}
    return token(emu, auth=(CID, SECRET), **body)


def tokens(emu: Emulator, **params: str | None) -> dict:
    """A full approve-and-exchange: the token answer."""
    answer = exchange(emu, get_code(emu, **params))
    assert answer.status_code == 200, answer.text
    return answer.json()


def me(emu: Emulator, access_token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(emu.api_url + "/people/me", headers=headers, timeout=10)


def oauth_error(response: requests.Response, status: int, error: str) -> None:
    """An RFC 6749 §5.2 error body (with Webex's own keys), not cached."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_description"] == body["message"] == body["errors"][0]["description"]
    assert response.headers["Cache-Control"] == "no-store"

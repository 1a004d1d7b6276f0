"""The emulator's OAuth integration side over real HTTP: the code flow approved and denied,
every error of both endpoints, single-use codes, PKCE, expiry (on either side of each lifetime,
the emulator's clock moved instead of waiting), refresh rotation, revocation and the data-set
file round trip."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

from tests.webex_emulator.oauth_helpers import (
    CID,
    REDIRECT,
    SCOPE,
    SECRET,
    authorize,
    consent_of,
    decide,
    exchange,
    get_code,
    me,
    oauth_error,
    redirected,
    refresh,
    token,
    tokens,
)
from webex_emulator.integrations import Integration, OAuthSettings


def test_approved_code_flow_gives_tokens_that_work_as_the_owner(emu):
    page = authorize(emu)
    assert "Webex Archive (emulated)" in page.text and "Ada Lovelace" in page.text
    assert "<code>spark:rooms_read</code>" in page.text
    assert "<code>spark:messages_read</code>" in page.text
    where, query = redirected(decide(emu, consent_of(page)))
    assert where == REDIRECT and query["state"] == "s-1" and set(query) == {"code", "state"}
    answer = exchange(emu, query["code"])
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
        "scope",
    }
    assert (body["expires_in"], body["refresh_token_expires_in"]) == (1_209_600, 7_776_000)
    assert body["token_type"] == "Bearer" and body["scope"] == SCOPE
    assert me(emu, body["access_token"]).json()["id"] == emu.dataset.tokens[emu.token]
    rooms = requests.get(
        emu.api_url + "/rooms",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    owner_rooms = requests.get(
        emu.api_url + "/rooms", headers={"Authorization": f"Bearer {emu.token}"}, timeout=10
    )
    assert rooms.json() == owner_rooms.json() and len(rooms.json()["items"]) == 4
    assert me(emu, body["refresh_token"]).status_code == 401  # a refresh token is no bearer


def test_denied_flow_redirects_with_access_denied_and_state(emu):
    where, query = redirected(decide(emu, consent_of(authorize(emu, state="st&=ü")), "deny"))
    assert where == REDIRECT
    assert query == {
        "error": "access_denied",
        "error_description": "The user denied access.",
        "state": "st&=ü",
    }


def test_redirect_keeps_the_registered_uris_own_query(emu):
    emu.add_integration(Integration("Cx", "sx", ["http://127.0.0.1:9/cb?app=1"]))
    response = authorize(emu, client_id="Cx", redirect_uri="http://127.0.0.1:9/cb?app=1")
    location = decide(emu, consent_of(response)).headers["Location"]
    assert location.startswith("http://127.0.0.1:9/cb?app=1&code=")
    assert location.endswith("&state=s-1")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"client_id": "Cnobody"}, "client_id does not name a registered integration"),
        ({"client_id": None}, "client_id does not name a registered integration"),
        ({"redirect_uri": "http://localhost:8766/callback"}, "redirect_uri is not registered"),
        ({"redirect_uri": REDIRECT + "/"}, "redirect_uri is not registered"),
        ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri is not registered"),
        ({"redirect_uri": None}, "redirect_uri is not registered"),
        ({"client_id": f"{CID}&client_id=Cnobody"}, "client_id does not name"),
    ],
)
def test_bad_client_or_redirect_uri_is_an_error_page_never_a_redirect(emu, params, message):
    response = authorize(emu, response_type="token", **params)  # also a wrong response_type
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert message in response.text and "evil.example" not in response.text


def test_a_parameter_given_twice_is_an_error_page(emu):
    url = emu.api_url + "/authorize?client_id=" + CID + "&client_id=Cother&redirect_uri=" + REDIRECT
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 400 and "given more than once" in response.text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "spark:all"}, "invalid_scope"),
        ({"scope": SCOPE + " spark:messages_write"}, "invalid_scope"),
        ({"scope": " "}, "invalid_scope"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge": "a" * 42, "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": "a" * 42 + "!", "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_request_errors_go_back_to_the_registered_redirect_uri(emu, params, error):
    where, query = redirected(authorize(emu, **params))
    assert where == REDIRECT and query["error"] == error and query["state"] == "s-1"
    assert "code" not in query and query["error_description"]


def test_consent_form_answers_once_and_only_approve_or_deny(emu):
    consent = consent_of(authorize(emu))
    assert decide(emu, consent, "maybe").status_code == 400
    assert "expired or was already answered" in decide(emu, consent).text  # "maybe" used it
    second = consent_of(authorize(emu))
    assert decide(emu, second).status_code == 302
    again = decide(emu, second)
    assert again.status_code == 400 and "Location" not in again.headers
    assert decide(emu, "forged").status_code == 400


def test_consent_page_is_locked_down(emu):
    page = authorize(emu)
    csp = page.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'nonce-")
    assert "form-action 'self' http://localhost:8765;" in csp
    assert page.headers["X-Frame-Options"] == "DENY" and "<script" not in page.text


def test_hostile_names_are_escaped_on_the_consent_page(emu):
    evil = "<script>alert(1)</script>"
    emu.add_integration(Integration("Ch", "sh", [REDIRECT], ["spark:rooms_read"], name=evil))
    page = authorize(emu, client_id="Ch", scope="spark:rooms_read")
    assert evil not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def _body(**changes: str | None) -> dict:
    code_form = {
        "grant_type": "authorization_code",
        "client_id": CID,
        "client_secret": SECRET,
        "redirect_uri": REDIRECT,
    }
    return {k: v for k, v in {**code_form, **changes}.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"grant_type": None}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_secret": None}, 401, "invalid_client"),
        ({"client_id": "Cnobody"}, 401, "invalid_client"),
        ({"client_id": None, "client_secret": None}, 401, "invalid_client"),
        ({"code": None}, 400, "invalid_request"),
        ({"redirect_uri": None}, 400, "invalid_request"),
        ({"code": "not-a-code"}, 400, "invalid_grant"),
        ({"redirect_uri": "http://127.0.0.1:8765/callback"}, 400, "invalid_grant"),
        ({"code_verifier": "v" * 43}, 400, "invalid_grant"),
    ],
)
def test_code_exchange_errors(emu, changes, status, error):
    code = get_code(emu)
    body = _body(**{"code": code, **changes})
    oauth_error(token(emu, **body), status, error)


def test_client_authentication_by_http_basic(emu):
    body = _body(code=get_code(emu), client_id=None, client_secret=None)
    assert token(emu, auth=(CID, SECRET), **body).status_code == 200
    wrong = token(emu, auth=(CID, "nope"), **_body(code=get_code(emu), client_secret=None))
    oauth_error(wrong, 401, "invalid_client")
    assert wrong.headers["WWW-Authenticate"] == 'Basic realm="webexapis.com"'
    both = token(emu, auth=(CID, SECRET), **_body(code=get_code(emu)))
    oauth_error(both, 400, "invalid_request")
    garbled = requests.post(
        emu.api_url + "/access_token",
        data=_body(code=get_code(emu), client_secret=None),
        headers={"Authorization": "Basic %%%"},
        timeout=10,
    )
    oauth_error(garbled, 401, "invalid_client")


def test_token_endpoint_takes_only_a_form_post(emu):
    as_json = requests.post(emu.api_url + "/access_token", json=_body(code="x"), timeout=10)
    oauth_error(as_json, 400, "invalid_request")
    twice = requests.post(
        emu.api_url + "/access_token",
        data=[*_body(code=get_code(emu)).items(), ("code", "other")],
        timeout=10,
    )
    oauth_error(twice, 400, "invalid_request")
    assert requests.get(emu.api_url + "/access_token", timeout=10).status_code == 405


def test_a_code_is_single_use_and_a_replay_revokes_its_tokens(emu):
    code = get_code(emu)
    first = exchange(emu, code).json()
    assert me(emu, first["access_token"]).status_code == 200
    oauth_error(exchange(emu, code), 400, "invalid_grant")
    assert me(emu, first["access_token"]).status_code == 401
    oauth_error(refresh(emu, first["refresh_token"]), 400, "invalid_grant")


def test_a_code_of_another_client_is_refused_and_used_up(emu):
    emu.add_integration(Integration("Co", "so", [REDIRECT]))
    code = get_code(emu)
    oauth_error(exchange(emu, code, client_id="Co", client_secret="so"), 400, "invalid_grant")
    oauth_error(exchange(emu, code), 400, "invalid_grant")


def test_codes_expire(emu):
    """A code lives ``codeSeconds`` (600 by default) of the emulator's clock."""
    fresh, stale = get_code(emu), get_code(emu)
    emu.clock.advance(590)
    assert exchange(emu, fresh).status_code == 200
    emu.clock.advance(11)
    oauth_error(exchange(emu, stale), 400, "invalid_grant")


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_pkce_s256_and_plain(emu):
    verifier = "Vq-._~" + "x" * 60
    s256 = {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    assert exchange(emu, get_code(emu, **s256), code_verifier=verifier).status_code == 200
    for wrong in ("y" * 66, verifier[:42], None):
        extra = {"code_verifier": wrong} if wrong else {}
        oauth_error(exchange(emu, get_code(emu, **s256), **extra), 400, "invalid_grant")
    plain = {"code_challenge": verifier}  # the method defaults to plain (RFC 7636 §4.3)
    assert exchange(emu, get_code(emu, **plain), code_verifier=verifier).status_code == 200
    oauth_error(
        exchange(emu, get_code(emu, **plain), code_verifier=_challenge(verifier)),
        400,
        "invalid_grant",
    )


def test_access_tokens_expire_and_refresh_gives_working_ones(emu):
    emu.dataset.oauth = OAuthSettings(access_token_seconds=3600)
    first = tokens(emu)
    assert first["expires_in"] == 3600 and me(emu, first["access_token"]).status_code == 200
    emu.clock.advance(3590)
    assert me(emu, first["access_token"]).status_code == 200
    emu.clock.advance(11)
    expired = me(emu, first["access_token"])
    assert expired.status_code == 401
    assert expired.json()["message"] == (
        "The request requires a valid access token set in the Authorization request header."
    )
    second = refresh(emu, first["refresh_token"]).json()
    assert me(emu, second["access_token"]).json()["id"] == emu.dataset.tokens[emu.token]
    assert second["scope"] == SCOPE and second["expires_in"] == 3600


def test_refresh_tokens_rotate_by_default(emu):
    first = tokens(emu)
    second = refresh(emu, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["refresh_token_expires_in"] == 7_776_000
    oauth_error(refresh(emu, first["refresh_token"]), 400, "invalid_grant")
    third = refresh(emu, second["refresh_token"])
    assert third.status_code == 200
    assert me(emu, first["access_token"]).status_code == 200  # access tokens live out their time


def test_renewed_refresh_token_is_the_same_and_lives_on_while_used(emu):
    emu.dataset.oauth = OAuthSettings(refresh_token_seconds=1.5, refresh_rotation="renew")
    first = tokens(emu)
    for _ in range(3):  # 3 s in all, twice the lifetime: each use restarts it
        emu.clock.advance(1)
        again = refresh(emu, first["refresh_token"]).json()
        assert again["refresh_token"] == first["refresh_token"]
        assert again["refresh_token_expires_in"] == 2  # 1.5 s, rounded up
    emu.clock.advance(1.7)
    oauth_error(refresh(emu, first["refresh_token"]), 400, "invalid_grant")


def test_refresh_tokens_expire(emu):
    """90 days by default, as Webex documents: a grant used a moment before works, another
    one issued with it is refused a moment after."""
    used, unused = tokens(emu), tokens(emu)
    assert used["refresh_token_expires_in"] == 90 * 86_400
    emu.clock.advance(90 * 86_400 - 10)
    assert refresh(emu, used["refresh_token"]).status_code == 200
    emu.clock.advance(11)
    oauth_error(refresh(emu, unused["refresh_token"]), 400, "invalid_grant")


def test_refresh_errors(emu):
    first = tokens(emu)
    narrower = refresh(emu, first["refresh_token"], scope="spark:rooms_read").json()
    assert narrower["scope"] == "spark:rooms_read"
    wider = refresh(emu, narrower["refresh_token"], scope=SCOPE + " spark:people_read")
    oauth_error(wider, 400, "invalid_scope")
    oauth_error(refresh(emu, ""), 400, "invalid_request")
    emu.add_integration(Integration("Co", "so", [REDIRECT]))
    other = token(
        emu, auth=("Co", "so"), grant_type="refresh_token", refresh_token=narrower["refresh_token"]
    )
    oauth_error(other, 400, "invalid_grant")


def test_grant_types_an_integration_may_not_use(emu):
    emu.add_integration(Integration("Cc", "sc", [REDIRECT], grant_types=["authorization_code"]))
    code = get_code(emu, client_id="Cc")
    answer = exchange(emu, code, client_id="Cc", client_secret="sc").json()
    refused = token(
        emu, auth=("Cc", "sc"), grant_type="refresh_token", refresh_token=answer["refresh_token"]
    )
    oauth_error(refused, 400, "unauthorized_client")
    emu.add_integration(Integration("Cr", "sr", [REDIRECT], grant_types=["refresh_token"]))
    assert redirected(authorize(emu, client_id="Cr"))[1]["error"] == "unauthorized_client"

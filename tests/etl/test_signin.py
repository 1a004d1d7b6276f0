"""etl.signin and the client's token source against the emulator's OAuth endpoints, over real
HTTP: the code and refresh grants, RFC 6749 errors as one line, and a 401 in the middle of a
walk answered by one renewal, the request sent again and nothing fetched lost."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from etl.api import AuthError, RetryPolicy, WebexClient
from etl.signin import (
    READ_SCOPES,
    Integration,
    SigninError,
    authorize_url,
    exchange_code,
    pkce_pair,
    refresh_tokens,
)
from etl.tokens import FixedToken
from tests.conftest import expected_ids, group_room
from tests.webex_emulator.oauth_helpers import CID, REDIRECT, SECRET, consent_of, decide, redirected
from webex_emulator import OAuthSettings

FAST = RetryPolicy(tries=2, backoff=0.01, backoff_cap=0.02)
APP = Integration(CID, SECRET)


def signed_in(emu, verifier: str | None = None, challenge: str | None = None):
    """A code approved on the consent page and exchanged by etl.signin."""
    url = authorize_url(emu.api_url, CID, REDIRECT, READ_SCOPES, "st", challenge)
    page = requests.get(url, timeout=10)
    _, query = redirected(decide(emu, consent_of(page)))
    assert query["state"] == "st"
    return exchange_code(emu.api_url, APP, query["code"], REDIRECT, verifier, READ_SCOPES)


def test_the_authorize_url_carries_state_scopes_and_an_s256_challenge(emu):
    verifier, challenge = pkce_pair()
    assert len(verifier) == 64 and len(challenge) == 43 and "=" not in challenge
    url = authorize_url("https://webexapis.com/v1/", CID, REDIRECT, READ_SCOPES, "s", challenge)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "webexapis.com", "/v1/authorize")
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": CID,
        "redirect_uri": REDIRECT,
        "scope": " ".join(READ_SCOPES),
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    tokens = signed_in(emu, verifier, challenge)  # the emulator checks the verifier
    assert tokens.scopes == READ_SCOPES and tokens.lifetime == 14 * 86400


def test_a_code_exchange_without_the_verifier_is_refused_in_one_line(emu):
    _, challenge = pkce_pair()
    with pytest.raises(SigninError) as error:
        signed_in(emu, None, challenge)
    assert str(error.value) == (
        "the Webex sign-in has expired or was revoked (invalid_grant): "
        "run `webex-archive login` again"
    )


def test_refresh_rotates_and_a_spent_refresh_token_is_invalid_grant(emu):
    first = signed_in(emu)
    second = refresh_tokens(emu.api_url, APP, first.refresh_token, READ_SCOPES)
    assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
    with pytest.raises(SigninError, match=r"expired or was revoked \(invalid_grant\)"):
        refresh_tokens(emu.api_url, APP, first.refresh_token, READ_SCOPES)
    with pytest.raises(SigninError, match=r"client id or secret \(invalid_client\)"):
        refresh_tokens(emu.api_url, Integration(CID, "wrong"), second.refresh_token, READ_SCOPES)


class Renewing:
    """A token source over etl.signin, as the command line's is over its store."""

    def __init__(self, emu, first: str, refresh_token: str):
        self.emu, self.current, self.refresh_token = emu, first, refresh_token
        self.rejected: list[str] = []

    def token(self) -> str:
        return self.current

    def refresh(self, rejected: str) -> str | None:
        self.rejected.append(rejected)
        tokens = refresh_tokens(self.emu.api_url, APP, self.refresh_token, READ_SCOPES)
        self.current, self.refresh_token = tokens.access_token, tokens.refresh_token
        return self.current


def test_a_401_mid_walk_renews_once_and_the_walk_goes_on(emu, dataset):
    tokens = signed_in(emu)
    source = Renewing(emu, tokens.access_token, tokens.refresh_token)
    room = group_room(dataset)["id"]
    with WebexClient(source, emu.api_url, retry=FAST) as client:
        pages = client.pages("messages", {"roomId": room, "max": 10})
        ids = [m["id"] for m in next(pages)]
        emu.revoke_grants(CID)  # the access token now answers 401, and so does its refresh
        source.refresh_token = signed_in(emu).refresh_token  # a new sign-in can renew
        ids += [m["id"] for page in pages for m in page]
    assert ids == expected_ids(dataset, room)  # nothing lost, nothing twice
    assert source.rejected == [tokens.access_token]
    statuses = [(e.path.split("?")[0], e.status) for e in emu.log.entries()][-14:]
    assert ("/v1/messages", 401) in statuses and ("/v1/access_token", 200) in statuses


def test_a_renewed_token_rejected_too_says_log_in_again(emu, dataset):
    emu.dataset.oauth = OAuthSettings(refresh_rotation="renew")
    tokens = signed_in(emu)
    source = Renewing(emu, tokens.access_token, tokens.refresh_token)
    source.refresh = lambda rejected: "not-a-token"  # type: ignore[method-assign]
    emu.revoke_grants(CID)
    with WebexClient(source, emu.api_url, retry=FAST) as client, pytest.raises(AuthError) as error:
        client.get_json("people/me")
    assert str(error.value) == (
        "Webex rejected the renewed sign-in too (401): run `webex-archive login` again"
    )


def test_a_renewal_refused_stops_with_the_signin_error(emu):
    tokens = signed_in(emu)
    source = Renewing(emu, tokens.access_token, tokens.refresh_token)
    emu.revoke_grants(CID)
    with (
        WebexClient(source, emu.api_url, retry=FAST) as client,
        pytest.raises(SigninError) as error,
    ):
        client.get_json("people/me")
    assert "(invalid_grant): run `webex-archive login` again" in str(error.value)
    assert isinstance(error.value, AuthError)  # so a sync stops as on any 401


def test_a_fixed_token_is_never_renewed(emu):
    client = WebexClient(FixedToken("wrong"), emu.api_url, retry=FAST)
    with client, pytest.raises(AuthError, match="personal tokens last 12 hours"):
        client.get_json("people/me")
    paths = [e.path for e in emu.log.entries()]
    assert paths == ["/v1/people/me"]

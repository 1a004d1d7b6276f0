"""The Bearer token goes only where requests will really connect to the API (issue 13, item 1).

URLs from other people's data (files, avatars, ``Location``, ``Link``) are generated with every
trick parsers disagree on, and sent through the real WebexClient. The transport records each
prepared request and asks requests' own adapter which connection pool (scheme, host, port) it
would use, without connecting; urllib3's reading of the prepared URL must agree with it. The
token must be on exactly the hops that go to the API's scheme, host and port (or a Webex host
over https): never elsewhere, and always for a plain URL that goes there.
"""

from __future__ import annotations

import contextlib
import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from urllib3.util import parse_url

from etl.api import WebexClient, WebexError
from etl.origin import connection_target, is_webex_file_host

API_HOST, API_PORT = "127.0.0.1", 8765
API_URL = f"http://{API_HOST}:{API_PORT}/v1"
TOKEN = "secret-token"
TRUSTED = {("http", API_HOST, API_PORT)}

# Clean parts: a URL built from these alone is unambiguous.
SCHEMES = ["http", "https", "HTTP", "ftp", "file"]
HOSTS = [API_HOST, "localhost", "webexapis.com", "api.ciscospark.com", "evil.example",
         "WEBEXAPIS.COM", "webexapis.com.evil.example", "evilwebex.com", "[::1]", "127.0.0.2",
         "xn--webexapis-9za.com", "0x7f.0.0.1", "2130706433"]  # fmt: skip
PORTS = ["", f":{API_PORT}", ":443", ":80", f":0{API_PORT}", ":", ":8766"]
PATHS = ["", "/", "/v1/contents/x", "/v1/people/me?x=1", "/a#frag", "/%41b"]
# Tricks: each makes some parser read the authority differently, or is refused outright.
TRICKS = ["\\", "@", "\\@", "%2e", "%40", "%2f@", " ", "\t", "\n", "\r", "\x00", "\x7f",
          "\u3002", "\uff0e", "\u0131", "evil.example@", f"{API_HOST}:{API_PORT}@", "#@",
          "?@", ";@", "/\\", "//", "[", "]", "%00", "\u00a0", "\u200b"]  # fmt: skip


@st.composite
def urls(draw) -> tuple[str, bool]:
    """(url, clean): clean when built from clean parts only, with no trick inserted."""
    scheme, host = draw(st.sampled_from(SCHEMES)), draw(st.sampled_from(HOSTS))
    port, path = draw(st.sampled_from(PORTS)), draw(st.sampled_from(PATHS))
    userinfo = draw(st.sampled_from(["", "", "", "user@", "a:b@", "evil.example\\@"]))
    url = f"{scheme}://{userinfo}{host}{port}{path}"
    clean = userinfo == ""
    for _ in range(draw(st.integers(0, 3))):
        trick = draw(st.one_of(st.sampled_from(TRICKS), st.text(min_size=1, max_size=3)))
        at = draw(st.integers(0, len(url)))
        url, clean = url[:at] + trick + url[at:], False
    return url, clean


class Recorder(HTTPAdapter):
    """The network boundary: records each prepared request with the pool requests would use,
    answers the first hop to the API with ``first`` and any other with 200 ``{}``."""

    def __init__(self) -> None:
        super().__init__()
        self.hops: list[tuple[str, str | None, tuple[str, str, int]]] = []
        self.first: requests.Response | None = None

    def send(self, request, **kwargs):
        pool = self.get_connection_with_tls_context(request, kwargs.get("verify", True))
        target = (pool.scheme, pool.host.strip("[]"), pool.port)
        self.hops.append((request.url, request.headers.get("Authorization"), target))
        answer, self.first = self.first, None
        if answer is None:
            answer = answer_with(200, {"Content-Type": "application/json"}, b"{}")
        answer.request, answer.url = request, request.url
        return answer


def answer_with(status: int, headers: dict[str, str], body: bytes = b"") -> requests.Response:
    response = requests.Response()
    response.status_code, response._content, response._content_consumed = status, body, True
    response.headers.update(headers)
    return response


@pytest.fixture(scope="module")
def client():
    with WebexClient(TOKEN, API_URL) as webex:
        yield webex


def recorder(client: WebexClient) -> Recorder:
    adapter = Recorder()
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    return adapter


def check_hops(adapter: Recorder, clean_hop: int | None = None) -> None:
    """No hop has the token unless it goes to a trusted target (as the adapter's pool and
    urllib3 both read it); the hop made for a clean URL has it exactly when it goes there."""
    for number, (url, authorization, target) in enumerate(adapter.hops):
        parsed = parse_url(url)
        scheme, host = parsed.scheme or "", (parsed.host or "").strip("[]").lower()
        urllib3_target = (scheme, host, parsed.port or {"http": 80, "https": 443}.get(scheme))
        trusted = target in TRUSTED or is_webex_file_host(target)
        if authorization == f"Bearer {TOKEN}":  # (a URL's own user:password is Basic)
            assert trusted and urllib3_target == target, (url, target, urllib3_target)
        else:
            assert not (trusted and number == clean_hop), f"token withheld: {url!r}"


def send(client: WebexClient, url: str) -> None:
    """Send; refused or not sendable is fine: the hops recorded so far are still checked."""
    with contextlib.suppress(requests.RequestException, WebexError, ValueError, UnicodeError):
        client.request("GET", url).close()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(urls())
def test_a_url_gets_the_token_only_where_requests_connects_to_the_api(client, generated):
    url, clean = generated
    adapter = recorder(client)
    send(client, url)
    check_hops(adapter, 0 if clean else None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(urls(), st.sampled_from([301, 302, 303, 307, 308]))
def test_every_redirect_hop_is_checked(client, generated, status):
    adapter = recorder(client)
    location, clean = generated
    adapter.first = answer_with(status, {"Location": location})
    send(client, f"{API_URL}/contents/x")
    assert adapter.hops[0][1] == f"Bearer {TOKEN}"
    check_hops(adapter, 1 if clean else None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(urls())
def test_a_next_link_is_followed_only_to_the_api(client, generated):
    adapter = recorder(client)
    body = json.dumps({"items": []}).encode()
    link = {"Link": f'<{generated[0]}>; rel="next"', "Content-Type": "application/json"}
    adapter.first = answer_with(200, link, body)
    try:
        _, following = client.page(f"{API_URL}/rooms")
    except (WebexError, requests.RequestException, ValueError):
        return  # refused: "another host"
    if following is not None:
        assert connection_target(following) == ("http", API_HOST, API_PORT)
        adapter.hops.clear()
        send(client, following)
        assert adapter.hops[0][1] == f"Bearer {TOKEN}" and adapter.hops[0][2] in TRUSTED


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost\\.webex.com/v1/contents/x",  # the reported ones
        "https://evil\\@webexapis.com/v1/contents/x",
        f"http://evil.example\\@{API_HOST}:{API_PORT}/v1/contents/x",
        f"http://{API_HOST}:{API_PORT}\\@evil.example/v1",
        f"http://user@{API_HOST}:{API_PORT}/v1/contents/x",
        "https://webexapis%2ecom/v1/contents/x",
        "https://webexapis.com%2f@evil.example/",
        "https://webexapis.com\t.evil.example/",
        f"https://{API_HOST}:{API_PORT}/v1",  # another scheme
        f"http://{API_HOST}:{API_PORT + 1}/v1",  # another port
        "http://webexapis.com/v1/contents/x",  # a Webex host, but not over https
    ],
)
def test_known_tricks_get_no_token(client, url):
    adapter = recorder(client)
    send(client, url)
    assert all(authorization != f"Bearer {TOKEN}" for _, authorization, _ in adapter.hops)


def test_plain_api_and_webex_urls_get_the_token(client):
    plain = [f"{API_URL}/contents/x", f"HTTP://{API_HOST}:{API_PORT}/v1"]
    plain += ["https://webexapis.com/v1/contents/x", "https://api.ciscospark.com:443/v1/x"]
    for url in plain:
        adapter = recorder(client)
        send(client, url)
        assert [h[1] for h in adapter.hops] == [f"Bearer {TOKEN}"], url

"""The consent page in a real browser (Debian's chromium driven by Playwright): it names the
integration, the person and the scopes, obeys its own strict CSP without a violation, and
Approve or Deny lands on a real local callback listener with the code or the error; an
unregistered redirect URI stays on an error page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import sync_playwright

from tests.render.test_browser import ARGS, CHROMIUM
from tests.webex_emulator.oauth_helpers import SCOPE, exchange, me
from webex_emulator import Emulator
from webex_emulator.integrations import Integration


class _Callback(BaseHTTPRequestHandler):
    """What `webex-archive login`'s listener will be: takes the redirect, says done."""

    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = b"<!DOCTYPE html><title>done</title><p>You can close this window.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def callback() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _open_consent(emu: Emulator, browser, callback, problems: list[str]):
    redirect = f"http://127.0.0.1:{callback.server_address[1]}/callback"
    emu.add_integration(Integration("Cbrowser", "sbrowser", [redirect], name="Nightly archive"))
    query = {
        "response_type": "code",
        "client_id": "Cbrowser",
        "redirect_uri": redirect,
        "scope": SCOPE,
        "state": "st-42",
    }
    page = browser.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{emu.api_url}/authorize?{urlencode(query)}")
    return page, redirect


def _hit(callback) -> dict[str, str]:
    (path,) = [hit for hit in callback.hits if hit != "/favicon.ico"]
    parts = urlsplit(path)
    assert parts.path == "/callback"
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_approve_in_chromium_lands_a_working_code_on_the_listener(emu, browser, callback):
    problems: list[str] = []
    page, redirect = _open_consent(emu, browser, callback, problems)
    assert page.locator("h1").inner_text() == (
        "Nightly archive would like to access your Webex account"
    )
    assert page.locator("#person").inner_text() == (
        "Signed in as Ada Lovelace (ada.lovelace@example.com)."
    )
    assert page.locator("#scopes li").all_inner_texts() == SCOPE.split()
    assert page.locator("button").all_inner_texts() == ["Approve", "Deny"]
    page.click("#approve")
    page.wait_for_url(f"{redirect}?*")
    assert page.locator("p").inner_text() == "You can close this window."
    query = _hit(callback)
    assert set(query) == {"code", "state"} and query["state"] == "st-42"
    answer = exchange(
        emu, query["code"], client_id="Cbrowser", client_secret="sbrowser", redirect_uri=redirect
    )
    assert me(emu, answer.json()["access_token"]).json()["displayName"] == "Ada Lovelace"
    assert problems == []  # no CSP violation, no script error
    page.close()


def test_deny_in_chromium_lands_access_denied_and_going_back_cannot_approve(emu, browser, callback):
    problems: list[str] = []
    page, redirect = _open_consent(emu, browser, callback, problems)
    page.click("#deny")
    page.wait_for_url(f"{redirect}?*")
    assert _hit(callback) == {
        "error": "access_denied",
        "error_description": "The user denied access.",
        "state": "st-42",
    }
    assert problems == []
    page.close()


def test_unregistered_redirect_shows_an_error_page_in_chromium(emu, browser, callback):
    page = browser.new_page()
    query = {"response_type": "code", "client_id": "Cnobody", "redirect_uri": "http://x/cb"}
    response = page.goto(f"{emu.api_url}/authorize?{urlencode(query)}")
    assert response.status == 400 and page.url.startswith(emu.api_url)
    assert page.locator("h1").inner_text() == "This sign-in link cannot be used"
    page.close()

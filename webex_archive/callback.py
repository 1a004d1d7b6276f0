"""The browser's way back to `login`: a one-shot listener on the redirect URI's local port,
or the redirect URL pasted by hand (``--no-browser``). Either way the answer is checked the
same: the ``state`` sent must come back, then a ``code`` or the error Webex sent.
"""

from __future__ import annotations

import hmac
import socket
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from etl.signin import SigninError, oauth_error

LOOPBACK = {"localhost": "127.0.0.1", "127.0.0.1": "127.0.0.1", "::1": "::1"}
PAGE = (
    "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>webex-archive</title>"
    "<h1>{title}</h1><p>{text}</p></html>"
)
DONE = ("Signed in", "You can close this tab and go back to the terminal.")
FAILED = ("Sign-in did not complete", "Go back to the terminal to see why.")


class ListenerError(Exception):
    """The redirect URI cannot be listened on here; one line."""


def listen_address(redirect_uri: str) -> tuple[str, int, str]:
    """(address to bind, port, path) of an ``http://localhost:PORT/...`` redirect URI."""
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or host not in LOOPBACK or not port:
        raise ListenerError(
            f"--redirect-uri {redirect_uri} is not http://localhost:PORT/…: login can only "
            "listen there; register such a URI, or use --no-browser"
        )
    return LOOPBACK[host], port, parts.path or "/"


class _Handler(BaseHTTPRequestHandler):
    timeout = 5.0  # a browser's idle preconnection must not hold the one-thread listener

    def do_GET(self) -> None:
        server: Listener = self.server  # type: ignore[assignment]
        parts = urlsplit(self.path)
        if parts.path != server.path:
            self._page(404, ("Not found", "This is webex-archive's sign-in listener."))
            return
        server.query = _query(parts.query)
        ok = "code" in server.query and _same(server.query.get("state"), server.state)
        self._page(200, DONE if ok else FAILED)

    def _page(self, status: int, words: tuple[str, str]) -> None:
        body = PAGE.format(title=words[0], text=words[1]).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", "default-src 'none'")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request line carries the code."""


class Listener(HTTPServer):
    """Answers the redirect once; other paths (a favicon) get a 404 and it keeps waiting."""

    def __init__(self, redirect_uri: str, state: str):
        address, port, self.path = listen_address(redirect_uri)
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.state = state
        self.query: dict[str, str] | None = None
        try:
            super().__init__((address, port), _Handler)
        except OSError as error:
            raise ListenerError(
                f"cannot listen on {redirect_uri} ({error.strerror or error}): is another "
                "login running? Close it, or use --no-browser"
            ) from None

    def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query, or ListenerError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.query is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ListenerError(
                    f"no answer from the browser within {timeout:g} s: run "
                    "`webex-archive login` again (or with --no-browser)"
                )
            self.timeout = min(left, 0.5)
            self.handle_request()
        return self.query


def pasted_query(text: str) -> dict[str, str]:
    """The query of a pasted redirect URL (or of its query string alone)."""
    text = text.strip()
    return _query(urlsplit(text).query if "?" in text else text)


def code_of(query: dict[str, str], state: str) -> str:
    """The authorization code, once ``state`` is the one sent; else the one-line error."""
    if not _same(query.get("state"), state):
        raise SigninError(
            "the browser came back with another sign-in's state (an old tab, or a forged "
            "link): run `webex-archive login` again"
        )
    if "error" in query:
        raise oauth_error(query["error"], query.get("error_description"))
    if not query.get("code"):
        raise SigninError("the browser came back without a code: run `webex-archive login` again")
    return query["code"]


def _query(text: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())

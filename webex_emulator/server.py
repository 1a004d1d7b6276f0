"""The HTTP server: real sockets on 127.0.0.1, HTTP/1.1 keep-alive, one thread per connection.

``Emulator`` is the Python API that tests, benchmarks and ``webex-archive demo`` use: start it,
read ``api_url`` and ``token``, change its data or faults while it serves, read its request log.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import changes, compliance
from .api import WebexApi
from .clock import Clock
from .control import Control
from .fault_answers import TOO_MANY, cap_max, fault_after, fault_before
from .faults import Faults, LogEntry, RequestLog, Rule
from .ids import tracking_id
from .integrations import Integration
from .latency import GATEWAY_TIMEOUT, Latency
from .model import DataSet
from .oauth import OAuth
from .quirks import Quirks
from .quota import Quota
from .settings import Settings
from .wire import JSON_TYPE, ApiError, Request, Response, error_response

# An answer's fault name for the request log, when no injected rule made it (quota, page limit);
# the server takes it out before sending.
FAULT_HEADER = "X-Emulator-Fault"
UNAUTHORISED = "The request requires a valid access token set in the Authorization request header."


class Emulator:
    """A local Webex API over a DataSet. Use as a context manager or call start()/stop().

    ``quirks``, ``quota`` and ``latency`` default to the data set's ``settings`` (from its
    file), copied: changing them while serving (``emu.quirks.last_activity = "stays"``)
    changes this emulator only.
    """

    def __init__(
        self,
        dataset: DataSet,
        faults: Faults | None = None,
        quirks: Quirks | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        quota: Quota | None = None,
        latency: Latency | None = None,
    ):
        self.dataset = dataset
        self.faults = faults or Faults()
        base = dataset.settings.copy()
        self.api = WebexApi(dataset, quirks or base.quirks)
        self.quota = quota or base.quota
        self.latency = latency or base.latency
        self.oauth = OAuth(dataset)
        self.control = Control(self)
        self.log = RequestLog()
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> Emulator:
        server = _Server((self._host, self._port), _Handler)
        server.daemon_threads = True
        server.emulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve, name="webex-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            if self._thread is not None:
                self._thread.join()
            self._server.server_close()
            self._server = None

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI's mode)."""
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/v1"

    @property
    def token(self) -> str:
        return self.dataset.owner_token()

    @property
    def clock(self) -> Clock:
        """The data set's clock, which everything timed here reads: ``emu.clock.advance(61)``
        is a minute passing for tokens, the quota and new data (clock.py)."""
        return self.dataset.clock

    @property
    def quirks(self) -> Quirks:
        return self.api.quirks

    @quirks.setter
    def quirks(self, quirks: Quirks) -> None:
        self.api.quirks = quirks

    @property
    def settings(self) -> Settings:
        return Settings(self.quirks, self.quota, self.latency)

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.quirks, self.quota, self.latency = settings.quirks, settings.quota, settings.latency

    # ----- changes (the Python side of /_emulator) -----------------------------------------

    def post_message(
        self, room_id: str, text: str | None = None, person_id: str | None = None, **fields: object
    ) -> dict:
        """A new message in ``room_id``, by the token owner unless ``person_id`` is given."""
        author = person_id or self.dataset.tokens[self.token]
        return changes.post_message(self.dataset, room_id, author, text=text, **fields)

    def add_messages(self, room_id: str, count: int, seed: int | None = None) -> list[dict]:
        return changes.add_messages(self.dataset, room_id, count, seed)

    def edit_message(self, message_id: str, **fields: object) -> dict:
        """Edit as its author would; the room's lastActivity moves unless the quirk says not."""
        return changes.edit_message(
            self.dataset, message_id, touch=self._moves_activity(), **fields
        )

    def delete_message(self, message_id: str, at: str | None = None) -> None:
        changes.delete_message(self.dataset, message_id, at, touch=self._moves_activity())

    def _moves_activity(self) -> bool:
        return self.quirks.last_activity == "moves"

    def add_member(self, room_id: str, person_id: str, at: str | None = None) -> dict:
        return changes.join(self.dataset, room_id, person_id, at)

    def remove_member(self, membership_id: str, at: str | None = None) -> dict:
        return changes.leave(self.dataset, membership_id, at)

    def officer_token(self, person_id: str | None = None) -> str:
        """A compliance officer's token (compliance.py): for ``person_id``, or a new person of
        the owner's organisation who is in no space."""
        token = f"officer-{len(self.dataset.officers) + 1}-{tracking_id()[7:]}"
        compliance.add_officer(self.dataset, token, person_id)
        return token

    def add_integration(self, integration: Integration) -> Integration:
        """Register another OAuth integration (client id, secret, redirect URIs, scopes)."""
        return self.dataset.add_integration(integration)

    def sign_in_as(self, person_id: str | None) -> None:
        """Who signs in at ``/v1/authorize`` from now on (None: the data set's token owner)."""
        if person_id is not None and person_id not in self.dataset.people:
            raise KeyError(person_id)
        self.oauth.person_id = person_id

    def revoke_grants(self, client_id: str) -> int:
        """Revoke every token issued to an integration, as a user removing it does."""
        return self.oauth.grants.revoke_client(client_id)

    def add_fault(self, rule: Rule) -> Rule:
        self.faults.rules.append(rule)
        return rule

    # ----- answering -----------------------------------------------------------------------

    def answer(self, request: Request) -> tuple[Response, Rule | None]:
        """Apply latency, faults, authentication and the quota, then the endpoint; log it."""
        if request.path.startswith("/_emulator"):
            return self.control.dispatch(request), None
        number = self.log.next_number()
        started = time.time()
        faults = self.faults  # one set for the whole answer, even if a test swaps them
        faults.wait_latency()
        rule = faults.pick(number, request.target)
        response = self._respond(request, number, rule, faults)
        if not request.path.startswith("/avatars/"):  # the avatar CDN is another service
            self.latency.wait(response.items)
        gateway = response.headers.pop(FAULT_HEADER, "")
        self.log.add(
            LogEntry(
                number,
                request.method,
                request.target,
                response.status,
                started,
                time.time() - started,
                rule.kind if rule else gateway,
                len(response.body),
            )
        )
        response.headers.setdefault("TrackingID", tracking_id())
        return response, rule

    def _respond(
        self, request: Request, number: int, rule: Rule | None, faults: Faults
    ) -> Response:
        try:
            early = fault_before(rule, faults)
            if early is not None:
                return early
            if request.path.startswith("/avatars/"):
                return self.api.avatar(request)
            if self.oauth.handles(request.path):
                return self.oauth.dispatch(request)
            request.person_id = self._authenticate(request, number)
            self._limit(request)
            self._before_answer(request, rule)
            return fault_after(request, self.api.dispatch(request), rule)
        except ApiError as error:
            if rule is not None and rule.kind == "status" and rule.html_body:
                return Response(
                    error.status,
                    b"<html><body>Too Many Requests</body></html>",
                    {"Content-Type": "text/html", **error.headers},
                )
            return error_response(error)

    def _limit(self, request: Request) -> None:
        """The quota (429 with the seconds until a slot frees) and the page limit (504 after
        the time the page would have taken), both as a gateway in front of the API answers."""
        now = self.clock.monotonic()
        retry_after = self.quota.admit(request.person_id, request.path, now)
        if retry_after is not None:
            raise ApiError(429, TOO_MANY, {"Retry-After": str(retry_after), FAULT_HEADER: "quota"})
        size = self.latency.too_large(request, strict=self.quirks.over_cap == "400")
        if size is not None:
            time.sleep(self.latency.per_item * size)  # the fixed part is paid by every answer
            raise ApiError(504, GATEWAY_TIMEOUT, {FAULT_HEADER: "page_limit"})

    def _before_answer(self, request: Request, rule: Rule | None) -> None:
        """What stands between an authenticated request and its answer: data changed since the
        last request, a server-side page cap, a file still being scanned (423, to GET, and to
        HEAD as well when ``quirks.lock_head``)."""
        if rule is not None and rule.kind in ("delete_cursor", "remove_room"):
            self._change_data(request, rule.kind)
        if self.faults.page_cap:
            cap_max(request, self.faults.page_cap)
        scanned = ("GET", "HEAD") if self.quirks.lock_head else ("GET",)
        if (
            request.path.startswith("/v1/contents/")
            and request.method in scanned
            and self.faults.file_locked(request.path)
        ):
            raise ApiError(
                423,
                "The file is being scanned for malware; retry later.",
                {"Retry-After": str(self.faults.lock_retry_after)},
            )

    def _change_data(self, request: Request, kind: str) -> None:
        """What happens in Webex between two requests: the message a ``beforeMessage`` cursor
        names is deleted, or the space the request names is removed (with its members, so its
        messages are no longer visible either)."""
        ds = self.dataset
        with ds.lock:
            if kind == "delete_cursor":
                cursor = request.arg("beforeMessage")
                if cursor in ds.messages:
                    changes.delete_message(ds, cursor, touch=self._moves_activity())
                return
            room_id = request.arg("roomId")
            if room_id is None and request.path.startswith("/v1/rooms/"):
                room_id = request.path.removeprefix("/v1/rooms/")
            if room_id in ds.rooms:
                ds.rooms.pop(room_id)
                ds.memberships.pop(room_id, None)

    def _authenticate(self, request: Request, number: int) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        person_id = None
        if scheme.lower() == "bearer":
            person_id = self.dataset.tokens.get(token) or self.oauth.grants.person_for(token)
        if person_id is None or self.faults.token_expired(number):
            raise ApiError(401, UNAUTHORISED)
        return person_id


class _Server(ThreadingHTTPServer):
    """The standard server, quiet about clients that hang up (a killed or timed-out client
    is what fault tests are about, not an emulator error), whose loop ``stop`` wakes at once:
    ``shutdown`` waits for a polling loop to look (a tenth of a second, paid by every test
    that stops an emulator), and polling faster costs an idle emulator CPU."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        # Made first: a failed bind closes the server (and so these) inside __init__.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stopping = threading.Event()
        super().__init__(address, handler)

    def serve(self) -> None:
        """Accept connections (each answered on its thread) until ``stop``."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping.is_set():
                ready = [key.fileobj for key, _ in selector.select()]
                if self in ready and not self._stopping.is_set():
                    self._handle_request_noblock()

    def stop(self) -> None:
        self._stopping.set()
        self._wake_writer.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _type(response: Response) -> str:
    return response.headers.get("Content-Type", JSON_TYPE).lower()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webex-emulator"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in one write, but keep Nagle out of the way regardless.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr line per request; the RequestLog records them."""

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        host, port = self.server.server_address[:2]
        request = Request(
            method=self.command,
            path=parts.path,
            target=self.path,
            query=Request.parse_query(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
            base=f"http://{host}:{port}",
        )
        response, rule = self.server.emulator.answer(request)  # type: ignore[attr-defined]
        self._send(response, rule)

    def _send(self, response: Response, rule: Rule | None) -> None:
        body = response.body
        kind = rule.kind if rule is not None else ""
        if kind == "malformed" and response.status == 200 and "json" in _type(response):
            body = body[: max(1, len(body) // 2)]  # valid headers, truncated JSON
        headers = {"Content-Type": JSON_TYPE, "Content-Length": str(len(body)), **response.headers}
        reason = self.responses.get(response.status, ("",))[0]
        head = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Date: {self.date_time_string()}",
            "Server: webex-emulator",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if kind == "drop" and self.command == "HEAD":
            # No body to cut. Cutting the headers would not do: http.client takes a header
            # block ended by EOF as complete, so the connection closes before any answer.
            self._drop(b"")
        elif self.command == "HEAD":
            self.wfile.write(payload)
        elif kind == "drop":
            self._drop(payload + body[: len(body) // 2])
        else:
            self.wfile.write(payload + body)

    def _drop(self, partial: bytes) -> None:
        """Send headers and half the body, then cut the connection, as a dying proxy does."""
        self.wfile.write(partial)
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

"""WebexClient: one HTTP session to the Webex REST API, with paging, retries and typed errors.

Everything the sync needs from HTTP goes through here, so that the rules Webex imposes are
applied in one place: ``Link rel="next"`` paging followed as given (with dropped filters put
back, never the cursor), redirects followed hop by hop with the token only where it belongs
(``etl.origin``), 429 waits for ``Retry-After`` shared by all threads, 5xx and broken
connections retried with capped exponential backoff, and errors that a person can act on.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from . import DEFAULT_API_URL
from .origin import connection_target, may_carry_token
from .pacing import Pacer
from .tokens import FixedToken, TokenSource
from .webex_errors import (
    API_HINT,
    AuthError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    ServerError,
    WebexError,
    describe,
    give_up,
    http_error,
    never_connected,
    retry_after,
)

__all__ = [
    "AuthError",
    "ForbiddenError",
    "NetworkError",
    "NotFoundError",
    "RetryPolicy",
    "ServerError",
    "Stats",
    "WebexClient",
    "WebexError",
]

USER_AGENT = "webex-space-archive"
RETRY_STATUSES = {500, 502, 503, 504}
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
# Filters the real API may drop from a next link (webex-api.md §9.1); cursors are never re-added.
REFILTERS = ("parentId", "mentionedPeople")
MAX_REDIRECTS = 10
BEST_EFFORT_TIMEOUT = (5.0, 20.0)  # connect, read: for hosts outside the API (avatars)
RENEWED_REJECTED = "Webex rejected the renewed sign-in too (401): run `webex-archive login` again"


@dataclass
class Stats:
    """What a run cost: requests sent, bytes received, retries (5xx, broken connections),
    429 answers, seconds waiting after failures (backoff, ``Retry-After``) and seconds spent
    pacing (etl/pacing.py)."""

    requests: int = 0
    bytes: int = 0
    retries: int = 0
    waited: float = 0.0
    rate_limited: int = 0
    paced: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, received: int) -> None:
        with self.lock:
            self.requests += 1
            self.bytes += received


@dataclass
class RetryPolicy:
    """How patient the client is. Defaults suit a long archive run; tests shorten them."""

    tries: int = 6  # attempts for 5xx and network errors
    rate_limit_tries: int = 30  # attempts for 429
    backoff: float = 1.0  # first backoff; doubles each try
    backoff_cap: float = 30.0
    default_retry_after: float = 5.0  # when a 429 carries no usable Retry-After
    max_retry_after: float = 3600.0


class WebexClient:
    """A thread-safe client over one ``requests.Session`` (one connection pool)."""

    def __init__(
        self,
        token: str | TokenSource,
        api_url: str = DEFAULT_API_URL,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy | None = None,
        notify: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ):
        if isinstance(token, str) and not token.strip():
            raise AuthError(
                "no Webex token: pass --token or set WEBEX_ARCHIVE_TOKEN "
                "(get one at developer.webex.com)",
                401,
            )
        self.api_url = api_url.rstrip("/")
        self.origin = connection_target(self.api_url)
        if self.origin is None:
            raise WebexError(f"--api-url {api_url!r} is not a plain http(s) URL: {API_HINT}")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.notify = notify or (lambda message: None)
        # ``clock`` and ``sleep`` are the run's time for pacing and Retry-After: a test gives
        # both the emulator's stopped clock, so that they count the seconds the quota counts.
        self.clock, self.sleep = clock, sleep
        self.stats = Stats()
        self.pacer = Pacer(clock=clock, sleep=sleep)
        self.session = requests.Session()
        self.pool_size = 0
        self.widen_pool(pool_size)
        # Not a session header: request() adds it to each hop that may_carry_token allows.
        self.tokens = FixedToken(token.strip()) if isinstance(token, str) else token
        self.session.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        self._pause_until = 0.0
        self._environments: dict[tuple[str, str], dict[str, Any]] = {}  # by scheme and host
        self._pause_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def widen_pool(self, size: int) -> None:
        """Keep-alive connections for ``size`` threads at once (the pool only grows; call it
        before the threads start)."""
        if size > self.pool_size:
            adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=size)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
            self.pool_size = size

    def __enter__(self) -> WebexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- JSON endpoints --------------------------------------------------------------------

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict:
        """GET an API path (``rooms/ID``) or absolute URL and return its JSON object."""
        return self._json(self.request("GET", self.url(path), params=params))

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[dict]]:
        """Yield each page's items, following ``Link rel="next"`` until there is none."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        filters = {k: str(params[k]) for k in REFILTERS if k in params}
        url: str | None = self.url(path)
        query: dict[str, Any] | None = params
        while url:
            items, url = self.page(url, query, filters)
            query = None
            yield items

    def page(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        filters: dict[str, str] | None = None,
        fail_fast: frozenset[int] = frozenset(),
    ) -> tuple[list[dict], str | None]:
        """One list page: its items and the next page's URL (filters re-added), or None.
        ``fail_fast``: statuses raised at once instead of retried (504 for a caller that
        asks again with a smaller page)."""
        response = self.request("GET", self.url(url), params=params, fail_fast=fail_fast)
        body = self._json(response)
        if not isinstance(body.get("items"), list):
            raise ServerError(f"Webex answered {urlsplit(url).path} without an item list")
        return body["items"], self._next_url(response, filters or {})

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.api_url}/{path.lstrip('/')}"

    def _next_url(self, response: requests.Response, filters: dict[str, str]) -> str | None:
        """The next link as given (a relative one resolved against the page's URL, RFC 8288),
        with dropped filters re-added and a broken ``max`` fixed. It must lead to the API's
        own scheme, host and port, as requests would read it."""
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        link = urljoin(response.url, link)
        target = connection_target(link)
        if target != self.origin:
            where = "{}://{}:{}".format(*target) if target else f"an unclear URL: {link[:100]!r}"
            raise ServerError(f"Webex sent a next-page link to another host ({where})")
        parts = urlsplit(link)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        present = {k for k, _ in query}
        query = [(k, v) for k, v in query if not (k == "max" and v in ("", "null"))]
        missing = [(k, v) for k, v in filters.items() if k not in present]
        return urlunsplit(parts._replace(query=urlencode(missing + query)))

    @staticmethod
    def _json(response: requests.Response) -> dict:
        body = _decoded(response)  # validity checked in request()
        if not isinstance(body, dict):
            raise ServerError(f"Webex answered {response.url} with unexpected JSON")
        return body

    # ----- the retry loop --------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        send_token: bool = True,
        best_effort: bool = False,
        fail_fast: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """Send one request, following redirects here, hop by hop: requests' own following
        decides whether to keep the token with ``urllib.parse`` while it connects where
        urllib3 reads the host, so a ``Location`` could collect the token. Each hop carries
        the token only if ``send_token`` and ``may_carry_token`` allow both its URL as given
        and as prepared (what the adapter reads): an ambiguous URL is refused even when
        preparing it happens to make it harmless.
        ``best_effort`` (hosts outside the API, such as avatars): one short try, no waiting;
        ``fail_fast``: retryable statuses raised as a WebexError at the first answer."""
        renewed = False
        for _ in range(MAX_REDIRECTS + 1):
            hop = requests.Request(method, url, headers=headers, params=params)
            prepared = self.session.prepare_request(hop)
            token = None
            if send_token and all(may_carry_token(u, self.origin) for u in (url, prepared.url)):
                token = self.tokens.token()
                prepared.headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._send(prepared, stream, best_effort, fail_fast)
            except AuthError as error:
                # A 401: ask the source once for a fresh token and send the hop again. A
                # pasted token cannot be renewed, and its 401 stands; what was fetched stays.
                if token is None:
                    raise
                if renewed:
                    raise AuthError(RENEWED_REJECTED, 401, error.tracking_id) from None
                if self.tokens.refresh(token) is None:
                    raise
                renewed = True
                continue
            location = self.session.get_redirect_target(response)
            if location is None:
                return response
            response.close()
            url, params = urljoin(response.url, location), None
        raise ServerError(f"more than {MAX_REDIRECTS} redirects (the last to {url[:100]!r})")

    def _send(
        self,
        prepared: requests.PreparedRequest,
        stream: bool,
        best_effort: bool,
        fail_fast: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """One prepared request, retrying what is worth retrying; raise a WebexError otherwise.

        A 200 whose JSON body does not parse (a truncated response) counts as a transient
        failure too: a proxy that cuts a body short must not end an archive run.
        """
        url = prepared.url or ""
        settings = self._environment(url, stream)
        timeout = BEST_EFFORT_TIMEOUT if best_effort else self.timeout
        attempt, limited = 0, 0
        while True:
            self._wait_for_rate_limit()
            if not best_effort:  # hosts outside the API are not in Webex's quota
                paced = self.pacer.wait()
                if paced:
                    with self.stats.lock:
                        self.stats.paced += paced
                    self._wait_for_rate_limit()  # a 429 came while this one waited its slot
            try:
                response = self.session.send(
                    prepared, timeout=timeout, allow_redirects=False, **settings
                )
                self.stats.count(0 if stream else len(response.content))
                problem = self._transient(response, stream)
            except TRANSIENT_ERRORS as error:
                problem, response = describe(error), None
                if best_effort:  # not Webex: no advice about --api-url, no second try
                    raise NetworkError(problem) from None
                if self.stats.requests == 0 and never_connected(error):
                    raise give_up(url, problem, None) from None  # never reached: say so now
            if response is not None and response.status_code == 429:
                if best_effort:  # a host outside the API does not get to pause the run
                    raise http_error(response, self.api_url)
                limited += 1
                self._rate_limited(response, limited, url)
                continue
            if problem is None:
                return response
            if response is not None:
                response.close()  # a streamed body left unread would hold its connection
                if response.status_code in fail_fast:
                    raise http_error(response, self.api_url)
            if best_effort:
                raise ServerError(problem, response.status_code if response is not None else None)
            attempt += 1
            if attempt >= self.retry.tries:
                raise give_up(url, problem, response)
            self._backoff(attempt, problem, response)

    def _environment(self, url: str, stream: bool) -> dict[str, Any]:
        """requests' settings from the environment (proxies, ``no_proxy``, a CA bundle) for
        ``url``'s scheme and host: read once per host and client, since the environment does
        not change during a run, and reading it (every variable, twice) was a fifth of a
        request's CPU."""
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.lower())
        settings = self._environments.get(key)
        if settings is None:
            settings = self.session.merge_environment_settings(url, {}, False, None, None)
            self._environments[key] = settings
        return {**settings, "stream": stream}

    def _transient(self, response: requests.Response, stream: bool) -> str | None:
        """Why this response is worth retrying, or None; raises for permanent errors."""
        status = response.status_code
        if status in RETRY_STATUSES:
            return f"HTTP {status}"
        if status >= 400 and status != 429:
            raise http_error(response, self.api_url)
        if (
            status == 200
            and not stream
            and response.request.method != "HEAD"  # no body, whatever its type says
            and "json" in response.headers.get("Content-Type", "")
        ):
            try:
                _decoded(response)
            except ValueError:
                return "a malformed JSON body"
        return None

    def _rate_limited(self, response: requests.Response, count: int, url: str) -> None:
        """A 429: the pacer learns the quota from it; every thread waits ``Retry-After``."""
        with self.stats.lock:
            self.stats.rate_limited += 1
        wait = retry_after(response, self.retry.default_retry_after)
        wait = min(wait, self.retry.max_retry_after)
        rate = self.pacer.rate_limited(wait)
        if count >= self.retry.rate_limit_tries:
            raise ServerError(
                f"Webex kept rate-limiting after {count} tries; wait a while and run again "
                "(the archive keeps what was fetched)",
                429,
            )
        with self._pause_lock:
            self._pause_until = max(self._pause_until, self.clock() + wait)
        pace = f", then pacing these requests at {rate:.0f} a minute" if rate else ""
        self.notify(f"rate-limited by Webex (429): waiting {wait:g} s as Retry-After asks{pace}")

    def _wait_for_rate_limit(self) -> None:
        """Every thread waits out the pause the last 429 imposed: the limit is per user."""
        while True:
            with self._pause_lock:
                remaining = self._pause_until - self.clock()
            if remaining <= 0:
                return
            with self.stats.lock:
                self.stats.waited += remaining
            self.sleep(remaining)

    def _backoff(self, attempt: int, problem: str, response: requests.Response | None) -> None:
        delay = min(self.retry.backoff * 2 ** (attempt - 1), self.retry.backoff_cap)
        if response is not None and "Retry-After" in response.headers:
            delay = min(retry_after(response, delay), self.retry.backoff_cap)
        delay *= random.uniform(0.8, 1.0)
        with self.stats.lock:
            self.stats.retries += 1
            self.stats.waited += delay
        self.notify(f"Webex request failed ({problem}); retry {attempt} in {delay:.1f} s")
        self.sleep(delay)


def _decoded(response: requests.Response) -> Any:
    """The response's JSON, decoded once: request() checks every 200 JSON body and the caller
    then reads it, and requests decodes again at each ``.json()`` (a 1,000-message page is
    about 0.5 MB: decoding it twice cost the fetching threads ~5 µs a message, under the GIL
    the writer needs). Raises ValueError as ``.json()`` does."""
    cached = response.__dict__.get("_archive_json", _MISSING)
    if cached is _MISSING:
        cached = response.__dict__["_archive_json"] = response.json()
    return cached


_MISSING = object()

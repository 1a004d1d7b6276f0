"""What a failed exchange with Webex means, as one line a person can act on.

The client (``etl.api``) retries and waits; this module names the outcome: the error types
the sync and the command line tell apart, and the messages they carry (a 404 under an
``--api-url`` without ``/v1`` says what to add; a host that never answered says so at once).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
import urllib3

from . import DEFAULT_API_URL


class WebexError(Exception):
    """A failure talking to Webex, with a one-line message that says what to do."""

    status: int | None = None

    def __init__(
        self,
        message: str,
        status: int | None = None,
        tracking_id: str = "",
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status = status if status is not None else self.status
        self.tracking_id = tracking_id
        self.retry_after = retry_after  # seconds, when Webex said (423 on files)


class AuthError(WebexError):
    status = 401


class ForbiddenError(WebexError):
    status = 403


class NotFoundError(WebexError):
    status = 404


class ServerError(WebexError):
    """Webex kept failing (5xx, rate limits beyond patience) after every retry."""


class NetworkError(WebexError):
    """Webex could not be reached, or kept dropping the connection."""


def retry_after(response: requests.Response, default: float) -> float:
    """Seconds from ``Retry-After``; Webex sends integers. Missing or odd values → default."""
    raw = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return default
    return max(seconds, 0.0) if seconds == seconds else default


def never_connected(error: Exception) -> bool:
    """True when no connection could be made at all (refused, unknown host): retrying a
    wrong --api-url only delays the error. A connection that was made and then dropped,
    even on the run's first request, is the server's hiccup and is retried like any other."""
    reason = error.args[0] if error.args else None
    return isinstance(getattr(reason, "reason", reason), urllib3.exceptions.NewConnectionError)


def describe(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "no answer within the timeout"
    text = str(error)
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the connection dropped mid-answer"
    return "the connection failed"


def _error_message(response: requests.Response) -> tuple[str, str]:
    """Webex's own message and tracking id, from the JSON body or the header."""
    tracking = response.headers.get("TrackingID", "")
    try:
        body = response.json()
        return str(body.get("message") or "").strip(), str(body.get("trackingId") or tracking)
    except ValueError:
        return "", tracking


def http_error(response: requests.Response, api_url: str) -> WebexError:
    message, tracking = _error_message(response)
    status = response.status_code
    what = urlsplit(response.url).path
    detail = f": {message}" if message else ""
    if status == 401:
        return AuthError(
            "Webex rejected the token (401): it is wrong or expired (personal tokens last 12 "
            "hours); get a new one at developer.webex.com and pass --token or "
            "WEBEX_ARCHIVE_TOKEN, or sign in once with `webex-archive login`",
            status,
            tracking,
        )
    if status == 403:
        return ForbiddenError(f"Webex refused access to {what} (403){detail}", status, tracking)
    if status == 404:
        detail += _missing_v1(api_url) if response.url.startswith(api_url + "/") else ""
        return NotFoundError(f"Webex does not know {what} (404){detail}", status, tracking)
    wait = retry_after(response, 0.0) if "Retry-After" in response.headers else None
    return WebexError(f"Webex answered {status} for {what}{detail}", status, tracking, wait)


API_HINT = f"give the API's base URL, such as {DEFAULT_API_URL}"


def _missing_v1(api_url: str) -> str:
    """Every Webex path starts with /v1: an --api-url without it 404s on every request."""
    if urlsplit(api_url).path.rstrip("/").endswith("/v1"):
        return ""
    return f"; --api-url {api_url} lacks /v1: did you mean {api_url}/v1?"


def give_up(url: str, problem: str, response: requests.Response | None) -> WebexError:
    where = urlsplit(url).netloc
    if response is None:
        return NetworkError(
            f"cannot reach Webex at {where}: {problem}; check --api-url and the network, "
            "then run again (the archive keeps what was fetched)"
        )
    return ServerError(
        f"Webex kept failing ({problem}) after several tries; run again later "
        "(the archive keeps what was fetched)",
        response.status_code,
    )

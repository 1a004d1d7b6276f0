"""Which URLs may carry the Bearer token, decided on what the HTTP library will connect to.

URLs reach the client from data other people control: a message's ``files``, a person's
avatar, a ``Location`` or ``Link`` header. ``urllib.parse`` and urllib3 read some of them
differently (``https://evil\\@webexapis.com/`` is webexapis.com to the first and ``evil`` to the
second, which is where requests connects), so a check made with one parser and a request sent
with the other hands the token to a stranger. Here the URL is first prepared exactly as
requests prepares it, then read by both parsers; anything they disagree on, or that only a
lenient reader would accept (backslashes, userinfo, whitespace, control or non-ASCII
characters, percent signs in the host, a scheme other than http(s)), has no target at all and
so never gets the token.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

import requests
from urllib3.util import Url, parse_url

# (scheme, host in lower case, port): where a request's bytes go.
Target = tuple[str, str, int]
DEFAULT_PORTS = {"http": 80, "https": 443}
# Hosts (and their subdomains) that may serve a message's files besides the API URL itself:
# over https on the default port only (webex-api.md §4; older data names api.ciscospark.com).
WEBEX_FILE_HOSTS = ("webexapis.com", "webex.com", "ciscospark.com")
_REFUSED = frozenset("\\%@")  # in the authority: parsers disagree on each of them
# Anywhere in the URL (which is ASCII by then): whitespace, control characters, a backslash.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


@lru_cache(maxsize=4096)
def connection_target(url: str) -> Target | None:
    """Where requests would connect for ``url``; None when the URL is ambiguous or not http(s).

    The prepared URL is what the adapter reads (urllib.parse in requests >= 2.32, urllib3
    before); both must agree with each other and with a plain reading of the raw text.
    Remembered for the last few thousand URLs: a request reads its URL three times (the
    caller's check, the URL as given and as prepared), and this was a tenth of its CPU.
    """
    if not url.isascii() or _UNSAFE.search(url):
        return None
    try:
        raw = parse_url(url)
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, None)
        sent, split = parse_url(prepared.url or ""), urlsplit(prepared.url or "")
        targets = {_target(raw), _target(sent), _split_target(split)}
    except (ValueError, requests.RequestException):  # urllib3's LocationParseError is one
        return None
    _, has_authority, rest = url.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not has_authority or _REFUSED & set(authority) or len(targets) != 1 or None in targets:
        return None
    return targets.pop()


def _target(parts: Url) -> Target | None:
    """urllib3's reading; userinfo has no target (requests would send it as Basic auth)."""
    scheme = (parts.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not parts.host or parts.auth is not None:
        return None
    return scheme, parts.host.strip("[]").lower(), parts.port or DEFAULT_PORTS[scheme]


def _split_target(parts: SplitResult) -> Target | None:
    """urllib.parse's reading (what requests >= 2.32 gives the connection pool)."""
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), parts.port or DEFAULT_PORTS[scheme]


def is_webex_file_host(target: Target) -> bool:
    """A Webex host reached over https on its default port."""
    scheme, host, port = target
    return (scheme, port) == ("https", 443) and (
        host in WEBEX_FILE_HOSTS or host.endswith(tuple("." + h for h in WEBEX_FILE_HOSTS))
    )


def may_carry_token(url: str, api: Target | None) -> bool:
    """True only when requests would send ``url`` to the API's own scheme, host and port, or
    to a Webex host over https: a URL from message data must not be able to collect the
    token."""
    target = connection_target(url)
    return target is not None and (target == api or is_webex_file_host(target))

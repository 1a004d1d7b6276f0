"""Custodians, the unit of eDiscovery: the people whose every space is collected.

Documented by Webex (webex-api.md §5, §13): with a compliance officer's token,
``GET /memberships?personEmail=`` without ``roomId`` lists all of that person's spaces; any
other token must name a ``roomId``. Empty pages that still link on are possible (results
are filtered for visibility), so the listing is followed to its end.
"""

from __future__ import annotations

import re
from pathlib import Path

from .api import WebexClient
from .errors import SyncError

# An address as people type it in a list: something@domain.tld, no spaces.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def read_custodians(path: Path) -> list[str]:
    """The emails of a custodians file: one a line; blank lines and ``#`` comments skipped.
    A line that is not an email is an error naming its line, not a silent skip."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SyncError(f"cannot read the custodians file {path}: {error}") from None
    emails = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if not EMAIL.fullmatch(text):
            raise SyncError(f"{path}, line {number}: {text!r} is not an email address")
        emails.append(text)
    return emails


def custodian_spaces(client: WebexClient, email: str) -> list[str]:
    """The ids of every space ``email`` is a member of, in the order Webex lists them."""
    pages = client.pages("memberships", {"personEmail": email, "max": 1000})
    rooms = [m.get("roomId") for page in pages for m in page if isinstance(m, dict)]
    return list(dict.fromkeys(r for r in rooms if isinstance(r, str)))

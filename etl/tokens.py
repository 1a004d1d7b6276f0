"""Where the client's token comes from: a fixed string, or a sign-in that can be renewed.

``WebexClient`` asks its source for the token of each request that may carry one, and on a
401 asks it once for a fresh one. A pasted personal or bot token cannot be renewed; an
integration's sign-in can (the command line keeps it; the exchange is ``etl.signin``'s).
"""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    """What the client needs of a credential: the token to send now, and a way to replace
    one Webex rejected (``None``: there is none, and the 401 stands)."""

    def token(self) -> str: ...

    def refresh(self, rejected: str) -> str | None: ...


class FixedToken:
    """A token given as a string (``--token``): used as is, never renewed."""

    def __init__(self, token: str):
        self._token = token

    def token(self) -> str:
        return self._token

    def refresh(self, rejected: str) -> str | None:
        return None

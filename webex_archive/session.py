"""The stored sign-in as the client's token source: renewed before it expires, and once on a
401, with the rotated refresh token stored before it is used.

Renewing is read-renew-write under the credentials lock: a process that waited for the lock
reads the sign-in again and, if another process renewed it meanwhile, takes that token
instead of presenting a refresh token Webex has already rotated away. Threads of one process
share one ``StoredSignin`` and renew once between them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from etl.signin import LOGIN_AGAIN, Integration, SigninError, Tokens, refresh_tokens

from .credentials import Credentials, Store

MARGIN = 600.0  # renew an access token that expires within 10 minutes...
MARGIN_SHARE = 0.2  # ...or within a fifth of its lifetime, if that is shorter


def due(credentials: Credentials, now: float) -> bool:
    """Whether the access token should be renewed before it is used."""
    margin = min(MARGIN, credentials.lifetime * MARGIN_SHARE)
    return credentials.expires_at - now <= margin


def with_tokens(credentials: Credentials, tokens: Tokens) -> Credentials:
    return replace(
        credentials,
        access_token=tokens.access_token,
        expires_at=tokens.expires_at,
        lifetime=tokens.lifetime,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
        scopes=list(tokens.scopes),
    )


class StoredSignin:
    """``etl.tokens.TokenSource`` over a ``Store``'s sign-in for one API URL."""

    def __init__(
        self, store: Store, credentials: Credentials, now: Callable[[], float] = time.time
    ):
        self.store = store
        self.credentials = credentials
        self.now = now
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if due(self.credentials, self.now()):
                self._renew(self.credentials.access_token)
            return self.credentials.access_token

    def refresh(self, rejected: str) -> str | None:
        with self._lock:
            if self.credentials.access_token == rejected:  # not renewed by another thread
                self._renew(rejected)
            return self.credentials.access_token

    def _renew(self, current: str) -> None:
        api_url = self.credentials.api_url
        with self.store.locked():
            stored = self.store.load(api_url)
            if stored is None:
                raise SigninError(f"signed out of {api_url} meanwhile: {LOGIN_AGAIN}")
            # Renewed by another process while this one waited: use its token (the refresh
            # token this one read may be spent already).
            fresh = stored.access_token != current and not due(stored, self.now())
            if not fresh:
                integration = Integration(stored.client_id, stored.client_secret)
                tokens = refresh_tokens(
                    api_url, integration, stored.refresh_token, tuple(stored.scopes), self.now
                )
                stored = with_tokens(stored, tokens)
                self.store.save(stored)
            self.credentials = stored


def stored_signin(store: Store, api_url: str) -> StoredSignin | None:
    """The sign-in kept for ``api_url``, or None."""
    credentials = store.load(api_url)
    return None if credentials is None else StoredSignin(store, credentials)

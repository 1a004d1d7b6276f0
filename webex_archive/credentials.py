"""Where a sign-in is kept: the OS keyring where a real one is usable, else a 0600 file.

One sign-in per API URL (the real Webex, an emulator): a token is only ever sent to the API
that issued it. ``WEBEX_ARCHIVE_CREDENTIALS`` chooses the backend (``keyring``, ``file`` or
``auto``, the default: a keyring whose backend is a real OS store — Secret Service, macOS
Keychain, Windows Credential Locker — else the file). The file is ``credentials.json`` in
platformdirs' user config folder (``WEBEX_ARCHIVE_CONFIG_DIR`` overrides), written whole with
mode 0600 and renamed into place, and refused if others may read it. Never in the archive
folder, never printed: ``repr`` of a ``Credentials`` hides its secrets.

Renewals of one sign-in are serialised across processes by ``credentials.lock`` beside it
(a lock the kernel drops when a process dies), so a rotated refresh token is never lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from webex_layout import try_lock

SERVICE = "webex-archive"  # the keyring's service name; the user name is the API URL
FILE_NAME = "credentials.json"
LOCK_NAME = "credentials.lock"
LOCK_WAIT = 120.0  # seconds to wait for another process's renewal
NO_KEYRINGS = ("keyring.backends.fail", "keyring.backends.null")  # they keep nothing
# keyrings.alt's backends keep secrets in files of their own: no better than ours, not the OS's.
NOT_OS_KEYRINGS = ("keyrings.alt",)


class CredentialsError(Exception):
    """The stored sign-in cannot be used or kept; one line saying what to do."""


@dataclass
class Credentials:
    """One sign-in: the integration, its tokens and their expiry (seconds since the epoch)."""

    api_url: str
    client_id: str
    client_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_at: float
    lifetime: float
    refresh_token: str = field(repr=False)
    refresh_expires_at: float | None
    scopes: list[str]
    signed_in_at: float

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object, where: str) -> Credentials:
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not names <= set(data):
            raise CredentialsError(
                f"the sign-in kept in {where} is damaged: run `webex-archive login` again"
            )
        return cls(**{name: data[name] for name in names})


class Store:
    """A backend: load, save and delete the sign-in of an API URL, under ``locked()``."""

    where = ""

    def __init__(self, folder: Path):
        self.folder = folder

    def load(self, api_url: str) -> Credentials | None:
        raise NotImplementedError

    def save(self, credentials: Credentials) -> None:
        raise NotImplementedError

    def delete(self, api_url: str) -> bool:
        raise NotImplementedError

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold ``credentials.lock`` (waiting for another process that holds it)."""
        _make_folder(self.folder)
        path = self.folder / LOCK_NAME
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "r+b") as handle:
            deadline = time.monotonic() + LOCK_WAIT
            while not try_lock(handle):
                if time.monotonic() > deadline:
                    raise CredentialsError(
                        f"another webex-archive has held {path} for {LOCK_WAIT:g} s: "
                        "wait for it to end, then run again"
                    )
                time.sleep(0.05)
            yield  # closing the file releases the lock


class FileStore(Store):
    """``credentials.json``: ``{"version": 1, "signins": {api_url: {...}}}``, mode 0600."""

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.path = folder / FILE_NAME
        self.where = str(self.path)

    def load(self, api_url: str) -> Credentials | None:
        entry = self._read().get(api_url)
        return None if entry is None else Credentials.from_json(entry, self.where)

    def save(self, credentials: Credentials) -> None:
        signins = self._read()
        signins[credentials.api_url] = credentials.to_json()
        self._write(signins)

    def delete(self, api_url: str) -> bool:
        signins = self._read()
        if signins.pop(api_url, None) is None:
            return False
        self._write(signins)
        return True

    def _read(self) -> dict:
        try:
            descriptor = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        with os.fdopen(descriptor, "rb") as handle:
            check_private(os.fstat(handle.fileno()), self.path)
            text = handle.read()
        try:
            signins = json.loads(text)["signins"]
        except (ValueError, KeyError, TypeError):
            signins = None
        if not isinstance(signins, dict):
            raise CredentialsError(
                f"{self.path} is damaged: remove it and run `webex-archive login` again"
            )
        return signins

    def _write(self, signins: dict) -> None:
        """Whole or not at all: a 0600 temporary file beside it, fsynced, renamed."""
        _make_folder(self.folder)
        text = json.dumps({"version": 1, "signins": signins}, indent=2)
        descriptor, temporary = tempfile.mkstemp(prefix=".credentials-", dir=self.folder)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                os.chmod(temporary, 0o600)  # mkstemp makes it 0600; said, not assumed
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


class KeyringStore(Store):
    """The OS keyring: one entry per API URL under the service ``webex-archive``."""

    def __init__(self, folder: Path, backend: object):
        super().__init__(folder)
        self.backend = backend
        self.where = f"the keyring ({type(backend).__module__}.{type(backend).__name__})"

    def load(self, api_url: str) -> Credentials | None:
        text = self._call("read", self.backend.get_password, SERVICE, api_url)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        return Credentials.from_json(data, self.where)

    def save(self, credentials: Credentials) -> None:
        text = json.dumps(credentials.to_json())
        self._call("write", self.backend.set_password, SERVICE, credentials.api_url, text)

    def delete(self, api_url: str) -> bool:
        from keyring.errors import PasswordDeleteError

        if self.load(api_url) is None:
            return False
        with contextlib.suppress(PasswordDeleteError):
            self._call("delete from", self.backend.delete_password, SERVICE, api_url)
        return True

    def _call(self, what: str, function, *args: str):
        from keyring.errors import KeyringError

        try:
            return function(*args)
        except KeyringError as error:
            raise CredentialsError(
                f"cannot {what} {self.where}: {' '.join(str(error).split())[:200]}; "
                "set WEBEX_ARCHIVE_CREDENTIALS=file to keep the sign-in in a file instead"
            ) from None


def check_private(status: os.stat_result, path: Path) -> None:
    """Refuse a credentials file that others may read or that someone else owns."""
    if os.name == "nt":
        return  # no POSIX modes: the profile folder's ACL protects it
    if status.st_mode & 0o077:
        raise CredentialsError(
            f"{path} can be read by others (mode {stat.S_IMODE(status.st_mode):04o}): "
            f"run `chmod 600 {path}`, then `webex-archive login` again if others may have read it"
        )
    if status.st_uid != os.getuid():
        raise CredentialsError(f"{path} belongs to another user: remove it and log in again")


def _make_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def config_folder() -> Path:
    """``WEBEX_ARCHIVE_CONFIG_DIR``, else the user's config folder for webex-archive."""
    chosen = os.environ.get("WEBEX_ARCHIVE_CONFIG_DIR", "").strip()
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("webex-archive", appauthor=False))


def open_store(archive: Path) -> Store:
    """The backend ``WEBEX_ARCHIVE_CREDENTIALS`` chooses, never inside the archive folder."""
    folder = config_folder()
    if _inside(folder, archive):
        raise CredentialsError(
            f"the credentials folder {folder} is inside the archive {archive}: set "
            "WEBEX_ARCHIVE_CONFIG_DIR to a folder outside it"
        )
    choice = os.environ.get("WEBEX_ARCHIVE_CREDENTIALS", "auto").strip().lower() or "auto"
    if choice not in ("auto", "file", "keyring"):
        raise CredentialsError(
            f"WEBEX_ARCHIVE_CREDENTIALS={choice!r}: use file, keyring or auto (the default)"
        )
    if choice == "file":
        return FileStore(folder)
    backend = _keyring_backend(strict=choice == "auto")
    if backend is not None:
        return KeyringStore(folder, backend)
    if choice == "keyring":
        raise CredentialsError(
            "WEBEX_ARCHIVE_CREDENTIALS=keyring, but no keyring backend is usable here: "
            "set it to file (or auto)"
        )
    return FileStore(folder)


def _keyring_backend(strict: bool) -> object | None:
    """The keyring backend, if one is usable: with ``strict``, only a real OS store (priority
    1 or more, not a file of keyrings.alt's); chosen explicitly, any that is not fail/null."""
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend
    except ImportError:
        return None
    backend = keyring.get_keyring()
    chosen = backend.backends if isinstance(backend, ChainerBackend) else [backend]
    usable = [b for b in chosen if not type(b).__module__.startswith(NO_KEYRINGS)]
    if strict:
        usable = [
            b
            for b in usable
            if getattr(b, "priority", 0) >= 1 and not type(b).__module__.startswith(NOT_OS_KEYRINGS)
        ]
    return usable[0] if usable else None


def _inside(folder: Path, archive: Path) -> bool:
    folder, archive = folder.resolve(), archive.resolve()
    return folder == archive or archive in folder.parents

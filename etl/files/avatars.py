"""Avatars on disk (``sync --avatars download``): each author's picture once per space folder.

Avatar URLs are public CDN addresses, so they are fetched WITHOUT the Bearer token: a URL comes
from API data and must not collect it. The file name is derived from the person id alone
(``avatar_file_name``) and recorded in the ``avatars`` table, which render reads, so the page
and the disk always agree (the old tool saved ``<id reduced>.jpg`` but linked the raw id). An
avatar is fetched again only when the person's avatar URL changes or its file went missing.
Failures are counted, never fatal: an archive without a picture is still an archive. So
avatars are best effort: one short try each (no retries, no waiting out a 429), and a host that
cannot be reached is tried once per run (``Hosts``): its other avatars are skipped, not each
given the API's minute of backoff.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlite_utils import Database

from etl.api import TRANSIENT_ERRORS, NetworkError, ServerError, WebexClient, WebexError
from etl.files.attachments import one_line
from etl.files.transfer import (
    BODY_TRIES,
    ShortBody,
    body_backoff,
    run_in_threads,
    save_body,
    space_folder,
)
from etl.origin import connection_target
from etl.store import transaction
from webex_layout import UnsafePath, check_inside, remove_leftovers

COUNTERS = ("downloaded", "unchanged", "failed")
MAX_ID_CHARACTERS = 100  # the distinctive end of a base64 person id; the hash keeps it unique
HASH_CHARACTERS = 16  # 64 bits of sha256: different ids never share a name in practice
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/bmp": "bmp",
    "image/svg+xml": "svg",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/tiff": "tif",
}
AVATAR_HEADERS = {"Accept": "image/*", "Accept-Encoding": "identity"}  # and never the token
_AUTHORS = """
    SELECT p.id, p.avatar, a.url, a.local_path
    FROM people AS p
    JOIN (SELECT DISTINCT person_id FROM messages WHERE space_id = :space) AS m
        ON m.person_id = p.id
    LEFT JOIN avatars AS a ON a.space_id = :space AND a.person_id = p.id
    WHERE p.avatar IS NOT NULL AND p.avatar != ''
    ORDER BY p.id
"""


def avatar_file_name(person_id: str, content_type: str | None) -> str:
    """The avatar's file name: the id's ASCII letters and digits (its last 100), ``-``, 16 hex
    of the id's sha256, and an extension from the type (png when unknown).

    Pure, so render and tests can compute it. Only ``[A-Za-z0-9]`` of the id is used, which is
    safe on every file system; the hash tells apart ids that differ only in other characters
    (``=``, ``-``, ``_``) or in a part that was cut.
    """
    letters = "".join(c for c in person_id if c.isascii() and c.isalnum())[-MAX_ID_CHARACTERS:]
    digest = hashlib.sha256(person_id.encode("utf-8")).hexdigest()[:HASH_CHARACTERS]
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    extension = EXTENSIONS.get(kind, "png")
    return f"{letters}-{digest}.{extension}" if letters else f"{digest}.{extension}"


@dataclass(frozen=True)
class _Avatar:
    """One avatar to fetch, and (once fetched) its bytes in a temporary file."""

    person_id: str
    url: str
    old_path: str | None
    temp: Path | None = None
    sha256: str | None = None
    content_type: str | None = None
    error: str | None = None
    host_failed: bool = False  # no answer, or 5xx: the host, not this avatar, is the problem


def _discard(avatar: _Avatar) -> None:
    if avatar.temp is not None:
        avatar.temp.unlink(missing_ok=True)


class Hosts:
    """The avatar hosts of one run: the first avatar from a host is its try (the others from
    that host wait for it); a host that could not be reached then, or later, is skipped for
    the rest of the run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tried: dict[str, threading.Event] = {}
        self.down: dict[str, str] = {}  # "scheme://host:port" → why, in the order they failed

    def first_try(self, host: str) -> bool:
        """True for the caller that makes the host's first try (it must call ``done``);
        any other caller waits until that try is over."""
        with self._lock:
            event = self._tried.get(host)
            if event is None:
                self._tried[host] = threading.Event()
                return True
        event.wait()
        return False

    def done(self, host: str, problem: str | None) -> None:
        with self._lock:
            if problem is not None:
                self.down.setdefault(host, problem)
            self._tried[host].set()

    def why_down(self, host: str) -> str | None:
        with self._lock:
            return self.down.get(host)


def _fetch(client: WebexClient, folder: Path, hosts: Hosts, avatar: _Avatar) -> _Avatar:
    """GET one avatar, best effort and without the token, unless its host is down."""
    target = connection_target(avatar.url)
    if target is None:
        return _failed(avatar, f"not a plain http(s) URL ({avatar.url!r:.100})")
    host = "{}://{}:{}".format(*target)
    first = hosts.first_try(host)
    problem = None
    try:
        why = None if first else hosts.why_down(host)
        if why is not None:
            return _failed(avatar, f"{host} could not be reached earlier in this run ({why})")
        fetched = _get(client, folder, avatar)
        problem = fetched.error if fetched.host_failed else None
        return fetched
    finally:
        if first or problem is not None:
            hosts.done(host, problem)


def _get(client: WebexClient, folder: Path, avatar: _Avatar) -> _Avatar:
    """One short GET; a body cut short is fetched again (BODY_TRIES)."""
    for attempt in range(1, BODY_TRIES + 1):
        try:
            with client.request(
                "GET", avatar.url, headers=AVATAR_HEADERS, stream=True, send_token=False,
                best_effort=True,
            ) as response:  # fmt: skip
                temp, sha256, _ = save_body(response, folder)
                kind = response.headers.get("Content-Type")
            return _Avatar(avatar.person_id, avatar.url, avatar.old_path, temp, sha256, kind)
        except (*TRANSIENT_ERRORS, ShortBody) as error:
            if attempt == BODY_TRIES:
                return _failed(avatar, f"download interrupted {attempt} times: {one_line(error)}")
            client.sleep(body_backoff(attempt))
        except (NetworkError, ServerError) as error:  # no answer, or 5xx: the host is failing
            return _failed(avatar, one_line(error), host_failed=True)
        except (WebexError, requests.RequestException, OSError) as error:
            return _failed(avatar, one_line(error))
    raise AssertionError("not reached")


def _failed(avatar: _Avatar, error: str, host_failed: bool = False) -> _Avatar:
    return _Avatar(
        avatar.person_id, avatar.url, avatar.old_path, error=error, host_failed=host_failed
    )


@dataclass(frozen=True)
class _Target:
    """Where one space's avatars go, and the run's time."""

    db: Database
    space_id: str
    archive_dir: Path
    folder_name: str  # spaces.folder
    now: str

    @property
    def folder(self) -> Path:
        return self.archive_dir / self.folder_name / "avatars"

    def store(self, avatar: _Avatar) -> _Avatar:
        """Rename the fetched avatar into place, upsert its row, remove a replaced file;
        returns the avatar, with ``error`` set if that failed."""
        name = avatar_file_name(avatar.person_id, avatar.content_type)
        local = f"{self.folder_name}/avatars/{name}"
        try:
            final = check_inside(self.folder / name, self.folder)
            os.replace(avatar.temp, final)  # type: ignore[arg-type]
        except (OSError, UnsafePath) as error:
            _discard(avatar)
            return _failed(avatar, one_line(error))
        with transaction(self.db):
            self.db.conn.execute(
                "INSERT INTO avatars (space_id, person_id, url, local_path, sha256, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (space_id, person_id) DO UPDATE SET "
                "url = excluded.url, local_path = excluded.local_path, "
                "sha256 = excluded.sha256, fetched_at = excluded.fetched_at",
                [self.space_id, avatar.person_id, avatar.url, local, avatar.sha256, self.now],
            )
        if avatar.old_path and avatar.old_path != local:
            old = self.archive_dir / avatar.old_path
            if old.parent.resolve() == self.folder.resolve():  # only ever our own avatars
                old.unlink(missing_ok=True)
        return avatar


def _to_fetch(db: Database, space_id: str, archive_dir: Path) -> tuple[list[_Avatar], int]:
    """Authors of the space with an avatar URL whose file is missing or from another URL;
    and how many are unchanged (same URL, file present)."""
    todo, unchanged = [], 0
    for person_id, url, stored_url, stored_path in db.conn.execute(_AUTHORS, {"space": space_id}):
        if stored_url == url and stored_path and (archive_dir / stored_path).is_file():
            unchanged += 1
        else:
            todo.append(_Avatar(person_id, url, stored_path))
    return todo, unchanged


def download_avatars(
    db: Database,
    client: WebexClient,
    space_id: str,
    archive_dir: Path,
    now: str,
    workers: int = 4,
    notify: Callable[..., None] | None = None,
    hosts: Hosts | None = None,
) -> dict[str, int]:
    """Download the avatar of each author of the space into ``<space folder>/avatars/``.

    Only people who wrote messages in the space and have an avatar URL; an avatar whose URL
    is unchanged and whose file is present costs nothing. Fetches run in ``workers`` threads
    without the Bearer token; the database is written on this thread, one transaction per
    avatar. ``notify`` gets progress (etl.sync.Progress) and a line per failure. ``hosts``:
    the run's memory of hosts that could not be reached (shared by the spaces of one sync).
    Returns COUNTERS.
    """
    archive_dir = Path(archive_dir)
    folder_name, space_dir = space_folder(db, space_id, archive_dir)
    target = _Target(db, space_id, archive_dir, folder_name, now)
    folder = check_inside(target.folder, space_dir)
    todo, unchanged = _to_fetch(db, space_id, archive_dir)
    counts = dict.fromkeys(COUNTERS, 0) | {"unchanged": unchanged}
    if not todo:
        return counts
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)
    results = run_in_threads(
        functools.partial(_fetch, client, folder, hosts or Hosts()), todo, workers, _discard
    )
    try:
        for done, fetched in enumerate(results, 1):
            avatar = target.store(fetched) if fetched.error is None else fetched
            counts["failed" if avatar.error else "downloaded"] += 1
            if avatar.error and notify:
                notify(f"avatar of {avatar.person_id} not downloaded: {avatar.error}")
            elif notify:
                notify("avatars", done, len(todo))
    finally:
        results.close()
    return counts

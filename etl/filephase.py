"""The run's file phase: attachment information and bytes, after every space's messages
(and the authors' avatars, after the people: avatars are their URLs).

Asking Webex about a file costs one request per file (``HEAD``), and in a space rich in
files that is most of a first sync's requests (9,184 of 9,293 for 100,000 messages): about
half an hour under a quota of 300 a minute. So the messages of every space come first and
are complete (and renderable) before this phase starts; it then works through the files
still 'pending', space by space, resumable like everything else (each answer is committed
in batches, a killed run asks only about what it had not recorded), with its own progress,
and at most ``file_info_limit`` files a run when the user caps it (the rest stay 'pending'
and render as attachments without a name until a later run asks).

``--download files`` sends no ``HEAD`` at all: the ``GET`` that fetches a file carries the
same headers. ``--download images`` needs the type before choosing what to fetch, so it asks
first, within the same cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database

from webex_layout import UnsafePath

from . import store
from .api import AuthError, WebexClient, WebexError
from .files.attachments import fetch_file_info
from .files.avatars import Hosts, download_avatars
from .files.downloads import add_verdicts, download_files
from .store import transaction


@dataclass(frozen=True)
class FileOptions:
    """The sync's options that concern files (sync.SyncOptions says what each means)."""

    download: str  # no | info | images | files
    workers: int = 4
    archive_dir: Path | None = None
    allow_unscannable: bool = False
    limit: int | None = None  # files asked about (HEAD) in this run, at most


class SpaceOutcome(Protocol):
    """What the phase reads and fills in of each space's result (sync.SpaceResult)."""

    space_id: str
    error: str | None
    files: dict[str, int]
    downloads: dict[str, int]
    avatars: dict[str, int]


def sync_files(
    db: Database,
    client: WebexClient,
    results: list[SpaceOutcome],
    options: FileOptions,
    progress: Callable[..., None],
) -> None:
    """Each space's files that went well so far: their information (``HEAD``), then the
    downloads asked for. A space whose files fail is marked failed; the others go on."""
    if options.download == "no":
        return
    left = options.limit
    for result in results:
        if result.error is not None:
            continue
        try:
            left = _space_files(db, client, result, options, progress, left)
        except AuthError:
            raise
        except (WebexError, UnsafePath) as error:  # UnsafePath: its folder leads outside
            result.error = str(error)
            with transaction(db):
                store.sync_ended(db, result.space_id, result.error)


def _space_files(
    db: Database,
    client: WebexClient,
    result: SpaceOutcome,
    options: FileOptions,
    progress: Callable[..., None],
    left: int | None,
) -> int | None:
    """One space's file work; returns how many more files this run may ask about."""
    space_id, now, workers = result.space_id, store.utc_now(), options.workers
    archive, mode = options.archive_dir, options.download
    downloading = mode in ("images", "files") and archive is not None
    if mode != "files" or not downloading:
        result.files = fetch_file_info(db, client, space_id, now, workers, progress, left)
        left = None if left is None else max(0, left - result.files["checked"])
    if downloading:
        assert archive is not None
        result.downloads = download_files(
            db, client, space_id, archive, mode, now, workers, options.allow_unscannable,
            progress, head_first=False,
        )  # fmt: skip
        if result.files:
            add_verdicts(result.downloads, result.files, options.allow_unscannable)
    return left


def download_avatars_of(
    db: Database,
    client: WebexClient,
    results: list[SpaceOutcome],
    archive: Path,
    workers: int,
    progress: Callable[..., None] | None,
) -> None:
    """Each synced space's avatars (after the people: avatars are their URLs), best effort:
    a host that cannot be reached is tried once in the run, and named in one line. A folder
    that leads outside the archive fails that space only."""
    hosts = Hosts()
    for result in results:
        if result.error is None:
            try:
                result.avatars = download_avatars(
                    db, client, result.space_id, archive, store.utc_now(), workers, progress, hosts
                )
            except UnsafePath as error:
                result.error = str(error)
    failed = sum(r.avatars.get("failed", 0) for r in results)
    if hosts.down:
        named = "; ".join(f"{host} ({why})" for host, why in hosts.down.items())
        client.notify(
            f"avatars: {failed} not downloaded; could not reach {named}: tried once in "
            "this run, the next sync tries again"
        )

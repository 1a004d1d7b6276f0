"""Attachment bytes on disk (``sync --download images|files``): safe names, resumable, deduped.

A name from the API is hostile (docs/design.md, "The archive on disk"): ``safe_name``, unique in its
folder (`` (2)``…), the final path checked to be inside the space folder. Bytes go to a temporary
name and are renamed when complete, so an interrupted download never counts as done; identical
bytes are stored once per space; the mtime is the message's time read as UTC. Workers only
fetch; the calling thread writes the database, one transaction per file, so a kill loses nothing.
"""

from __future__ import annotations

import errno
import functools
import mimetypes
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from sqlite_utils import Database

from etl.api import TRANSIENT_ERRORS, AuthError, WebexClient, WebexError
from etl.files.attachments import (
    LOCKED_RETRIES,
    VERDICTS,
    fetch_file_info,
    info_from_headers,
    locked_wait,
    one_line,
)
from etl.files.names import NameSet, safe_name, split_extension, unique_name
from etl.files.transfer import (
    BODY_TRIES,
    ShortBody,
    body_backoff,
    run_in_threads,
    save_body,
    space_folder,
)
from etl.origin import may_carry_token
from etl.store import ArchiveError, transaction
from webex_layout import UnsafePath, check_inside, remove_leftovers

MODES = ("images", "files")
COUNTERS = ("downloaded", "deduplicated", "gone", "infected", "unscannable", "failed", "bytes")
IMAGE_EXTENSIONS = frozenset("png jpg jpeg gif bmp webp svg tif tiff heic heif avif".split())
# Types that say nothing about the content: the extension decides, as when the type is missing.
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}  # no space, or over quota
FILE_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity"}  # count the bytes as sent
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ROWS = (
    "SELECT f.url, f.message_id, f.position, f.name, f.content_type, f.status, f.local_path, "
    "f.sha256, m.created FROM files AS f JOIN messages AS m ON m.id = f.message_id "
    "WHERE f.space_id = ? ORDER BY m.created, f.message_id, f.position"
)
_DOWNLOADED = (
    "UPDATE files SET status = 'downloaded', local_path = :local_path, sha256 = :sha256, "
    "size = :size, content_type = coalesce(:content_type, content_type), "
    "name = coalesce(name, :name), downloaded_at = :now, checked_at = :now, error = NULL "
    "WHERE message_id = :message_id AND position = :position"
)
_OUTCOME = (
    "UPDATE files SET status = :status, error = :error, local_path = NULL, sha256 = NULL, "
    "downloaded_at = NULL, checked_at = :now "
    "WHERE message_id = :message_id AND position = :position"
)


# ----- attachment helpers -------------------------------------------------------------------------


def is_image(content_type: str | None, name: str | None) -> bool:
    """An image by its type (``image/*``); by its extension when the type is missing or says
    nothing (``application/octet-stream``)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind.startswith("image/"):
        return True
    if kind and kind not in GENERIC_TYPES:
        return False
    return split_extension(name or "")[1].lower() in IMAGE_EXTENSIONS


def mtime_ns(created: str) -> int:
    """An API time (``2024-05-01T16:40:00.123Z``, UTC; naive ones too) as exact nanoseconds
    since the epoch: never read as local time, as the old tool's ``time.mktime`` did."""
    moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


# ----- one file, on a worker thread ------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A files row to download; ``sub``/``target`` None: the GET's headers choose them."""

    url: str
    message_id: str
    position: int
    status: str
    created: str
    sub: str | None
    target: str | None


@dataclass(frozen=True)
class Fetched:
    """What a worker got: the bytes in a temporary file, or a verdict or failure."""

    job: Job
    status: str  # 'downloaded' or a files status: gone, infected, unscannable, failed
    error: str | None = None
    temp: Path | None = None
    sha256: str | None = None
    size: int = 0
    content_type: str | None = None
    name: str | None = None
    sub: str = "files"


def _sub(content_type: str | None, name: str | None) -> str:
    return "images" if is_image(content_type, name) else "files"


def _discard(result: Fetched) -> None:
    if result.temp is not None:
        result.temp.unlink(missing_ok=True)


def _fetch(client: WebexClient, space_dir: Path, allow_unscannable: bool, job: Job) -> Fetched:
    """GET, waiting out 423, refetching a body cut short, 428 → allow=unscannable if allowed."""
    if not may_carry_token(job.url, client.origin):
        return Fetched(job, "failed", f"not a Webex file URL ({job.url:.100}): not sent the token")
    allow = allow_unscannable and job.status == "unscannable"
    locked = broken = 0
    while True:
        try:
            return _get(client, space_dir, job, {"allow": "unscannable"} if allow else None)
        except AuthError:
            raise  # an expired token fails every file: stop the run and say so
        except WebexError as error:
            if error.status == 428 and allow_unscannable and not allow:
                allow = True
            elif error.status in VERDICTS:
                return Fetched(job, VERDICTS[error.status], one_line(error))
            elif error.status != 423:
                return Fetched(job, "failed", one_line(error))
            elif locked == LOCKED_RETRIES:
                return Fetched(job, "failed", "still being scanned")
            else:
                locked += 1
                client.sleep(locked_wait(error.retry_after))
        except (*TRANSIENT_ERRORS, ShortBody) as error:
            broken += 1
            if broken == BODY_TRIES:
                return Fetched(
                    job, "failed", f"download interrupted {broken} times: {one_line(error)}"
                )
            client.sleep(body_backoff(broken))
        except (requests.RequestException, OSError, UnsafePath) as error:
            if isinstance(error, OSError) and error.errno in DISK_FULL:
                raise disk_full(space_dir, error) from None  # every other file would fail too
            return Fetched(job, "failed", one_line(error))


def disk_full(folder: Path, error: OSError) -> ArchiveError:
    """The one line that stops a run when the disk is full: going on would only mark every
    remaining file as failed."""
    return ArchiveError(
        f"the disk holding {folder} is full ({error.strerror}): free some space and run "
        "again (the archive keeps every file and message saved so far)"
    )


def _get(client: WebexClient, space_dir: Path, job: Job, params: dict | None) -> Fetched:
    with client.request("GET", job.url, params=params, headers=FILE_HEADERS, stream=True) as got:
        info = info_from_headers(got.headers)
        sub = job.sub or _sub(info.content_type, info.name)
        folder = check_inside(space_dir / sub, space_dir)
        folder.mkdir(parents=True, exist_ok=True)
        temp, sha256, size = save_body(got, folder)
    with client.stats.lock:
        client.stats.bytes += size
    return Fetched(job, "downloaded", None, temp, sha256, size, info.content_type, info.name, sub)


# ----- the calling thread: names, dedupe, the database -----------------------------------------


class _Run:
    """One space's run on the calling thread: names in message order, dedupe, rename, record."""

    def __init__(self, db: Database, space_id: str, archive_dir: Path, now: str):
        self.db, self.space_id, self.now = db, space_id, now
        self.folder, self.space_dir = space_folder(db, space_id, archive_dir)
        self.archive_dir = Path(archive_dir)
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.known: dict[str, str] = {}  # sha256 → local_path of a file present on disk
        self.kept: list[str] = []  # local_path of every row whose file stays as it is
        self.names: dict[str, NameSet] = {}
        self.sharing: dict[str, list[dict]] = {}  # url → the other rows that GET serves too

    def plan(self, mode: str, allow_unscannable: bool) -> list[Job]:
        """Jobs for rows pending, info, failed (unscannable if allowed) or downloaded but missing
        on disk; images only in images mode. The other rows lend their names and hashes."""
        retry = {"pending", "info", "failed", "downloaded"}
        retry |= {"unscannable"} if allow_unscannable else set()
        todo = []
        for row in self.db.query(_ROWS, [self.space_id]):
            local = row["local_path"]
            if row["status"] == "downloaded" and local and (self.archive_dir / local).is_file():
                self.known.setdefault(row["sha256"] or local, local)
                self.kept.append(local)
            elif row["status"] in retry:
                todo.append(row)
        wanted = [r for r in todo if mode == "files" or is_image(r["content_type"], r["name"])]
        jobs = []
        for row in wanted:  # a URL several rows share is fetched once, for the first
            if row["url"] in self.sharing:
                self.sharing[row["url"]].append(row)
            else:
                self.sharing[row["url"]] = []
                jobs.append(self._job(row))
        return jobs

    def _job(self, row: dict) -> Job:
        sub = _sub(row["content_type"], row["name"]) if row["name"] or row["content_type"] else None
        target = self.claim(sub, safe_name(row["name"])) if sub and row["name"] else None
        keys = ("url", "message_id", "position", "status", "created")
        return Job(*(row[key] for key in keys), sub=sub, target=target)

    def claim(self, sub: str, wanted: str) -> str:
        """``wanted`` made unique in ``sub`` against the space's other files and the disk."""
        if sub not in self.names:
            folder, prefix = self.space_dir / sub, f"{self.folder}/{sub}/"
            on_disk = os.listdir(folder) if folder.is_dir() else []
            kept = [p.removeprefix(prefix) for p in self.kept if p.startswith(prefix)]
            self.names[sub] = NameSet([*on_disk, *kept])
        name = unique_name(wanted, self.names[sub])
        self.names[sub].add(name)
        return name

    def finish(self, result: Fetched) -> None:
        """Record one worker result; bytes are deduped or renamed into place."""
        if result.status != "downloaded":
            return self._outcome(result)
        self.counts["bytes"] += result.size
        self.counts["deduplicated"] += len(self.sharing.get(result.job.url, []))  # same URL
        existing = self.known.get(result.sha256 or "")
        if existing is not None:
            _discard(result)
            self._record(_DOWNLOADED, result, local_path=existing)
            self.counts["deduplicated"] += 1
            return None
        try:
            final, local = self._target(result)
            moment = mtime_ns(result.job.created)
            os.utime(result.temp, ns=(moment, moment))  # type: ignore[arg-type]
            # Recorded first: killed before the rename, the row's file is missing and the next
            # run downloads it again; never an unrecorded file squatting on a name.
            self._record(_DOWNLOADED, result, local_path=local)
            os.replace(result.temp, final)  # type: ignore[arg-type]
        except (OSError, ValueError) as error:
            return self._outcome(replace(result, status="failed", error=one_line(error)))
        except BaseException:  # the database refused the row (disk full), Ctrl-C: no .part
            _discard(result)
            raise
        self.known[result.sha256 or local] = local
        self.counts["downloaded"] += 1
        return None

    def _target(self, result: Fetched) -> tuple[Path, str]:
        """The final path (checked to be inside its folder) and its local_path."""
        name = result.job.target
        if name is None:  # not known before the GET: from its headers, or file.<type's ext>
            kind = (result.content_type or "").split(";", 1)[0].strip()
            extension = (mimetypes.guess_extension(kind) if kind else None) or ""
            name = self.claim(result.sub, safe_name(result.name or "", fallback="file" + extension))
        folder = self.space_dir / result.sub
        return check_inside(folder / name, folder), f"{self.folder}/{result.sub}/{name}"

    def _outcome(self, result: Fetched) -> None:
        _discard(result)
        self._record(_OUTCOME, result, status=result.status, error=result.error)
        self.counts[result.status] += 1 + len(self.sharing.get(result.job.url, []))

    def _record(self, sql: str, result: Fetched, **values: object) -> None:
        """The job's row and the rows sharing its URL, in one transaction."""
        job, fields = result.job, ("sha256", "size", "name", "content_type")
        row = {"now": self.now} | {field: getattr(result, field) for field in fields} | values
        rows = [(job.message_id, job.position)]
        rows += [(r["message_id"], r["position"]) for r in self.sharing.get(job.url, [])]
        with transaction(self.db):
            for message_id, position in rows:
                self.db.conn.execute(sql, row | {"message_id": message_id, "position": position})


def add_verdicts(counts: dict[str, int], heads: dict[str, int], allow_unscannable: bool) -> None:
    """The final verdicts the HEADs found, counted among the downloads' outcomes."""
    for verdict in ("gone", "infected") + (() if allow_unscannable else ("unscannable",)):
        counts[verdict] += heads[verdict]


def download_files(
    db: Database,
    client: WebexClient,
    space_id: str,
    archive_dir: Path,
    mode: str,
    now: str,
    workers: int = 4,
    allow_unscannable: bool = False,
    progress: Callable[..., None] | None = None,
    head_first: bool = True,
) -> dict[str, int]:
    """Download the space's attachments (``mode`` "images": images only; "files": all) into
    ``<archive>/<space folder>/images|files/``.

    ``head_first``: rows never asked about get their HEAD first (``fetch_file_info``), so
    that images are known before any GET; "files" mode needs no HEAD (the GET's headers
    name the file, and names are still chosen in message order, as the ordered pool hands
    results back), so the file phase (filephase.py) passes False. A URL several rows share
    is fetched once. Only what is missing is fetched: a re-run of a complete space sends no
    request. Returns COUNTERS: files per outcome (the HEADs' verdicts included) and
    ``bytes`` received. AuthError stops the run.
    """
    if mode not in MODES:
        raise ValueError(f"download mode must be one of {MODES}, not {mode!r}")
    run = _Run(db, space_id, archive_dir, now)
    for sub in ("images", "files"):
        remove_leftovers(run.space_dir / sub)
    if head_first:
        heads = fetch_file_info(db, client, space_id, now, workers, progress)
        add_verdicts(run.counts, heads, allow_unscannable)
    jobs = run.plan(mode, allow_unscannable)
    work = functools.partial(_fetch, client, run.space_dir, allow_unscannable)
    results = run_in_threads(work, jobs, workers, _discard)
    try:
        for done, result in enumerate(results, 1):
            run.finish(result)
            if progress:
                progress("downloads", done, len(jobs))
    finally:
        results.close()
    return run.counts

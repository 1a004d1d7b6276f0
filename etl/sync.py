"""The incremental sync of spaces into the archive (docs/design.md, "Sync, precisely").

A run records itself in ``sync_runs``, asks who the token belongs to, then syncs each space:
its room, its message walk (walk.py, with the parallel backfill of missing history in
backfill.py), thread parents and undecrypted messages by id (byid.py) and its members
(people.py); then the people the archive references; then, in a phase of its own, every
space's files (filephase.py), so that the messages are complete before the slow part starts.
Killed at any instant, the next run resumes: what was committed is never fetched again.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database

from webex_layout import UnsafePath

from . import store
from .api import AuthError, NotFoundError, WebexClient, WebexError
from .byid import UNDECRYPTED, fetch_parents, fetch_undecrypted
from .errors import SyncError
from .filephase import FileOptions, download_avatars_of, sync_files
from .files.names import folder_name
from .pacing import keep_pace, start_paced
from .pages import SpaceMessages
from .paging import FLOOR, PageSize
from .people import sync_members, sync_people
from .store import transaction
from .store.fts import restore_triggers
from .store.lock import archive_lock
from .times import utc_iso
from .walk import Walk

__all__ = ["SpaceResult", "SpaceSync", "SyncError", "SyncOptions", "sync_spaces", "utc_iso"]
# A sync writes pages of 1,000 messages (about 2 MB with their indexes): a bigger page cache
# (64 MB) and rarer checkpoints (each copies the WAL into the database and syncs the disk;
# index pages touched by many pages are copied once) than SQLite's defaults, for this
# connection only. A 20,000-message load measured 2.0 s instead of 3.6 s.
SYNC_PRAGMAS = ("cache_size = -65536", "wal_autocheckpoint = 32768")


@dataclass
class SyncOptions:
    """What to fetch. ``since`` (ISO UTC) and ``last`` bound how far back history goes."""

    since: str | None = None
    last: int | None = None
    rescan_days: float = 7.0
    full: bool = False
    page_size: int = 1000
    stale_days: float = 7.0
    workers: int = 4
    download: str = "info"  # no | info | images | files
    avatars: str = "no"  # no | link | download
    allow_unscannable: bool = False
    archive_dir: Path | None = None  # where downloads go (the archive folder)
    file_info_limit: int | None = None  # at most this many files asked about (HEAD) a run
    relearn_rate: bool = False  # forget the pace an earlier run learnt (etl/pacing.py)


@dataclass
class SpaceResult:
    space_id: str
    title: str = ""
    pages: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    parents: int = 0
    files: dict[str, int] = field(default_factory=dict)
    downloads: dict[str, int] = field(default_factory=dict)
    avatars: dict[str, int] = field(default_factory=dict)
    unchanged: bool = False  # lastActivity as at the last sync: no walk was needed
    window_read: bool = False  # lastActivity as at the last sync, look-back re-read anyway
    error: str | None = None  # why this space failed (the others went on)


class Plan(Protocol):
    """A run whose spaces are decided once it holds the lock, with work after each space:
    a compliance officer's (etl/compliance.py: the events feed, the custodians)."""

    def spaces(self, db: Database, progress: Progress) -> list[str]: ...

    def options(self, space_id: str, options: SyncOptions) -> SyncOptions: ...

    def finished(self, db: Database, space_id: str, result: SpaceResult) -> None: ...


class Progress(Protocol):
    """A status line: ``line`` alone, or a phase name with its count so far and its total
    (webex_archive/progress.py adds the rate and the ETA)."""

    def __call__(self, line: str, done: int | None = None, total: int | None = None) -> None: ...


def sync_spaces(
    db: Database,
    client: WebexClient,
    space_ids: list[str],
    options: SyncOptions,
    progress: Progress | None = None,
    arguments: dict | None = None,
    locked: bool = False,
    plan: Plan | None = None,
    rooms: dict[str, dict] | None = None,
) -> list[SpaceResult]:
    """Sync each space, then the people they mention, then the files; record the run in
    ``sync_runs``.

    ``locked``: the caller holds the archive's sync lock already (lock.folder_lock, taken
    before the archive was opened); otherwise this takes it. ``rooms``: spaces as the
    ``/rooms`` listing gave them (``sync --all``), by id: they carry ``lastActivity``, so an
    unchanged space costs no request of its own; the others are asked for one by one.

    A space that fails (gone, forbidden, Webex failing beyond the retries) is recorded with
    its error and the others go on; an invalid token stops everything, since every space
    would fail the same way. ``plan``: the spaces come from it (``space_ids`` is what the
    run records as asked for), each with its options and its work after.
    """
    with contextlib.nullcontext() if locked else archive_lock(db):  # one sync at a time
        try:
            try:
                return _sync_spaces(
                    db, client, space_ids, options, progress, arguments, rooms or {}, plan
                )
            finally:
                _restore_triggers(db)
        except sqlite3.Error as error:  # a full disk, a damaged file: one line, not a trace
            problem = store.environment_error(db, error)
            if problem is None:
                raise
            raise problem from error


def _restore_triggers(db: Database) -> None:
    """The full-text insert trigger back (the walks index their pages themselves, fts.py).
    If the archive cannot take even that, the next open_archive puts it back."""
    with contextlib.suppress(sqlite3.Error):
        restore_triggers(db)


def _sync_spaces(
    db: Database,
    client: WebexClient,
    space_ids: list[str],
    options: SyncOptions,
    progress: Progress | None,
    arguments: dict | None,
    rooms: dict[str, dict],
    plan: Plan | None = None,
) -> list[SpaceResult]:
    """sync_spaces under the lock: the run's record opens first and is closed however the
    run ends (a killed process leaves it 'running'; the next run marks it interrupted)."""
    progress = progress or (lambda line, done=None, total=None: None)
    with transaction(db):
        run_id = store.start_run(db, arguments or {}, space_ids)
        start_paced(db, client.pacer, options.relearn_rate, client.notify)
    results: list[SpaceResult] = []
    try:
        me = client.get_json("people/me")
        with transaction(db):
            store.save_me(db, me)
        hint: dict = {}
        if plan is not None:
            space_ids = plan.spaces(db, progress)
        for space_id in space_ids:
            asked = plan.options(space_id, options) if plan else options
            after = partial(plan.finished, db, space_id) if plan else None
            listed = rooms.get(space_id)
            results.append(sync_one(db, client, asked, me, progress, space_id, listed, hint, after))
        sync_people(db, client, options.stale_days, progress)
        sync_files(db, client, results, file_options(options), progress)  # type: ignore[arg-type]
        if options.avatars == "download" and options.archive_dir is not None:
            download_avatars_of(
                db,
                client,
                results,
                options.archive_dir,
                options.workers,
                progress,  # type: ignore[arg-type]
            )
    except BaseException as error:
        status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        try:
            with transaction(db):
                message = " ".join(str(error).split()) or status
                store.finish_run(db, run_id, status, _counters(client, results), message)
                keep_pace(db, client.pacer)
        except sqlite3.Error:
            pass  # the archive cannot take even that (disk full): the error below says why
        raise
    failed = [r for r in results if r.error]
    summary = f"{len(failed)} of {len(results)} spaces failed" if failed else None
    with transaction(db):
        store.finish_run(
            db, run_id, "failed" if failed else "ok", _counters(client, results), summary
        )
        keep_pace(db, client.pacer)
    return results


def file_options(options: SyncOptions) -> FileOptions:
    return FileOptions(
        options.download, options.workers, options.archive_dir, options.allow_unscannable,
        options.file_info_limit,
    )  # fmt: skip


def sync_one(
    db: Database,
    client: WebexClient,
    options: SyncOptions,
    me: dict,
    progress: Progress,
    space_id: str,
    listed: dict | None = None,
    hint: dict | None = None,
    after: Callable[[SpaceResult], None] | None = None,
) -> SpaceResult:
    """One space's messages and members (``listed``: its room as ``/rooms`` gave it; ``hint``:
    what the run's spaces tell the next ones, the page size a 504 taught); its failure is
    returned in the result, not raised (but 401 is raised). ``after``: more work on the space
    once its sync went well, failing it like the sync."""
    space = SpaceSync(db, client, options, me, progress, hint)
    try:
        result = space.run(space_id, listed)
        if after is not None:
            after(result)
    except AuthError:
        raise
    except (WebexError, SyncError, UnsafePath) as error:  # UnsafePath: its folder leads outside
        result = getattr(space, "result", SpaceResult(space_id))
        result.error = str(error)
    with transaction(db):
        store.sync_ended(db, space_id, result.error)
    return result


def _counters(client: WebexClient, results: list[SpaceResult]) -> dict[str, float]:
    stats = client.stats
    return {
        "requests": stats.requests,
        "pages": sum(r.pages for r in results),
        "new_messages": sum(r.new for r in results),
        "edited_messages": sum(r.edited for r in results),
        "deleted_messages": sum(r.deleted for r in results),
        "retries": stats.retries,
        "rate_limited": stats.rate_limited,
        "waited_seconds": round(stats.waited, 3),
        "paced_seconds": round(stats.paced, 3),
        "bytes": stats.bytes,
        "file_info": sum(r.files.get("checked", 0) for r in results),
    }


class SpaceSync:
    """One space's sync: its room, its message walk, thread parents, members and files."""

    def __init__(
        self,
        db: Database,
        client: WebexClient,
        options: SyncOptions,
        me: dict,
        progress: Progress,
        hint: dict | None = None,
    ):
        self.db, self.client, self.options, self.me = db, client, options, me
        self.progress = progress
        self.now = store.utc_now()
        self.started = time.monotonic()
        self.in_window = 0  # live messages stored inside the look-back window (quiet())
        self.hint = hint if hint is not None else {}  # shared by the run's spaces

    def count_page(self, new: int, edited: int) -> None:
        """A page of messages was written: count it, and say how the space is going."""
        result = self.result
        result.pages += 1
        result.new += new
        result.edited += edited
        rate = result.new / max(time.monotonic() - self.started, 1e-6)
        self.progress(
            f"{result.title}: {result.pages} pages, {result.new} new messages, {rate:,.0f}/s"
        )

    def run(self, space_id: str, listed: dict | None = None) -> SpaceResult:
        self.result = SpaceResult(space_id)
        room = self.check_room(listed if listed is not None else self.fetch_room(space_id))
        self.result.title = room.get("title", "")
        same = self.unchanged(space_id, room)
        # An unchanged lastActivity proves no message was posted; Webex does not say whether
        # an edit or a deletion moves it, so the look-back is re-read whenever it holds a
        # message (docs/design.md, "Sync, precisely").
        self.result.window_read = same and not self.quiet(space_id)
        self.result.unchanged = same and not self.result.window_read
        with transaction(self.db):
            store.save_space(self.db, room, self.now)
            store.assign_folder(self.db, space_id, folder_name(room.get("title") or "space"))
            store.sync_started(self.db, space_id)
        try:
            if not self.result.unchanged:
                self.messages(space_id)
            if not same or self.members_stale(space_id):
                sync_members(self.db, self.client, space_id, self.now)
        except NotFoundError:
            raise SyncError(
                f"the space {self.result.title!r} ({space_id}) answered 404 mid-sync: it "
                "was deleted or this token lost access; the archive keeps what was fetched "
                "(`webex-archive spaces` lists what the token sees)"
            ) from None
        return self.result

    def messages(self, space_id: str) -> None:
        """The walk (with the parallel backfill), then the messages fetched by id."""
        for pragma in SYNC_PRAGMAS:  # not before: a no-op run keeps a small cache
            self.db.execute(f"PRAGMA {pragma}")
        options, since = self.options, self.lower_bound(space_id)
        wanted = options.page_size
        if self.result.window_read:  # one page that holds the window and one message below
            wanted = min(wanted, max(FLOOR, self.in_window + 2))
        stored, learnt_at = store.page_size(self.db, space_id)
        size = PageSize(wanted, stored, learnt_at, self.clock(), self.hint.get("page_size"))
        messages = SpaceMessages(self.db, self.client, space_id, self.now, size, self.count_page)
        try:
            Walk(
                messages, since, cutoff=self.look_back(since), last=options.last,
                workers=options.workers, deleted=self.count_deleted,
            ).run()  # fmt: skip
        finally:  # what a 504 taught holds even when the walk failed later
            learnt, changed = size.to_store()
            if size.shrunk:  # the next spaces of the run start there
                self.hint["page_size"] = size.current()
            if changed:
                with transaction(self.db):
                    store.save_page_size(self.db, space_id, learnt, self.now)
        fetch_parents(messages, options.full, self.count_parent)
        fetch_undecrypted(messages)

    @staticmethod
    def clock() -> datetime:
        return datetime.now(timezone.utc)

    def count_deleted(self, deleted: int) -> None:
        """Messages a complete re-read no longer found were marked deleted."""
        self.result.deleted += deleted

    def count_parent(self, new: int) -> None:
        """A thread parent was fetched by id and stored (``new``: 1 unless it was known)."""
        self.result.parents += 1
        self.result.new += new

    def unchanged(self, space_id: str, room: dict) -> bool:
        """True when nothing happened in the space since its last good sync (lastActivity):
        the walk, the look-back and the members listing are skipped. Never while the space
        holds messages or members Webex could not decrypt: those are asked for again."""
        if self.options.full or self.options.since or self.options.last:
            return False
        activity, status = store.last_sync(self.db, space_id)
        listed = store.archive_time(room.get("lastActivity"))  # stored in the archive's form
        same = bool(status == "ok" and activity and activity == listed)
        return same and not self.holds_undecrypted(space_id)

    def quiet(self, space_id: str) -> bool:
        """Whether the look-back window holds no stored message: then no edit or deletion
        inside it can have happened unseen (a new message would have moved lastActivity)."""
        cutoff = self.look_back(self.lower_bound(space_id))
        if cutoff is None:
            return False
        self.in_window = store.live_messages_since(self.db, space_id, cutoff)
        return self.in_window == 0

    def members_stale(self, space_id: str) -> bool:
        """Whether an unchanged space's members are due to be listed again: Webex does not
        say whether joining or leaving moves lastActivity, so they are re-listed once their
        listing is ``stale_days`` old, as people are."""
        listed = store.members_listed_at(self.db, space_id)
        moment = datetime.now(timezone.utc) - timedelta(days=self.options.stale_days)
        return listed is None or listed < utc_iso(moment)

    def holds_undecrypted(self, space_id: str) -> bool:
        """Whether messages or members of the space were stored with an ``errors`` object
        (the messages by their partial index, the members by a scan: they are few)."""
        found = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE space_id = :space AND left_at IS "
            f"NULL AND json_extract(raw, '$.errors') IS NOT NULL) OR EXISTS ({UNDECRYPTED})",
            {"space": space_id},
        )
        return bool(found.fetchone()[0])

    def fetch_room(self, space_id: str) -> dict:
        try:
            return self.client.get_json(f"rooms/{space_id}")
        except NotFoundError:
            raise SyncError(
                f"no space with id {space_id} is visible to this token; "
                "run `webex-archive spaces` to list the ones it can see"
            ) from None

    def check_room(self, room: dict) -> dict:
        """The room, unless the token is a bot's and the space a group (one line why)."""
        if self.me.get("type") == "bot" and room.get("type") == "group":
            raise SyncError(
                f"the token belongs to a bot ({self.me.get('displayName')}): Webex lets bots read "
                "only the messages that mention them in group spaces; use a person's token"
            )
        return room

    def lower_bound(self, space_id: str) -> str | None:
        """The oldest time to walk down to: asked for now, or remembered from earlier runs."""
        remembered = store.sync_since(self.db, space_id)
        asked = self.options.since
        if asked is None and self.options.last is None:
            return remembered
        if asked is not None and (remembered is None or asked < remembered):
            with transaction(self.db):
                store.lower_sync_since(self.db, space_id, asked)
        return asked

    def look_back(self, since: str | None) -> str | None:
        """The look-back window's lower end: the walk re-reads everything down to it."""
        if self.options.full:
            return since  # re-read everything down to the bound (None: to the start)
        moment = datetime.now(timezone.utc) - timedelta(days=self.options.rescan_days)
        return utc_iso(moment)

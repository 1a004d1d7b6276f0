"""The incremental sync of spaces into the archive (design.md, "Sync, precisely").

Messages page only backwards, so each space is walked from its newest message down. Every page
is written with its coverage update in one transaction; a walk that reaches a span it already
has jumps below it with ``beforeMessage``. The newest part of history (the look-back window) is
always re-read, which finds edits (kept as revisions) and deletions (marked, content kept).
Killed at any instant, the next run resumes: what was committed is never fetched again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlite_utils import Database

from . import store
from .api import AuthError, ForbiddenError, NotFoundError, WebexClient, WebexError
from .attachments import fetch_file_info
from .avatars import download_avatars
from .coverage import Span, record_page
from .downloads import download_files
from .lock import archive_lock
from .names import folder_name
from .store import transaction

PEOPLE_PER_CALL = 85
EMPTY_PAGE_LIMIT = 10


class SyncError(Exception):
    """A sync that cannot go on, with a one-line message that says what to do."""


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
    error: str | None = None  # why this space failed (the others went on)


Progress = Callable[[str], None]


def sync_spaces(
    db: Database,
    client: WebexClient,
    space_ids: list[str],
    options: SyncOptions,
    progress: Progress | None = None,
    arguments: dict | None = None,
) -> list[SpaceResult]:
    """Sync each space, then the people they mention; record the run in ``sync_runs``.

    A space that fails (gone, forbidden, Webex failing beyond the retries) is recorded with
    its error and the others go on; an invalid token stops everything, since every space
    would fail the same way.
    """
    with archive_lock(db):  # one sync per archive at a time (etl/lock.py)
        try:
            return _sync_spaces(db, client, space_ids, options, progress, arguments)
        except sqlite3.Error as error:  # a full disk, a damaged file: one line, not a trace
            problem = store.environment_error(db, error)
            if problem is None:
                raise
            raise problem from error


def _sync_spaces(
    db: Database,
    client: WebexClient,
    space_ids: list[str],
    options: SyncOptions,
    progress: Progress | None,
    arguments: dict | None,
) -> list[SpaceResult]:
    """sync_spaces under the lock: the run's record opens first and is closed however the
    run ends (a killed process leaves it 'running'; the next run marks it interrupted)."""
    progress = progress or (lambda line: None)
    with transaction(db):
        run_id = store.start_run(db, arguments or {}, space_ids)
    results: list[SpaceResult] = []
    try:
        me = client.get_json("people/me")
        with transaction(db):
            store.save_me(db, me)
        for space_id in space_ids:
            results.append(sync_one(db, client, options, me, progress, space_id))
        sync_people(db, client, options)
        if options.avatars == "download" and options.archive_dir is not None:
            for result in results:  # after the people: avatars are their URLs
                if result.error is None:
                    result.avatars = download_avatars(
                        db,
                        client,
                        result.space_id,
                        options.archive_dir,
                        store.utc_now(),
                        options.workers,
                    )
    except BaseException as error:
        status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        try:
            with transaction(db):
                message = " ".join(str(error).split()) or status
                store.finish_run(db, run_id, status, _counters(client, results), message)
        except sqlite3.Error:
            pass  # the archive cannot take even that (disk full): the error below says why
        raise
    failed = [r for r in results if r.error]
    summary = f"{len(failed)} of {len(results)} spaces failed" if failed else None
    with transaction(db):
        store.finish_run(
            db, run_id, "failed" if failed else "ok", _counters(client, results), summary
        )
    return results


def sync_one(
    db: Database,
    client: WebexClient,
    options: SyncOptions,
    me: dict,
    progress: Progress,
    space_id: str,
) -> SpaceResult:
    """One space; its failure is returned in the result, not raised (but 401 is raised)."""
    space = SpaceSync(db, client, options, me, progress)
    try:
        result = space.run(space_id)
    except AuthError:
        raise
    except (WebexError, SyncError) as error:
        result = getattr(space, "result", SpaceResult(space_id))
        result.error = str(error)
    with transaction(db):
        db.execute(
            "UPDATE spaces SET last_sync_status = ?, last_sync_error = ? WHERE id = ?",
            ["failed" if result.error else "ok", result.error, space_id],
        )
    return result


def _counters(client: WebexClient, results: list[SpaceResult]) -> dict[str, int]:
    return {
        "requests": client.stats.requests,
        "pages": sum(r.pages for r in results),
        "new_messages": sum(r.new for r in results),
        "edited_messages": sum(r.edited for r in results),
        "deleted_messages": sum(r.deleted for r in results),
    }


def utc_iso(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _plus_ms(api_time: str, milliseconds: int) -> str:
    moment = datetime.strptime(api_time[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return utc_iso(moment + timedelta(milliseconds=milliseconds))


class SpaceSync:
    """One space's sync: its room, its message walk, thread parents, members and files."""

    def __init__(
        self,
        db: Database,
        client: WebexClient,
        options: SyncOptions,
        me: dict,
        progress: Progress,
    ):
        self.db, self.client, self.options, self.me = db, client, options, me
        self.progress = progress
        self.now = store.utc_now()
        self.started = time.monotonic()

    def run(self, space_id: str) -> SpaceResult:
        self.result = SpaceResult(space_id)
        room = self.fetch_room(space_id)
        self.result.title = room.get("title", "")
        self.result.unchanged = self.unchanged(space_id, room)
        with transaction(self.db):
            store.save_space(self.db, room, self.now)
            store.assign_folder(self.db, space_id, folder_name(room.get("title") or "space"))
            # Until this run ends well, a later run must not take the space as unchanged.
            self.db.execute(
                "UPDATE spaces SET last_sync_status = 'running' WHERE id = ?", [space_id]
            )
        if not self.result.unchanged:
            try:
                self.walk(space_id, self.lower_bound(space_id))
                self.fetch_parents(space_id)
                self.fetch_undecrypted(space_id)
                self.sync_members(space_id)
            except NotFoundError:
                raise SyncError(
                    f"the space {self.result.title!r} ({space_id}) answered 404 mid-sync: it "
                    "was deleted or this token lost access; the archive keeps what was fetched "
                    "(`webex-archive spaces` lists what the token sees)"
                ) from None
        self.files(space_id)
        return self.result

    def unchanged(self, space_id: str, room: dict) -> bool:
        """True when nothing happened in the space since its last good sync (lastActivity):
        the walk, the look-back and the members listing are skipped. Never while the space
        holds messages or members Webex could not decrypt: those are asked for again."""
        if self.options.full or self.options.since or self.options.last:
            return False
        row = self.db.execute(
            "SELECT last_activity, last_sync_status FROM spaces WHERE id = ?", [space_id]
        ).fetchone()
        same = bool(row and row[1] == "ok" and row[0] and row[0] == room.get("lastActivity"))
        return same and not self.holds_undecrypted(space_id)

    def holds_undecrypted(self, space_id: str) -> bool:
        """Whether messages or members of the space were stored with an ``errors`` object
        (about 40 ms per 100,000 messages: a scan, paid only by spaces that look unchanged)."""
        found = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE space_id = :space AND left_at IS "
            "NULL AND json_extract(raw, '$.errors') IS NOT NULL) OR EXISTS (SELECT 1 FROM "
            "messages WHERE space_id = :space AND deleted_at IS NULL AND raw LIKE '%\"errors\"%' "
            "AND json_extract(raw, '$.errors') IS NOT NULL)",
            {"space": space_id},
        )
        return bool(found.fetchone()[0])

    def files(self, space_id: str) -> None:
        """Attachment metadata (HEAD), then the downloads asked for."""
        options, archive = self.options, self.options.archive_dir
        if options.download != "no":
            self.result.files = fetch_file_info(
                self.db, self.client, space_id, self.now, options.workers
            )
        if options.download in ("images", "files") and archive is not None:
            self.result.downloads = download_files(
                self.db, self.client, space_id, archive, options.download, self.now,
                options.workers, options.allow_unscannable, self.progress,
            )  # fmt: skip

    def fetch_room(self, space_id: str) -> dict:
        try:
            room = self.client.get_json(f"rooms/{space_id}")
        except NotFoundError:
            raise SyncError(
                f"no space with id {space_id} is visible to this token; "
                "run `webex-archive spaces` to list the ones it can see"
            ) from None
        if self.me.get("type") == "bot" and room.get("type") == "group":
            raise SyncError(
                f"the token belongs to a bot ({self.me.get('displayName')}): Webex lets bots read "
                "only the messages that mention them in group spaces; use a person's token"
            )
        return room

    def lower_bound(self, space_id: str) -> str | None:
        """The oldest time to walk down to: asked for now, or remembered from earlier runs."""
        remembered = self.db.execute(
            "SELECT sync_since FROM spaces WHERE id = ?", [space_id]
        ).fetchone()[0]
        asked = self.options.since
        if asked is None and self.options.last is None:
            return remembered
        if asked is not None and (remembered is None or asked < remembered):
            with transaction(self.db):
                self.db.execute("UPDATE spaces SET sync_since = ? WHERE id = ?", [asked, space_id])
        return asked

    # ----- the message walk ------------------------------------------------------------------

    def walk(self, space_id: str, since: str | None) -> None:
        """Page down from the newest message; see the module docstring for the rules."""
        options = self.options
        if options.full:
            cutoff = since  # re-read everything down to the bound (None: to the start)
        else:
            cutoff = utc_iso(datetime.now(timezone.utc) - timedelta(days=options.rescan_days))
        base = {"roomId": space_id, "max": options.page_size}
        url, params = "messages", dict(base)
        span: Span | None = None
        seen: set[str] = set()
        top: str | None = None
        lowest: str | None = None  # created of the last message walked so far
        rescanned = False
        empty = 0
        while True:
            try:
                items, next_url = self.client.page(url, params)
            except NotFoundError:
                if span is None or "before" in (params or {}):
                    raise
                # The cursor message was deleted between pages: go on by time instead.
                url, params = "messages", {**base, "before": _plus_ms(span.oldest_created, 1)}
                continue
            # Every created comparable (store.py); the page before ends with the newer neighbour.
            items = store.received(items, self.now, lowest)
            empty = empty + 1 if not items else 0
            if empty > EMPTY_PAGE_LIMIT:
                raise SyncError("Webex keeps answering empty pages; run again later")
            span = self.save_page(space_id, span, items, next_url is None)
            seen.update(m["id"] for m in items)
            if items:
                top = top or items[0]["created"]
                lowest = items[-1]["created"]
            if next_url is None:
                break
            if not items or (cutoff is None or lowest >= cutoff):
                url, params = next_url, None  # inside the look-back window: read everything
                continue
            if not rescanned:
                self.mark_vanished(space_id, seen, lowest, top)
                rescanned = True
            if span.reaches_start or self.bound_reached(space_id, span, since):
                return
            if span.oldest_created < lowest:
                url, params = "messages", {**base, "beforeMessage": span.oldest_id}
            else:
                url, params = next_url, None
        if top is not None and (cutoff is None or not rescanned):
            self.mark_vanished(space_id, seen, "", top)  # re-read down to the very start

    def save_page(self, space_id: str, span: Span | None, items: list[dict], last: bool) -> Span:
        kept, _ = decrypted_or_stored(self.db, "messages", items)
        if kept is not items:  # the archive's own copies came in: their times made comparable
            items = store.received(kept, self.now)
        with transaction(self.db):
            new, edited = store.save_messages(self.db, items, self.now)
            span = record_page(self.db, space_id, span, items, reaches_start=last)
        self.result.pages += 1
        self.result.new += len(new)
        self.result.edited += len(edited)
        rate = self.result.new / max(time.monotonic() - self.started, 1e-6)
        self.progress(
            f"{self.result.title}: {self.result.pages} pages, {self.result.new} new messages, "
            f"{rate:,.0f}/s"
        )
        return span

    def bound_reached(self, space_id: str, span: Span, since: str | None) -> bool:
        if since is not None and span.oldest_created < since:
            return True
        if self.options.last is None:
            return False
        count = self.db.execute(
            "SELECT count(*) FROM messages WHERE space_id = ? AND created >= ? "
            "AND deleted_at IS NULL",
            [space_id, span.oldest_created],
        ).fetchone()[0]
        if count < self.options.last:
            return False
        with transaction(self.db):  # remember how far back --last reached
            self.db.execute(
                "UPDATE spaces SET sync_since = min(coalesce(sync_since, ?), ?) WHERE id = ?",
                [span.oldest_created, span.oldest_created, space_id],
            )
        return True

    def mark_vanished(self, space_id: str, seen: set[str], lowest: str, top: str) -> None:
        """Messages stored between ``lowest`` (exclusive) and ``top`` that a complete re-read
        did not return were deleted in Webex: mark them, keep their content."""
        live = store.live_message_ids(self.db, space_id, lowest, top)
        gone = live - seen
        if gone:
            with transaction(self.db):
                self.result.deleted += store.mark_deleted(self.db, space_id, gone, self.now)

    # ----- threads, members --------------------------------------------------------------------

    def fetch_parents(self, space_id: str) -> None:
        """Thread replies whose parent lies outside what was walked get it by id."""
        if self.options.full:
            with transaction(self.db):
                self.db.execute("DELETE FROM unavailable_messages WHERE space_id = ?", [space_id])
        missing = [
            row[0]
            for row in self.db.execute(
                "SELECT DISTINCT r.parent_id FROM messages AS r "
                "LEFT JOIN messages AS p ON p.id = r.parent_id "
                "WHERE r.space_id = ? AND r.parent_id IS NOT NULL AND p.id IS NULL "
                "AND r.parent_id NOT IN (SELECT id FROM unavailable_messages)",
                [space_id],
            )
        ]
        for parent_id in missing:
            try:
                parent = self.get_message(parent_id)
            except (NotFoundError, ForbiddenError) as error:
                self.unavailable(parent_id, space_id, error.status or 404)
                continue
            if parent.get("id") != parent_id or parent.get("roomId") != space_id:
                # Another space's message (or none): not this thread's parent, and storing it
                # would need that space. Recorded like a 404, with the 200 Webex answered.
                self.unavailable(parent_id, space_id, 200)
                continue
            with transaction(self.db):
                new, _ = store.save_messages(self.db, [parent], self.now)
            self.result.parents += 1
            self.result.new += len(new)

    def get_message(self, message_id: str) -> dict:
        """GET /messages/{id} with the id as one path segment ("../people/me" is no message)."""
        return self.client.get_json(f"messages/{quote(message_id, safe='')}")

    def unavailable(self, message_id: str, space_id: str, status: int) -> None:
        """Remember a parent Webex will not give, so that later runs do not ask again."""
        with transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO unavailable_messages VALUES (?, ?, ?, ?)",
                [message_id, space_id, status, self.now],
            )

    def fetch_undecrypted(self, space_id: str) -> None:
        """Messages stored undecrypted (a key-server failure, webex-api.md §7.2) are asked for
        again by id, every run until Webex decrypts them; then the readable version becomes
        current and the undecrypted one stays in message_revisions, like every version the
        archive ever held."""
        ids = [
            row[0]
            for row in self.db.execute(
                "SELECT id FROM messages WHERE space_id = ? AND deleted_at IS NULL "
                "AND raw LIKE '%\"errors\"%' AND json_extract(raw, '$.errors') IS NOT NULL",
                [space_id],
            )
        ]
        for message_id in ids:
            try:
                message = self.get_message(message_id)
            except (NotFoundError, ForbiddenError):
                continue  # gone: a complete re-read marks it deleted
            if not undecrypted(message) and message.get("id") == message_id:
                with transaction(self.db):
                    store.save_messages(self.db, [message], self.now)

    def sync_members(self, space_id: str) -> None:
        """The complete listing; an undecrypted member keeps the archive's copy if any (a new
        one is stored as sent: the next run's listing replaces it)."""
        pages = self.client.pages("memberships", {"roomId": space_id, "max": 1000})
        listed = [member for page in pages for member in page]
        members, _ = decrypted_or_stored(self.db, "memberships", listed)
        with transaction(self.db):
            store.save_memberships(self.db, space_id, members, self.now)


def sync_people(db: Database, client: WebexClient, options: SyncOptions) -> int:
    """Fetch people who are unknown or stale, 85 ids a call; rows even for unknown ids.

    The answer is a list like any other and is followed to its last page: an empty page that
    still links on (webex-api.md §1.2) must not make everyone "not found" for a week. A
    person Webex could not decrypt is kept as sent but asked about again next run.
    """
    now = store.utc_now()
    stale = utc_iso(datetime.now(timezone.utc) - timedelta(days=options.stale_days))
    ids = store.people_to_fetch(db, stale)
    for start in range(0, len(ids), PEOPLE_PER_CALL):
        chunk = ids[start : start + PEOPLE_PER_CALL]
        pages = client.pages("people", {"id": ",".join(chunk)})
        found, undecrypted = decrypted_or_stored(db, "people", [p for page in pages for p in page])
        missing = set(chunk) - {p["id"] for p in found}
        with transaction(db):
            store.save_people(db, found, now)
            store.save_not_found_people(db, dict.fromkeys(sorted(missing)), now)
            db.execute(  # not fetched for good: the next run asks again
                "UPDATE people SET fetched_at = NULL WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(sorted(undecrypted))],
            )
    return len(ids)


def undecrypted(item: Mapping[str, Any]) -> bool:
    """An item Webex served with an ``errors`` object (webex-api.md §7.2: its key server
    failed, so a field such as the text is an undecrypted JWE string)."""
    return bool(item.get("errors"))


def decrypted_or_stored(db: Database, table: str, items: list[dict]) -> tuple[list[dict], set[str]]:
    """``items`` with every undecrypted one replaced by the archive's own decrypted copy when
    it has one: a key-server failure must not overwrite what the archive already holds.
    Returns the items and the ids that are still undecrypted (new to the archive: they are
    kept as sent, with their ``errors`` in ``raw``, and asked for again)."""
    failed = [item["id"] for item in items if undecrypted(item) and isinstance(item.get("id"), str)]
    if not failed:
        return items, set()
    rows = db.execute(
        f"SELECT id, raw FROM {table} WHERE id IN (SELECT value FROM json_each(?)) "
        "AND raw IS NOT NULL AND json_extract(raw, '$.errors') IS NULL",
        [json.dumps(failed)],
    )
    stored = {row[0]: json.loads(row[1]) for row in rows}
    kept = [stored.get(item.get("id"), item) if undecrypted(item) else item for item in items]
    return kept, set(failed) - set(stored)

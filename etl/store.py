"""The archive database: open and migrate it, turn API objects into rows, write them.

Everything that knows table and column names for writing lives here (and in coverage.py), so the
sync loop only speaks in API objects. No HTTP here.

Transactions: no writer in this module commits. The sync wraps one page of messages and its
coverage change in ONE transaction (``with transaction(db): ...``), so that a process killed at
any instant leaves either the whole page or none of it. Only ``open_archive`` (schema
migrations) and ``fts_deferred`` (trigger switching) commit on their own.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dateutil import parser as dateparser
from sqlite_utils import Database

SCHEMA_VERSION = 1
DB_NAME = "archive.db"
BUSY_TIMEOUT_SECONDS = 10.0
FTS_TRIGGERS = ("messages_fts_insert", "messages_fts_delete", "messages_fts_update")
RUN_COUNTERS = ("requests", "pages", "new_messages", "edited_messages", "deleted_messages")
RUN_STATUSES = ("ok", "failed", "interrupted")


class ArchiveError(Exception):
    """A problem with the archive that the user must fix; str() is one line saying what to do."""


def utc_now() -> str:
    """Now in the API's time format, so our bookkeeping times sort with the API's own."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return now.replace("+00:00", "Z")


def _json(value: Any) -> str | None:
    """Compact JSON text (NULL stays NULL): the form of every JSON column and of raw."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ----- opening and migrating ----------------------------------------------------------------


def schema_sql() -> str:
    """The text of schema.sql: inside the wheel it is etl/schema.sql, in a checkout the root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schema.sql", here.parent / "schema.sql"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ArchiveError(f"schema.sql is missing beside {here}: reinstall webex-space-archive")


def _apply_schema(db: Database) -> None:
    """Run schema.sql; idempotent, and inside the caller's transaction (no implicit COMMIT)."""
    db.executescript(schema_sql())


# Forward migrations: (version, step). A DB at version v gets every step > v, in order, and
# then schema.sql (so new IF NOT EXISTS objects appear). A new archive gets schema.sql alone,
# which already shows the latest shape. Version 1 is the first schema.
MIGRATIONS: list[tuple[int, Callable[[Database], None]]] = [(1, _apply_schema)]


def _stored_version(conn: sqlite3.Connection) -> int | None:
    """0 for an empty database, our schema version, or None when the database is not ours."""
    tables = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' "
        "ESCAPE '!'"
    ).fetchall()
    if not tables:
        return 0
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])
    except (sqlite3.OperationalError, TypeError, ValueError):
        return None


def _checked_version(conn: sqlite3.Connection, db_path: Path) -> int:
    """The stored version, or ArchiveError if the file is someone else's or from the future."""
    version = _stored_version(conn)
    if version is None:
        raise ArchiveError(
            f"{db_path} is an SQLite database but not a webex-archive archive "
            "(no meta.schema_version): pick another --archive folder"
        )
    if version > SCHEMA_VERSION:
        raise ArchiveError(
            f"{db_path} was written by a newer webex-archive (schema version {version}, this "
            f"one knows up to {SCHEMA_VERSION}): upgrade webex-archive"
        )
    return version


def _archive_error(error: sqlite3.Error, db_path: Path) -> ArchiveError:
    """Turn an sqlite3 exception (met while opening, or mid-sync) into one line that says
    what to do. A failed write transaction was rolled back: the archive keeps every commit."""
    text = " ".join(str(error).split())
    if "not a database" in text or "encrypted" in text:
        return ArchiveError(
            f"{db_path} is not an SQLite database: move it away or pick another --archive folder"
        )
    if "malformed" in text or "corrupt" in text:
        return ArchiveError(
            f"{db_path} is damaged ({text}): restore it from a backup, or move it away and "
            f"sync again (`sqlite3 {db_path.name} .recover` may save what it holds)"
        )
    if "full" in text:
        return ArchiveError(
            f"the disk holding {db_path} is full: free some space and run again (the "
            "archive keeps everything committed so far)"
        )
    if "locked" in text or "busy" in text:
        return ArchiveError(f"{db_path} is locked by another process: wait for it to finish")
    if "readonly" in text or "unable to open" in text or "disk I/O" in text:
        return ArchiveError(
            f"cannot write {db_path} ({text}): check its permissions and that its file "
            "system is writable"
        )
    return ArchiveError(f"cannot use {db_path}: {text}")


def environment_error(db: Database, error: sqlite3.Error) -> ArchiveError | None:
    """The one-line ArchiveError for an sqlite3 error that comes from the archive's
    surroundings (a full disk, a damaged or unwritable file) rather than from a bug; None
    for the others (constraint violations, misuse), which must surface as they are."""
    if not (isinstance(error, sqlite3.OperationalError) or type(error) is sqlite3.DatabaseError):
        return None
    rows = db.conn.execute("PRAGMA database_list").fetchall() if _alive(db) else []
    path = next((Path(row[2]) for row in rows if row[1] == "main" and row[2]), Path(DB_NAME))
    return _archive_error(error, path)


def _alive(db: Database) -> bool:
    """Whether the connection still answers (a damaged file may refuse even a pragma)."""
    try:
        db.conn.execute("SELECT 1")
    except sqlite3.Error:
        return False
    return True


def _archive_dir(path: Path) -> Path:
    """Create the archive folder if needed; fail in one line if it cannot hold our files."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ArchiveError(f"{path} is a file, not a folder: pass the archive folder") from None
    except OSError as error:
        raise ArchiveError(
            f"cannot create the archive folder {path} ({error.strerror}): pick another folder"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ArchiveError(f"the archive folder {path} is not writable: check its permissions")
    return path / DB_NAME


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run an SQL script statement by statement inside the caller's transaction.

    ``sqlite3.executescript`` would COMMIT first, and sqlite-utils' splitter takes about
    0.1 s per run of schema.sql (pure Python, character by character) — paid on every open.
    Statements end at a line ending in ";" once ``complete_statement`` agrees (triggers have
    inner ";"), which schema.sql's layout guarantees.
    """
    buffer: list[str] = []
    for line in script.splitlines(keepends=True):
        buffer.append(line)
        if line.rstrip().endswith(";") and sqlite3.complete_statement("".join(buffer)):
            conn.execute("".join(buffer))
            buffer = []
    rest = "".join(buffer).strip()
    if rest and not all(part.strip().startswith("--") for part in rest.splitlines()):
        conn.execute(rest)  # a last statement without ";": let SQLite judge it


def _migrate(db: Database, db_path: Path) -> None:
    """Bring the schema up to date under the write lock, so two processes cannot race."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _checked_version(conn, db_path)
        if version > 0:
            for step_version, step in MIGRATIONS:
                if step_version > version:
                    step(db)
        _execute_script(conn, schema_sql())
        if version != SCHEMA_VERSION:
            set_meta(db, "schema_version", str(SCHEMA_VERSION))
        if get_meta(db, "fts_stale"):
            rebuild_fts(db)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def _connect(
    db_path: Path, prepare: Callable[[sqlite3.Connection], Database], readonly: bool = False
) -> Database:
    """Connect and ``prepare``; an sqlite3 error becomes one ArchiveError line, and a failed
    open leaves no connection behind."""
    target = db_path.resolve().as_uri() + "?mode=ro" if readonly else str(db_path)
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(target, uri=readonly, timeout=BUSY_TIMEOUT_SECONDS)
        return prepare(conn)
    except BaseException as error:
        if conn is not None:
            conn.close()
        if isinstance(error, sqlite3.Error):
            raise _archive_error(error, db_path) from error
        raise


def open_archive(path: Path) -> Database:
    """Open (creating if needed) the archive in folder ``path`` for writing, schema up to date.

    Ownership is checked before anything is written: a foreign database is never converted
    to WAL or given our tables.
    """
    db_path = _archive_dir(Path(path))

    def prepare(conn: sqlite3.Connection) -> Database:
        _checked_version(conn, db_path)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            conn.execute(f"PRAGMA {pragma}")
        db = Database(conn)
        _migrate(db, db_path)
        return db

    return _connect(db_path, prepare)


def connect_readonly(path: Path) -> Database:
    """Open an archive for reading only (render): the archive folder or the archive.db file.

    Every read of the connection sees one snapshot (a read transaction begun here, held until
    the connection closes): a sync committing pages meanwhile must not make one statement
    count messages another one has not listed. WAL lets the sync go on regardless.
    """
    path = Path(path)
    db_path = path if path.is_file() else path / DB_NAME
    if not db_path.is_file():
        raise ArchiveError(f"no archive at {path}: run `webex-archive sync` first")

    def prepare(conn: sqlite3.Connection) -> Database:
        conn.execute("BEGIN")  # the snapshot starts at the first read, just below
        if _checked_version(conn, db_path) < SCHEMA_VERSION:
            raise ArchiveError(
                f"{db_path} has an older or no schema: run `webex-archive sync` once to upgrade it"
            )
        return Database(conn)

    return _connect(db_path, prepare, readonly=True)


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One write transaction, taking the write lock at once (BEGIN IMMEDIATE).

    Deferred transactions that read first and write later can fail with SQLITE_BUSY in WAL
    mode without waiting; IMMEDIATE waits (busy_timeout) and then cannot fail that way.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


# ----- API objects to rows (pure) ------------------------------------------------------------
#
# Webex sends every field in one documented shape, but the archive must keep whatever it is
# sent without crashing (tests/test_fuzz.py feeds it every shape). The rule: ``raw`` keeps the
# object exactly as sent, and each column holds what schema.sql says it holds, or NULL:
#   * text: a string as sent; a number, boolean, list or object as its JSON text (so that it
#     is still shown and found); null or absent: NULL;
#   * times (created, updated, lastActivity, madePublic): any ISO 8601 date-time (``Z`` or an
#     offset or none, which is UTC as all Webex times are; any fraction of a second), written
#     in the API's own form ``2024-03-01T09:30:00.000Z``, so that times sort and compare as
#     text everywhere (sync, coverage, render's windows); anything else: NULL;
#   * booleans (isXxx): true and false as 1 and 0; anything else: NULL;
#   * lists of ids, URLs or names (files, mentionedPeople, mentionedGroups, emails): the list's
#     strings, as a JSON array; cards (attachments): the list as sent; not a list: NULL.

_STRING_LISTS = {"files", "mentionedPeople", "mentionedGroups", "emails"}
_JSON_KEYS = {*_STRING_LISTS, "attachments"}
_TIME_KEYS = {"created", "updated", "lastActivity", "madePublic"}
# Years a stored time may have: four digits (so that the text sorts), and a day's margin at
# both ends so that every time zone can still show it (render converts to local time).
_YEARS = range(1000, 9999)


def archive_time(value: Any) -> str | None:
    """``value`` as the archive's time text (``2024-03-01T09:30:00.000Z``, UTC, milliseconds),
    if it is an ISO 8601 date-time string; else None. The API's own form comes back unchanged.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = dateparser.isoparse(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    if moment.year not in _YEARS:
        return None
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _text(value: Any) -> str | None:
    """A text column: the string, or the JSON text of any other value (NULL stays NULL)."""
    return value if value is None or isinstance(value, str) else _json(value)


def _flag(value: Any) -> int | None:
    """A boolean column: 1 or 0 for true or false; NULL for anything else."""
    return int(value) if isinstance(value, bool) else None


def _strings(value: Any) -> str | None:
    """A list-of-strings column: the list's strings as JSON; NULL when it is not a list."""
    if not isinstance(value, list):
        return None
    return _json([item for item in value if isinstance(item, str)])


def _list(value: Any) -> str | None:
    """A list column (cards): the list as JSON, as sent; NULL when it is not a list."""
    return _json(value) if isinstance(value, list) else None


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "text": _text, "time": archive_time, "bool": _flag, "strings": _strings, "json": _list,
}  # fmt: skip


def _fields(keys: Sequence[str]) -> tuple[tuple[str, str, str], ...]:
    """(API key, column, kind) in column order, worked out once at import (not per row).

    A column is the snake_case of its key (roomId is space_id); keys "isXxx" are booleans
    stored 0/1; _JSON_KEYS hold lists, stored as compact JSON text; _TIME_KEYS are times.
    """
    fields = []
    for key in keys:
        column = "space_id" if key == "roomId" else re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
        kind = (
            "strings" if key in _STRING_LISTS
            else "json" if key in _JSON_KEYS
            else "time" if key in _TIME_KEYS
            else "bool" if re.match(r"is[A-Z]", key)
            else "text"
        )  # fmt: skip
        fields.append((key, column, kind))
    return tuple(fields)


_MESSAGE_FIELDS = _fields((
    "id", "roomId", "roomType", "parentId", "personId", "personEmail", "text", "markdown",
    "html", "files", "attachments", "mentionedPeople", "mentionedGroups", "isVoiceClip",
    "created", "updated",
))  # fmt: skip
_SPACE_FIELDS = _fields((
    "id", "title", "type", "isLocked", "teamId", "lastActivity", "creatorId", "created",
    "ownerId", "isPublic", "isReadOnly", "isAnnouncementOnly", "classificationId",
    "description", "madePublic",
))  # fmt: skip
_PERSON_FIELDS = _fields((
    "id", "emails", "displayName", "nickName", "firstName", "lastName", "avatar", "orgId",
    "type", "created",
))  # fmt: skip
_MEMBERSHIP_FIELDS = _fields((
    "id", "roomId", "personId", "personEmail", "personDisplayName", "personOrgId",
    "isModerator", "isMonitor", "isRoomHidden", "created",
))  # fmt: skip


def _map(api: Mapping[str, Any], fields: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """API object to row, column by column as the rule above says; plus raw, as sent."""
    row = {column: _CONVERT[kind](api.get(key)) for key, column, kind in fields}
    row["raw"] = _json(dict(getattr(api, "sent", api)))
    return row


class Received(dict):
    """A listed message as the sync works with it (see ``received``): ``created`` in the
    archive's form; ``sent`` is the object exactly as Webex sent it, which raw keeps."""

    sent: Mapping[str, Any]


def received(
    page: Sequence[Mapping[str, Any]], now: str, newer: str | None = None
) -> list[Received]:
    """A page of messages (newest first, as listed) with a ``created`` that the walk and the
    coverage can compare as text, which they do with every message's.

    Webex always sends ``created``, in its own form. The archive does not rely on that: a
    time in another ISO 8601 form is rewritten in that form, and a message with none that
    reads as a time (missing, null, a number, not a date) is still archived, at the time of
    the message listed just before it (newer; ``newer`` is the last one of the page before),
    else just after it, else at ``now`` (when the sync first saw it): the list is in time
    order, so its place is the best word there is on when it was written, and the walk's
    order stays intact. Nothing else changes.
    """
    times = [archive_time(message.get("created")) for message in page]
    for index, time in enumerate(times):  # fill from the newer neighbour...
        times[index] = newer = time or newer
    older: str | None = None
    for index in range(len(times) - 1, -1, -1):  # ...the first ones from the older one
        times[index] = older = times[index] or older
    messages = []
    for message, time in zip(page, times, strict=True):
        kept = Received(message)
        kept["created"] = time or now
        kept.sent = getattr(message, "sent", message)
        messages.append(kept)
    return messages


def message_row(api_message: Mapping[str, Any], now: str) -> dict[str, Any]:
    """A messages row; first/last_seen_at are ``now`` (the upsert keeps the stored first).

    ``id`` and ``roomId`` name the row and its space: without them (Webex always sends both)
    there is nothing to keep, and this raises ValueError. A message without a usable
    ``created`` is kept at ``now``; listed messages get a better time from ``received``.
    """
    missing = [key for key in ("id", "roomId") if not isinstance(api_message.get(key), str)]
    if missing or not api_message["id"] or not api_message["roomId"]:
        missing = missing or [key for key in ("id", "roomId") if not api_message[key]]
        raise ValueError(f"message without {', '.join(missing)}: {api_message!r:.200}")
    row = _map(api_message, _MESSAGE_FIELDS)
    row["created"] = row["created"] or now
    return row | {"first_seen_at": now, "last_seen_at": now, "deleted_at": None}


def space_row(api_room: Mapping[str, Any]) -> dict[str, Any]:
    """The spaces columns that come from the API (not folder, not the sync times)."""
    return _map(api_room, _SPACE_FIELDS)


def person_row(api_person: Mapping[str, Any]) -> dict[str, Any]:
    """The people columns that come from the API; email is the first string of emails."""
    row = _map(api_person, _PERSON_FIELDS)
    emails = json.loads(row["emails"]) if row["emails"] else []
    return {"id": row.pop("id"), "email": emails[0] if emails else None} | row


def membership_row(api_membership: Mapping[str, Any]) -> dict[str, Any]:
    """The memberships columns that come from the API (not the seen/left times)."""
    return _map(api_membership, _MEMBERSHIP_FIELDS)


def _content_id(url: str) -> str | None:
    """The last path segment of a file URL (None when there is none, or no URL at all)."""
    try:
        return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or None
    except ValueError:  # e.g. "http://[::1": not a URL
        return None


def file_rows(api_message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One 'pending' files row per URL in the message's files array, in order.

    ``position`` is the index in the array as sent; items that are not strings (Webex sends
    only URLs) name no file and get no row, and neither does a ``files`` that is no list.
    """
    files = api_message.get("files")
    rows = []
    for position, url in enumerate(files if isinstance(files, list) else []):
        if not isinstance(url, str):
            continue
        rows.append(
            {"url": url, "message_id": api_message["id"], "space_id": api_message["roomId"],
             "position": position, "content_id": _content_id(url), "name": None,
             "content_type": None, "size": None, "status": "pending", "error": None,
             "local_path": None, "sha256": None, "downloaded_at": None, "checked_at": None}
        )  # fmt: skip
    return rows


# ----- writers (no commit: the caller's transaction) -----------------------------------------


def _upsert(
    db: Database,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    keep: Sequence[str] = (),
    where: str | None = None,
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE of every column except ``key`` and ``keep``.

    sqlite-utils' own upsert_all commits by itself, which would split the caller's page
    transaction; this one only runs inside it.
    """
    if not rows:
        return
    columns = list(rows[0])
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in (*key, *keep))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )
    db.conn.executemany(sql + (f" WHERE {where}" if where else ""), rows)


_CONTENT_COLUMNS = ("text", "markdown", "html", "files", "attachments", "updated")


def _stored_content(db: Database, ids: Sequence[str]) -> dict[str, tuple]:
    """The versioned columns of those of ``ids`` already stored, to detect edits."""
    sql = (
        f"SELECT id, {', '.join(_CONTENT_COLUMNS)} FROM messages "
        "WHERE id IN (SELECT value FROM json_each(?))"
    )
    return {row[0]: tuple(row[1:]) for row in db.conn.execute(sql, [_json(list(ids))])}


def save_messages(
    db: Database, api_messages: Iterable[Mapping[str, Any]], now: str
) -> tuple[list[str], list[str]]:
    """Upsert messages; return (new ids, edited ids).

    An edit (a change in any of _CONTENT_COLUMNS) first copies the stored version into
    message_revisions, so nothing a message ever said is lost. first_seen_at is kept,
    deleted_at cleared (it is back), and file rows are added without touching the download
    state of rows that already exist for the same URL.
    """
    by_id = {row["id"]: (row, m) for m in api_messages for row in [message_row(m, now)]}
    rows = [row for row, _ in by_id.values()]
    stored = _stored_content(db, list(by_id))
    new_ids = [row["id"] for row in rows if row["id"] not in stored]
    edited_ids = [
        row["id"]
        for row in rows
        if row["id"] in stored and stored[row["id"]] != tuple(row[c] for c in _CONTENT_COLUMNS)
    ]
    db.conn.executemany(
        "INSERT INTO message_revisions (message_id, revision, text, markdown, html, files, "
        "attachments, updated, raw, replaced_at) SELECT id, (SELECT coalesce(max(revision), 0) "
        "+ 1 FROM message_revisions WHERE message_id = :id), text, markdown, html, files, "
        "attachments, updated, raw, :now FROM messages WHERE id = :id",
        [{"id": message_id, "now": now} for message_id in edited_ids],
    )
    _upsert(db, "messages", rows, ["id"], keep=["first_seen_at"])
    files = [row for _, message in by_id.values() for row in file_rows(message)]
    _upsert(db, "files", files, ["message_id", "position"], where="files.url IS NOT excluded.url")
    return new_ids, edited_ids


def mark_deleted(db: Database, space_id: str, ids: Iterable[str], now: str) -> int:
    """Mark messages that a full re-read no longer returned; keep their content. Returns how
    many were newly marked (already-marked ones keep their first deleted_at)."""
    cursor = db.conn.execute(
        "UPDATE messages SET deleted_at = ? WHERE space_id = ? AND deleted_at IS NULL "
        "AND id IN (SELECT value FROM json_each(?))",
        [now, space_id, _json(list(ids))],
    )
    return cursor.rowcount


def live_message_ids(db: Database, space_id: str, after: str, up_to: str) -> set[str]:
    """Ids of not-deleted messages with ``after < created <= up_to``.

    After a complete re-read from the newest message down to one created at ``after``, the
    ids returned here but not by the re-read are the ones to mark_deleted. The lower bound is
    exclusive because messages sharing that last millisecond may not have been read yet.
    """
    rows = db.conn.execute(
        "SELECT id FROM messages WHERE space_id = ? AND created > ? AND created <= ? "
        "AND deleted_at IS NULL",
        [space_id, after, up_to],
    )
    return {row[0] for row in rows}


def save_space(db: Database, api_room: Mapping[str, Any], now: str) -> None:
    """Upsert a space; keeps first_synced_at and the folder once chosen."""
    row = space_row(api_room) | {"first_synced_at": now, "last_synced_at": now}
    _upsert(db, "spaces", [row], ["id"], keep=["first_synced_at"])


def assign_folder(db: Database, space_id: str, wanted: str) -> str:
    """The space's folder: the stored one if chosen, else ``wanted`` made unique (-2, -3, ...
    compared ignoring case). ``wanted`` must already be filesystem-safe."""
    row = db.conn.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()
    if row is None:
        raise KeyError(f"unknown space {space_id}")
    if row[0]:
        return row[0]
    taken = {
        r[0].lower() for r in db.conn.execute("SELECT folder FROM spaces WHERE folder IS NOT NULL")
    }
    name, number = wanted, 1
    while name.lower() in taken:
        number += 1
        name = f"{wanted}-{number}"
    db.conn.execute("UPDATE spaces SET folder = ? WHERE id = ?", [name, space_id])
    return name


def save_people(db: Database, api_people: Iterable[Mapping[str, Any]], now: str) -> None:
    """Upsert people fetched from Webex (fetched_at = now, not_found = 0)."""
    rows = [person_row(person) | {"not_found": 0, "fetched_at": now} for person in api_people]
    _upsert(db, "people", rows, ["id"])


def _known_identity(db: Database, person_id: str) -> tuple[str | None, str | None]:
    """(email, display name) for a person id, from what memberships and messages say."""
    row = db.conn.execute(
        "SELECT person_email, person_display_name FROM memberships WHERE person_id = ? "
        "ORDER BY left_at IS NOT NULL, last_seen_at DESC LIMIT 1",
        [person_id],
    ).fetchone() or (None, None)
    email, name = row
    if email is None:
        found = db.conn.execute(
            "SELECT person_email FROM messages WHERE person_id = ? AND person_email IS NOT NULL "
            "ORDER BY created DESC LIMIT 1",
            [person_id],
        ).fetchone()
        email = found[0] if found else None
    return email, name


def save_not_found_people(
    db: Database, ids_with_emails: Mapping[str, str | None], now: str
) -> None:
    """Rows for ids Webex answered in notFoundIds, so names still resolve.

    An email of None is looked up in memberships and messages. An earlier successful fetch
    keeps its data; not_found = 1 and fetched_at = now record the latest answer.
    """
    rows = []
    for person_id, given_email in ids_with_emails.items():
        email, name = _known_identity(db, person_id)
        email = given_email or email
        emails = _json([email]) if email else None
        rows.append({"id": person_id, "email": email, "emails": emails, "name": name, "now": now})
    db.conn.executemany(
        "INSERT INTO people (id, email, emails, display_name, not_found, fetched_at) "
        "VALUES (:id, :email, :emails, :name, 1, :now) ON CONFLICT (id) DO UPDATE SET "
        "not_found = 1, fetched_at = excluded.fetched_at, "
        "email = coalesce(people.email, excluded.email), "
        "emails = coalesce(people.emails, excluded.emails), "
        "display_name = coalesce(people.display_name, excluded.display_name)",
        rows,
    )


def people_to_fetch(db: Database, stale_before: str, space_id: str | None = None) -> list[str]:
    """Person ids referenced (authors, members, mentions) that are unknown or were last
    fetched before ``stale_before``; sorted. Optionally only those referenced in one space."""
    sql = """
        WITH refs (id) AS (
            SELECT person_id FROM messages WHERE :space IS NULL OR space_id = :space
            UNION SELECT person_id FROM memberships WHERE :space IS NULL OR space_id = :space
            UNION SELECT j.value FROM messages AS m, json_each(m.mentioned_people) AS j
                WHERE m.mentioned_people IS NOT NULL AND (:space IS NULL OR m.space_id = :space)
        )
        SELECT refs.id FROM refs LEFT JOIN people AS p ON p.id = refs.id
        WHERE refs.id IS NOT NULL AND (p.fetched_at IS NULL OR p.fetched_at < :stale)
        ORDER BY refs.id
    """
    rows = db.conn.execute(sql, {"space": space_id, "stale": stale_before})
    return [row[0] for row in rows]


def save_memberships(
    db: Database, space_id: str, api_memberships: Iterable[Mapping[str, Any]], now: str
) -> None:
    """Record a COMPLETE membership listing of a space: upsert the listed ones (clearing
    left_at for members who are back) and set left_at on the others. Never call this with a
    partial listing: everyone missing from it would be marked as having left."""
    rows = [
        membership_row(m)
        | {"space_id": space_id, "first_seen_at": now, "last_seen_at": now, "left_at": None}
        for m in api_memberships
    ]
    _upsert(db, "memberships", rows, ["id"], keep=["first_seen_at"])
    db.conn.execute(
        "UPDATE memberships SET left_at = ? WHERE space_id = ? AND left_at IS NULL "
        "AND id NOT IN (SELECT value FROM json_each(?))",
        [now, space_id, _json([row["id"] for row in rows])],
    )


def set_meta(db: Database, key: str, value: str | None) -> None:
    """Set a meta key; None removes it."""
    if value is None:
        db.conn.execute("DELETE FROM meta WHERE key = ?", [key])
    else:
        db.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


def get_meta(db: Database, key: str, default: str | None = None) -> str | None:
    """A meta value, or ``default`` when the key is absent."""
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return default if row is None else row[0]


def save_me(db: Database, api_person: Mapping[str, Any]) -> None:
    """Record who synced (GET /people/me): render marks people outside this org as external."""
    row = person_row(api_person)
    values = {"me_id": row["id"], "me_email": row["email"], "me_name": row["display_name"],
              "me_org_id": row["org_id"], "me_json": row["raw"]}  # fmt: skip
    for key, value in values.items():
        set_meta(db, key, value)


# ----- sync runs -------------------------------------------------------------------------------


def mark_interrupted_runs(db: Database) -> int:
    """Turn runs left 'running' by a killed process into 'interrupted'; returns how many.
    Their finished_at stays NULL: when they died is unknown. Assumes one sync per archive
    at a time (start_run calls this)."""
    cursor = db.conn.execute("UPDATE sync_runs SET status = 'interrupted' WHERE status = 'running'")
    return cursor.rowcount


def start_run(
    db: Database, arguments: Mapping[str, Any], spaces: Iterable[str], now: str | None = None
) -> int:
    """Insert a 'running' run (arguments as JSON: never put the token in) and return its id,
    after marking earlier runs still 'running' as interrupted."""
    mark_interrupted_runs(db)
    cursor = db.conn.execute(
        "INSERT INTO sync_runs (started_at, status, arguments, spaces) VALUES (?, 'running', ?, ?)",
        [now or utc_now(), _json(dict(arguments)), _json(list(spaces))],
    )
    return int(cursor.lastrowid or 0)


def finish_run(
    db: Database,
    run_id: int,
    status: str,
    counters: Mapping[str, int],
    error: str | None = None,
    now: str | None = None,
) -> None:
    """Close a run with its outcome and counters (keys from RUN_COUNTERS; others are a bug)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"run status must be one of {RUN_STATUSES}, not {status!r}")
    unknown = set(counters) - set(RUN_COUNTERS)
    if unknown:
        raise ValueError(f"unknown run counters: {sorted(unknown)}")
    sets = "".join(f", {name} = :{name}" for name in counters)
    db.conn.execute(
        f"UPDATE sync_runs SET status = :status, finished_at = :now, error = :error{sets} "
        "WHERE id = :id",
        {"status": status, "now": now or utc_now(), "error": error, "id": run_id, **counters},
    )


# ----- full-text index -------------------------------------------------------------------------


def rebuild_fts(db: Database) -> None:
    """Recreate the FTS triggers (from schema.sql) and rebuild messages_fts from messages.
    Runs in the caller's transaction; about 0.7 s per 100,000 messages."""
    _apply_schema(db)
    db.conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
    set_meta(db, "fts_stale", None)


@contextmanager
def fts_deferred(db: Database) -> Iterator[Database]:
    """Bulk-load mode: the FTS triggers are off inside the block and the index is rebuilt once
    at its end (per-row triggers make bulk inserts ~4x slower).

    Crash-safe: meta.fts_stale is committed with the trigger drop, and the next
    open_archive rebuilds the index if a killed process left it stale. The rebuild covers
    the whole archive, so use this for large first syncs, not for a page or two.
    """
    with transaction(db):
        for trigger in FTS_TRIGGERS:
            db.conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        set_meta(db, "fts_stale", "1")
    try:
        yield db
    finally:
        with transaction(db):
            rebuild_fts(db)

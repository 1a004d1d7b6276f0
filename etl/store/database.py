"""The archive database file: open it (creating and migrating the schema), transactions,
the meta table, and turning SQLite's errors into one line a person can act on.

Nothing here writes archive content; the writers (writers.py, bookkeeping.py, coverage.py,
runs.py) run inside the caller's ``transaction``. Only ``open_archive`` (schema migrations)
commits on its own.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from webex_layout import DB_NAME

SCHEMA_VERSION = 1
# Columns schema.sql gained after version 1, each nullable or with a default: an archive that
# lacks one gets it at its next open, and older code reading the archive ignores it, so they
# need no new version (which would make that older code refuse the archive).
ADDED_COLUMNS = (
    ("spaces", "page_size", "INTEGER"),
    ("spaces", "page_size_at", "TEXT"),
    ("spaces", "members_listed_at", "TEXT"),
    ("sync_runs", "retries", "INTEGER NOT NULL DEFAULT 0"),
    ("sync_runs", "rate_limited", "INTEGER NOT NULL DEFAULT 0"),
    ("sync_runs", "waited_seconds", "REAL NOT NULL DEFAULT 0"),
    ("sync_runs", "paced_seconds", "REAL NOT NULL DEFAULT 0"),
    ("sync_runs", "bytes", "INTEGER NOT NULL DEFAULT 0"),
    ("sync_runs", "file_info", "INTEGER NOT NULL DEFAULT 0"),
)
BUSY_TIMEOUT_SECONDS = 10.0
FTS_TRIGGERS = ("messages_fts_insert", "messages_fts_delete", "messages_fts_update")


class ArchiveError(Exception):
    """A problem with the archive that the user must fix; str() is one line saying what to do."""


def utc_now() -> str:
    """Now in the API's time format, so our bookkeeping times sort with the API's own."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return now.replace("+00:00", "Z")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str | None:
    """Compact JSON text (NULL stays NULL): the form of every JSON column and of raw."""
    if value is None:
        return None
    return _ENCODER.encode(value)


# ----- opening and migrating ----------------------------------------------------------------


def schema_path() -> Path:
    """schema.sql: in the wheel it is etl/store/schema.sql, in a checkout the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schema.sql", here.parent.parent / "schema.sql"):
        if candidate.is_file():
            return candidate
    raise ArchiveError(f"schema.sql is missing beside {here}: reinstall webex-space-archive")


def schema_sql() -> str:
    return schema_path().read_text(encoding="utf-8")


def _stored_version(db: Database) -> int | None:
    """0 for an empty database, our schema version, or None when the database is not ours."""
    if not [name for name in db.table_names() if not name.startswith("sqlite_")]:
        return 0
    try:
        return int(get_meta(db, "schema_version"))  # type: ignore[arg-type]
    except (sqlite3.OperationalError, TypeError, ValueError):
        return None


def _checked_version(db: Database, db_path: Path) -> int:
    """The stored version, or ArchiveError if the file is someone else's or from the future."""
    version = _stored_version(db)
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
    """Bring the schema up to date under the write lock, so two processes cannot race.

    schema.sql (all IF NOT EXISTS) gives a new archive the latest shape and an older one
    what it lacks, after the columns added since (ADDED_COLUMNS: schema.sql's indexes and
    views may use them). Version 1 is the first schema: a later version that changes what
    exists adds its steps here, run for an archive of an older version before schema.sql.
    """
    with transaction(db):
        version = _checked_version(db, db_path)
        _add_columns(db.conn)
        _execute_script(db.conn, schema_sql())
        if version != SCHEMA_VERSION:
            set_meta(db, "schema_version", str(SCHEMA_VERSION))
        if get_meta(db, "archive_id") is None:  # named once: render's custody manifests cite it
            set_meta(db, "archive_id", uuid.uuid4().hex)


def _add_columns(conn: sqlite3.Connection) -> None:
    """Each of ADDED_COLUMNS its table lacks (a table not made yet gets it from schema.sql)."""
    for table, column, declaration in ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if have and column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


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
        db = Database(conn)
        _checked_version(db, db_path)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
            conn.execute(f"PRAGMA {pragma}")
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
        db = Database(conn)
        if _checked_version(db, db_path) < SCHEMA_VERSION:
            raise ArchiveError(
                f"{db_path} has an older or no schema: run `webex-archive sync` once to upgrade it"
            )
        return db

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


def set_meta(db: Database, key: str, value: str | None) -> None:
    """Set a meta key; None removes it. (sqlite-utils' table writes join the caller's
    transaction, as a savepoint: see the pin in pyproject.toml.)"""
    if value is None:
        db["meta"].delete_where("key = ?", [key])
    else:
        db["meta"].upsert({"key": key, "value": value}, pk="key")


def get_meta(db: Database, key: str, default: str | None = None) -> str | None:
    """A meta value, or ``default`` when the key is absent."""
    row = db.conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return default if row is None else row[0]

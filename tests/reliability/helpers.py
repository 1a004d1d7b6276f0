"""What the reliability tests share: archive snapshots, a sync runner, and the checks that an
archive on disk is whole (integrity, no temporary or stray files, every file's sha256).

``snapshot`` is the definition of "the same archive": every table except run bookkeeping
(``sync_runs``) with the columns that only say *when* something happened left out
(seen/fetched/checked times), ``deleted_at`` and ``left_at`` reduced to whether they are set,
and coverage by its ends. Two archives that agree on it hold the same history, files and
people, whatever faults, kills and retries it took to get there.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from etl import store
from etl.api import RetryPolicy, WebexClient
from etl.sync import SpaceResult, SyncOptions, sync_spaces
from tests.conftest import make_dataset
from webex_emulator import DataSet, Emulator
from webex_emulator.faults import LogEntry
from webex_emulator.ids import id_uuid, make_id
from webex_emulator.media import Recipe
from webex_emulator.model import Content

# Fast but patient enough for a burst of three 5xx answers (4 tries).
FAST = RetryPolicy(tries=4, backoff=0.01, backoff_cap=0.02, default_retry_after=0.05)
VOLATILE = {
    "first_seen_at",
    "last_seen_at",
    "fetched_at",
    "checked_at",
    "first_synced_at",
    "last_synced_at",
    "replaced_at",
    "downloaded_at",
    "members_listed_at",
    "page_size",  # what a 504 taught the sync: bookkeeping, not history
    "page_size_at",
    "id_",
}
AS_FLAG = {"deleted_at", "left_at"}  # when it happened is bookkeeping; that it did is history
TABLES = (
    "spaces",
    "people",
    "memberships",
    "messages",
    "message_revisions",
    "files",
    "unavailable_messages",
    "avatars",
    "meta",
)
# What may sit at the top of an archive folder besides the space folders.
ARCHIVE_FILES = {"archive.db", "archive.db-wal", "archive.db-shm", "archive.lock"}


# (name, type, recipe): the same name twice (the second lands as "report (2).pdf"), the same
# bytes twice (stored once), images and other files, a name that needs making safe.
ATTACHMENTS = (
    ("report.pdf", "application/pdf", Recipe("filler", 1, size=30_000)),
    ("chart.png", "image/png", Recipe("png", 2, width=60, height=40)),
    ("report.pdf", "application/pdf", Recipe("filler", 3, size=12_000)),
    ("notes.txt", "text/plain", Recipe("filler", 4, size=900)),
    ("copy of report.pdf", "application/pdf", Recipe("filler", 1, size=30_000)),
    ("../../etc/passwd", "text/plain", Recipe("filler", 5, size=300)),
    ("图片.png", "image/png", Recipe("png", 6, width=30, height=30)),
)


def reliability_dataset(messages: int = 40, seed: int = 11, files_every: int = 6) -> DataSet:
    """One group space (multi-page at page_size 10, with threads and files) plus the direct
    space ``generate`` always adds. The files are added here, to every ``files_every``-th
    message, so that they do not depend on the generator's random stream."""
    ds = make_dataset(messages=messages, spaces=1, seed=seed, hostile_rate=0)
    room = group_room_id(ds)
    ordered = sorted(
        (m for m in ds.messages.values() if m["roomId"] == room), key=lambda m: m["created"]
    )
    for index, message in enumerate(ordered[1::files_every]):
        add_file(ds, message, *ATTACHMENTS[index % len(ATTACHMENTS)])
    assert any("parentId" in m for m in ordered), "the data set needs thread replies"
    return ds


def add_file(ds: DataSet, message: dict, name: str, kind: str, recipe: Recipe) -> None:
    """Attach one more file to a message of the data set (before or while it is served)."""
    position = len(message.get("files", []))
    content_id = make_id("CONTENT", f"{id_uuid(message['id'])}/{position}")
    ds.contents[content_id] = Content(content_id, name, kind, recipe=recipe)
    message["files"] = [*message.get("files", []), content_id]


def group_room_id(ds: DataSet) -> str:
    return next(r["id"] for r in ds.rooms.values() if r["type"] == "group")


def owned_space(ds: DataSet, owner: str, title: str, last_activity: str) -> str:
    """A new, empty group space created 2024-01-01 by ``owner``, a member: for a test that
    places its own messages in it. Call it holding ``ds.lock``."""
    room_id = make_id("ROOM", str(uuid.uuid4()))
    ds.rooms[room_id] = {
        "id": room_id, "title": title, "type": "group", "isLocked": False,
        "lastActivity": last_activity, "creatorId": owner, "created": "2024-01-01T00:00:00.000Z",
    }  # fmt: skip
    ds.add_membership(ds.membership_for(room_id, owner))
    return room_id


def _value(name: str, value: Any) -> Any:
    return value is not None if name in AS_FLAG else value


RUN_KEYS = ("archive_id", "learnt_rate", "learnt_rate_at")  # meta keys of the run, not the history


def snapshot(db: Any, tables: Iterable[str] = TABLES) -> dict[str, list]:
    """Every table's rows without bookkeeping times; coverage by its ends (see module doc)."""
    result: dict[str, list] = {}
    for table in tables:
        # Each archive names itself once, at random (meta.archive_id), and remembers the pace
        # Webex's 429s taught it (meta.learnt_rate): two archives of the same history differ
        # there and nowhere else.
        where = f" WHERE key NOT IN {RUN_KEYS}" if table == "meta" else ""
        rows = db.execute(f"SELECT * FROM {table}{where}")
        names = [d[0] for d in rows.description]
        result[table] = sorted(
            tuple((n, _value(n, v)) for n, v in zip(names, row, strict=True) if n not in VOLATILE)
            for row in rows
        )
    result["coverage"] = sorted(
        db.execute("SELECT space_id, newest_id, oldest_id, reaches_start FROM coverage").fetchall()
    )
    return result


def snapshot_of(archive: Path) -> dict[str, list]:
    """The snapshot of the archive in folder ``archive``, through a connection of our own."""
    conn = sqlite3.connect(archive / store.DB_NAME)
    try:
        return snapshot(conn)
    finally:
        conn.close()


def differences(actual: dict[str, list], expected: dict[str, list], limit: int = 3) -> str:
    """A short account of where two snapshots differ ('' when they agree)."""
    lines = []
    for table in sorted(set(actual) | set(expected)):
        have, want = set(actual.get(table, [])), set(expected.get(table, []))
        if have != want:
            extra = sorted(have - want, key=repr)[:limit]
            missing = sorted(want - have, key=repr)[:limit]
            lines.append(f"{table}: +{len(have - want)} -{len(want - have)}")
            lines += [f"  + {str(row)[:400]}" for row in extra]
            lines += [f"  - {str(row)[:400]}" for row in missing]
    return "\n".join(lines)


def assert_same(actual: dict[str, list], expected: dict[str, list], label: str) -> None:
    diff = differences(actual, expected)
    assert not diff, f"{label}: the archive differs from the fault-free one\n{diff}"


def run_sync(
    emu: Emulator,
    archive: Path,
    rooms: list[str],
    retry: RetryPolicy = FAST,
    timeout: tuple[float, float] = (2.0, 2.0),
    token: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> tuple[list[SpaceResult], store.Database]:
    """One in-process sync of ``rooms`` into ``archive`` over real HTTP, as the CLI runs it.
    ``sleep`` is the client's (``short_sleep`` keeps the downloads' fixed 0.5 s body backoff
    and 423 waits from adding up over hundreds of runs)."""
    db = store.open_archive(archive)
    options.setdefault("archive_dir", archive)
    client = WebexClient(token or emu.token, emu.api_url, timeout, retry, sleep=sleep)
    with client:
        return sync_spaces(db, client, rooms, SyncOptions(**options)), db


def short_sleep(seconds: float) -> None:
    """A real sleep of at most 20 ms (for runs that test outcomes, not waiting times)."""
    time.sleep(min(seconds, 0.02))


def kind_of(entry: LogEntry) -> str:
    """What a request was for, from its method and path."""
    path, _, query = entry.path.partition("?")
    if path.startswith("/v1/contents/"):
        return "head" if entry.method == "HEAD" else "file"
    if path == "/v1/messages":
        if "beforeMessage=" in query:
            return "page-cursor"
        return "page-before" if "before=" in query else "page-first"
    names = {
        "/v1/people/me": "me",
        "/v1/memberships": "members",
        "/v1/people": "people",
        "/v1/rooms": "rooms",
        "/v1/events": "events",
    }
    if path in names:
        return names[path]
    return "room" if path.startswith("/v1/rooms/") else "message"


def one_line(text: str) -> bool:
    """A message a person can read at a glance: one non-empty line."""
    return bool(text.strip()) and "\n" not in text and "\r" not in text


def integrity(db_path: Path) -> list[str]:
    """Problems SQLite itself finds in the file (integrity_check, foreign keys, FTS index)."""
    conn = sqlite3.connect(db_path)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        problems = [] if problems == ["ok"] else problems
        problems += [f"foreign key: {row}" for row in conn.execute("PRAGMA foreign_key_check")]
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts'").fetchone():
            return problems  # no schema yet (its creation was rolled back): nothing to index
        try:
            conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as error:
            problems.append(f"messages_fts: {error}")
        return problems
    finally:
        conn.close()


def disk_problems(archive: Path) -> list[str]:
    """Temporary or stray files, and files whose bytes do not match their row."""
    conn = sqlite3.connect(archive / store.DB_NAME)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'files'").fetchone():
            extra = {p.name for p in archive.iterdir()} - ARCHIVE_FILES
            return [f"{name} beside an archive without tables" for name in sorted(extra)]
        folders = {row[0] for row in conn.execute("SELECT folder FROM spaces") if row[0]}
        rows = conn.execute(
            "SELECT local_path, sha256, size FROM files WHERE status = 'downloaded' UNION ALL "
            "SELECT local_path, sha256, NULL FROM avatars"
        ).fetchall()
    finally:
        conn.close()
    problems = [
        f"unexpected {entry.name} at the top of the archive"
        for entry in archive.iterdir()
        if entry.name not in ARCHIVE_FILES | folders
    ]
    recorded = {}
    for local, sha256, size in rows:
        recorded[local] = (sha256, size)
        path = archive / local
        if not path.is_file():
            problems.append(f"{local} is recorded but missing")
            continue
        data = path.read_bytes()
        if sha256 and hashlib.sha256(data).hexdigest() != sha256:
            problems.append(f"{local}: sha256 does not match its row")
        if size is not None and len(data) != size:
            problems.append(f"{local}: {len(data)} bytes, its row says {size}")
    for folder in folders & {p.name for p in archive.iterdir()}:
        for root, _, names in os.walk(archive / folder):
            for name in names:
                local = Path(root, name).relative_to(archive).as_posix()
                if local not in recorded:
                    problems.append(f"{local} is on disk but in no row (a leftover)")
    return problems


def whole(archive: Path) -> None:
    """Assert the archive is whole: SQLite says ok and the disk matches the rows."""
    problems = integrity(archive / store.DB_NAME) + disk_problems(archive)
    assert not problems, "\n".join(problems)

"""Writers of archive content: messages (with their revisions and file rows), spaces,
people and memberships. No writer commits: each runs in the caller's ``transaction``, so the
sync writes one page of messages and its coverage change in ONE transaction and a process
killed at any instant leaves either the whole page or none of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from webex_layout import is_reserved

from .database import _json, set_meta
from .fts import drop_insert_trigger, index_messages, last_rowid
from .rows import file_rows, membership_row, message_row, person_row, space_row


def _upsert(
    db: Database,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    keep: Sequence[str] = (),
    where: str | None = None,
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE of every column except ``key`` and ``keep``.

    sqlite-utils' upsert_all overwrites every column it is given: it can neither keep a first
    seen time (``keep``) nor leave a row alone unless its URL changed (``where``), which
    spaces, memberships, messages and files need (people take the same way, for one way).
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


INSERT_ROWS = 1000  # rows per INSERT statement at most: a whole page (the SQL is ~60 kB)


def _rows_per_statement(db: Database, columns: int) -> int:
    """As many rows a statement as SQLite's parameter limit allows, up to INSERT_ROWS."""
    getlimit = getattr(db.conn, "getlimit", None)  # Python 3.11+
    if getlimit is not None:
        limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    else:
        limit = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
    return max(1, min(INSERT_ROWS, limit // columns))


def _insert(db: Database, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Plain INSERT of rows known to be new: half the cost of the upsert in SQLite (measured:
    0.4 s against 0.8 s for 20,000 messages), values bound by position, not by name, and
    a whole page a statement. SQLite runs each statement without Python's GIL, and getting
    it back after each one waits for a fetching thread to let go (up to the 5 ms switch
    interval; a page's json.loads holds it throughout): so the fewer statements the better.
    """
    if not rows:
        return
    columns = list(rows[0])
    one = f"({', '.join('?' * len(columns))})"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    size = _rows_per_statement(db, len(columns))
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        values = [value for row in chunk for value in row.values()]
        db.conn.execute(head + ", ".join([one] * len(chunk)), values)


_CONTENT_COLUMNS = ("text", "markdown", "html", "files", "attachments", "updated")


def _stored_content(db: Database, ids: Sequence[str]) -> dict[str, tuple]:
    """The versioned columns of those of ``ids`` already stored, to detect edits."""
    sql = (
        f"SELECT id, {', '.join(_CONTENT_COLUMNS)} FROM messages "
        "WHERE id IN (SELECT value FROM json_each(?))"
    )
    return {row[0]: tuple(row[1:]) for row in db.conn.execute(sql, [_json(list(ids))])}


@dataclass
class MessageRows:
    """A page of messages turned into rows (pure work, done by whichever thread fetched the
    page), ready for ``write_messages`` on the writer's connection."""

    messages: list[dict[str, Any]]
    files: list[dict[str, Any]]


def message_rows(api_messages: Iterable[Mapping[str, Any]], now: str) -> MessageRows:
    """The messages and files rows of ``api_messages`` (the last copy of a repeated id wins)."""
    by_id = {row["id"]: (row, m) for m in api_messages for row in [message_row(m, now)]}
    files = [row for _, message in by_id.values() for row in file_rows(message)]
    return MessageRows([row for row, _ in by_id.values()], files)


def save_messages(
    db: Database, api_messages: Iterable[Mapping[str, Any]], now: str, index_new: bool = False
) -> tuple[list[str], list[str]]:
    """Upsert messages; return (new ids, edited ids). See write_messages."""
    return write_messages(db, message_rows(api_messages, now), now, index_new)


def write_messages(
    db: Database, prepared: MessageRows, now: str, index_new: bool = False
) -> tuple[list[str], list[str]]:
    """Upsert prepared message rows; return (new ids, edited ids).

    An edit (a change in any of _CONTENT_COLUMNS) first copies the stored version into
    message_revisions, so nothing a message ever said is lost. first_seen_at is kept,
    deleted_at cleared (it is back), and file rows are added without touching the download
    state of rows that already exist for the same URL.

    ``index_new``: the full-text insert trigger is taken off (fts.py) and this page's new
    rows are indexed with one statement, in the same transaction — a bulk load's way.
    """
    stored = _stored_content(db, [row["id"] for row in prepared.messages])
    new_rows = [row for row in prepared.messages if row["id"] not in stored]
    known = [row for row in prepared.messages if row["id"] in stored]
    new_ids = [row["id"] for row in new_rows]
    edited_ids = [
        row["id"] for row in known if stored[row["id"]] != tuple(row[c] for c in _CONTENT_COLUMNS)
    ]
    _keep_revisions(db, edited_ids, now)
    mark = None
    if index_new:
        drop_insert_trigger(db)
        mark = last_rowid(db) if new_ids else None
    # New ids (looked up in this transaction) cannot conflict: inserted, not upserted, by the
    # hand-written INSERT (half the time of sqlite-utils' insert_all: 2.4 s against 4.9 s
    # for 20,000 messages, measured in pages of 1,000).
    _insert(db, "messages", new_rows)
    _upsert(db, "messages", known, ["id"], ["first_seen_at"])
    if index_new and new_ids:
        index_messages(db, new_ids, mark)
    _write_files(db, prepared.files, set(new_ids))
    return new_ids, edited_ids


def _keep_revisions(db: Database, edited_ids: Sequence[str], now: str) -> None:
    """Copy the stored version of each edited message into message_revisions."""
    if edited_ids:
        db.conn.executemany(
            "INSERT INTO message_revisions (message_id, revision, text, markdown, html, files, "
            "attachments, updated, raw, replaced_at) SELECT id, (SELECT coalesce(max(revision), "
            "0) + 1 FROM message_revisions WHERE message_id = :id), text, markdown, html, "
            "files, attachments, updated, raw, :now FROM messages WHERE id = :id",
            [{"id": message_id, "now": now} for message_id in edited_ids],
        )


def _write_files(db: Database, files: Sequence[Mapping[str, Any]], new: set[str]) -> None:
    """The pages' file rows: a new message's are inserted (a files row needs its message:
    foreign key); a known message's are upserted, keeping the download state of a row whose
    URL is unchanged."""
    _insert(db, "files", [row for row in files if row["message_id"] in new])
    _upsert(
        db, "files", [row for row in files if row["message_id"] not in new],
        ["message_id", "position"], where="files.url IS NOT excluded.url",
    )  # fmt: skip


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


def holds_messages(db: Database, space_id: str) -> bool:
    """Whether the archive holds any message of the space."""
    found = db.conn.execute("SELECT 1 FROM messages WHERE space_id = ? LIMIT 1", [space_id])
    return found.fetchone() is not None


def live_messages_since(db: Database, space_id: str, since: str) -> int:
    """How many not-deleted messages of the space were created at ``since`` or later."""
    return db.conn.execute(
        "SELECT count(*) FROM messages WHERE space_id = ? AND created >= ? AND deleted_at IS NULL",
        [space_id, since],
    ).fetchone()[0]


def save_space(db: Database, api_room: Mapping[str, Any], now: str) -> None:
    """Upsert a space; keeps first_synced_at and the folder once chosen."""
    row = space_row(api_room) | {"first_synced_at": now, "last_synced_at": now}
    _upsert(db, "spaces", [row], ["id"], keep=["first_synced_at"])


def assign_folder(db: Database, space_id: str, wanted: str) -> str:
    """The space's folder: the stored one if chosen, else ``wanted`` made unique (-2, -3, ...
    compared ignoring case). ``wanted`` must already be filesystem-safe. A name the archive
    keeps for itself (``webex_layout.is_reserved``) is never chosen, and one stored by an
    older version is replaced (its downloads are fetched again into the new folder)."""
    row = db.conn.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()
    if row is None:
        raise KeyError(f"unknown space {space_id}")
    if row[0] and not is_reserved(row[0]):
        return row[0]
    taken = {
        r[0].lower() for r in db.conn.execute("SELECT folder FROM spaces WHERE folder IS NOT NULL")
    }
    name, number = wanted, 1
    while name.lower() in taken or is_reserved(name):
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


# Every person id the archive refers to (authors, members, mentions) that is unknown or was
# last fetched before :stale. Every sync asks this of the whole archive, so it reads two
# indexes, never the messages: each distinct author from messages_person, each distinct
# mention list from messages_mentions (schema.sql).
PEOPLE_TO_FETCH = """
    WITH refs (id) AS (
        SELECT * FROM (SELECT DISTINCT person_id FROM messages)
        UNION SELECT person_id FROM memberships
        UNION SELECT j.value
            FROM (SELECT DISTINCT mentioned_people FROM messages
                  WHERE mentioned_people IS NOT NULL) AS m,
                 json_each(m.mentioned_people) AS j
    )
    SELECT refs.id FROM refs LEFT JOIN people AS p ON p.id = refs.id
    WHERE refs.id IS NOT NULL AND (p.fetched_at IS NULL OR p.fetched_at < :stale)
    ORDER BY refs.id
"""


def people_to_fetch(db: Database, stale_before: str) -> list[str]:
    """Person ids referenced that are unknown or stale (see PEOPLE_TO_FETCH); sorted."""
    return [row[0] for row in db.conn.execute(PEOPLE_TO_FETCH, {"stale": stale_before})]


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


def save_me(db: Database, api_person: Mapping[str, Any]) -> None:
    """Record who synced (GET /people/me): render marks people outside this org as external."""
    row = person_row(api_person)
    values = {"me_id": row["id"], "me_email": row["email"], "me_name": row["display_name"],
              "me_org_id": row["org_id"], "me_json": row["raw"]}  # fmt: skip
    for key, value in values.items():
        set_meta(db, key, value)

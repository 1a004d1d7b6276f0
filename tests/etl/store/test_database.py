"""etl/store/database.py: opening and migrating the archive, refusing what is not ours,
read-only connections, transactions, meta."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from etl import store
from etl.store import ArchiveError
from etl.store.coverage import get_spans, record_page
from tests.etl.store.conftest import (
    ALICE,
    M1,
    NOW,
    ORG,
    PERSON_ALICE,
    PLAIN,
    ROOM,
    ROOM2,
    ROOM_JSON,
    compact,
    rows,
    search,
)

TABLES = {
    "meta", "spaces", "people", "memberships", "messages", "message_revisions", "files",
    "coverage", "sync_runs", "messages_fts",
}  # fmt: skip


VIEWS = {"messages_view", "threads", "space_stats"}


def test_open_creates_folder_schema_and_version(tmp_path: Path):
    db = store.open_archive(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b" / "archive.db").is_file()
    assert set(db.table_names()) >= TABLES
    assert set(db.view_names()) == VIEWS
    assert store.get_meta(db, "schema_version") == str(store.SCHEMA_VERSION) == "1"
    db.close()


def test_schema_applies_twice_idempotently(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "plain.db")
    conn.executescript(store.schema_sql())
    first = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.executescript(store.schema_sql())
    assert (
        conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == first
    )
    conn.close()

    db = store.open_archive(tmp_path / "archive")
    with store.transaction(db):
        store.save_space(db, ROOM_JSON, NOW)
        store.save_messages(db, [PLAIN], NOW)
    schema = rows(db, "SELECT name, sql FROM sqlite_master ORDER BY name")
    db.close()
    db = store.open_archive(tmp_path / "archive")
    assert rows(db, "SELECT name, sql FROM sqlite_master ORDER BY name") == schema
    assert [r["id"] for r in rows(db, "SELECT id FROM messages")] == [M1]
    assert search(db, "kick") == [M1]
    db.close()


def test_pragmas_wal_foreign_keys_busy_timeout(db: Database):
    names = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
    values = [db.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names]
    assert values == ["wal", 1, 1, 10000]  # synchronous 1 is NORMAL


def test_foreign_keys_are_enforced(db: Database):
    orphan = {**PLAIN, "roomId": ROOM2}
    with pytest.raises(sqlite3.IntegrityError), store.transaction(db):
        store.save_messages(db, [orphan], NOW)
    assert rows(db, "SELECT count(*) AS n FROM messages") == [{"n": 0}]


def test_newer_schema_version_is_refused(tmp_path: Path):
    db = store.open_archive(tmp_path)
    with store.transaction(db):
        store.set_meta(db, "schema_version", "7")
    db.close()
    for opener in (store.open_archive, store.connect_readonly):
        with pytest.raises(ArchiveError) as caught:
            opener(tmp_path)
        message = str(caught.value)
        assert "newer webex-archive" in message and "schema version 7" in message
        assert "upgrade webex-archive" in message and "\n" not in message


def test_garbage_file_is_refused_and_left_alone(tmp_path: Path):
    garbage = b"not a database" * 100
    (tmp_path / "archive.db").write_bytes(garbage)
    for opener in (store.open_archive, store.connect_readonly):
        with pytest.raises(ArchiveError, match="is not an SQLite database") as caught:
            opener(tmp_path)
        assert "\n" not in str(caught.value)
    assert (tmp_path / "archive.db").read_bytes() == garbage


def test_foreign_sqlite_database_is_refused_and_left_alone(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "archive.db")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    for opener in (store.open_archive, store.connect_readonly):
        with pytest.raises(ArchiveError, match="not a webex-archive archive"):
            opener(tmp_path)
    conn = sqlite3.connect(tmp_path / "archive.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("notes",)]
    conn.close()


def test_foreign_meta_table_is_refused(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "archive.db")
    conn.execute("CREATE TABLE meta (name TEXT, setting TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(ArchiveError, match="not a webex-archive archive"):
        store.open_archive(tmp_path)


def test_empty_sqlite_file_becomes_an_archive(tmp_path: Path):
    (tmp_path / "archive.db").write_bytes(b"")
    db = store.open_archive(tmp_path)
    assert store.get_meta(db, "schema_version") == "1"
    db.close()


def test_folder_that_cannot_be_created(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError, match="is a file, not a folder"):
        store.open_archive(tmp_path / "file")
    with pytest.raises(ArchiveError, match="cannot create the archive folder"):
        store.open_archive(tmp_path / "file" / "sub")


def test_connect_readonly(tmp_path: Path):
    with pytest.raises(ArchiveError, match="no archive at"):
        store.connect_readonly(tmp_path / "nothing")
    db = store.open_archive(tmp_path)
    with store.transaction(db):
        store.save_space(db, ROOM_JSON, NOW)
        store.save_messages(db, [PLAIN], NOW)
    for path in (tmp_path, tmp_path / "archive.db"):
        reader = store.connect_readonly(path)
        assert [r["id"] for r in rows(reader, "SELECT id FROM messages_view")] == [M1]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.conn.execute("DELETE FROM messages")
        reader.close()
    db.close()


def test_schema_sql_is_the_repository_file():
    root = Path(store.__file__).resolve().parent.parent.parent
    assert store.schema_sql() == (root / "schema.sql").read_text(encoding="utf-8")


def test_transaction_rolls_back_everything_on_error(db: Database):
    with pytest.raises(RuntimeError), store.transaction(db):
        store.save_messages(db, [PLAIN], NOW)
        record_page(db, ROOM, None, [PLAIN])
        raise RuntimeError("killed")
    assert rows(db, "SELECT count(*) AS n FROM messages") == [{"n": 0}]
    assert get_spans(db, ROOM) == []
    assert search(db, "kick") == []


def test_utc_now_has_the_api_format():
    assert len(store.utc_now()) == len(NOW) and store.utc_now().endswith("Z")


def test_meta_and_me(db: Database):
    with store.transaction(db):
        store.set_meta(db, "k", "v1")
        store.set_meta(db, "k", "v2")
        store.save_me(db, PERSON_ALICE)
    assert store.get_meta(db, "k") == "v2"
    assert store.get_meta(db, "absent", "default") == "default"
    with store.transaction(db):
        store.set_meta(db, "k", None)
    assert store.get_meta(db, "k") is None
    assert rows(
        db, "SELECT key, value FROM meta WHERE key LIKE 'me!_%' ESCAPE '!' ORDER BY key"
    ) == [
        {"key": "me_email", "value": "alice@example.com"},
        {"key": "me_id", "value": ALICE},
        {"key": "me_json", "value": compact(PERSON_ALICE)},
        {"key": "me_name", "value": "Alice Archer"},
        {"key": "me_org_id", "value": ORG},
    ]

"""etl/store/schema.sql: its views give exact rows, and the queries that run on every sync or
`status` are served by its indexes (checked with EXPLAIN QUERY PLAN), never a full read."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from etl import store
from etl.byid import MISSING_PARENTS, UNDECRYPTED
from tests.etl.store.conftest import (
    ALICE,
    ALL_MESSAGES,
    BOB,
    LATE_REPLY,
    LATER,
    M1,
    M2,
    M3,
    M4,
    M5,
    M6,
    M7,
    MISSING,
    NOW,
    ORPHAN_REPLY,
    PERSON_ALICE,
    PERSON_BOB,
    PLAIN,
    REPLY,
    ROOM,
    ROOM2,
    ROOM_JSON,
    membership,
    rows,
)
from webex_archive.status import COUNTS_SQL


@pytest.fixture
def full(db: Database) -> Database:
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, NOW)
        store.save_people(db, [PERSON_ALICE, PERSON_BOB], NOW)
        store.mark_deleted(db, ROOM, [M6], LATER)
        store.save_memberships(db, ROOM, [membership(1, ALICE, "alice@example.com", "A")], NOW)
        store.save_memberships(db, ROOM, [membership(2, BOB, "bob@example.com", "B")], LATER)
        store.save_space(db, {**ROOM_JSON, "id": ROOM2, "title": "Empty"}, NOW)
    return db


def test_messages_view(full: Database):
    sql = (
        "SELECT id, space_title, is_reply, reply_count, author_name, deleted_at "
        "FROM messages_view ORDER BY created"
    )
    assert rows(full, sql) == [
        {"id": M1, "space_title": "Project Falcon", "is_reply": 0, "reply_count": 2,
         "author_name": "Alice Archer", "deleted_at": None},
        {"id": M2, "space_title": "Project Falcon", "is_reply": 1, "reply_count": None,
         "author_name": "Bob Baker", "deleted_at": None},
        {"id": M3, "space_title": "Project Falcon", "is_reply": 0, "reply_count": 0,
         "author_name": "Alice Archer", "deleted_at": None},
        {"id": M4, "space_title": "Project Falcon", "is_reply": 0, "reply_count": 0,
         "author_name": "dave@partner.example", "deleted_at": None},
        {"id": M5, "space_title": "Project Falcon", "is_reply": 0, "reply_count": 0,
         "author_name": "Bob Baker", "deleted_at": None},
        {"id": M6, "space_title": "Project Falcon", "is_reply": 1, "reply_count": None,
         "author_name": "Alice Archer", "deleted_at": LATER},
        {"id": M7, "space_title": "Project Falcon", "is_reply": 1, "reply_count": None,
         "author_name": "Bob Baker", "deleted_at": None},
    ]  # fmt: skip
    message = rows(full, "SELECT * FROM messages WHERE id = ?", [M3])[0]
    view = rows(full, "SELECT * FROM messages_view WHERE id = ?", [M3])[0]
    extra = {"space_title", "is_reply", "reply_count", "author_name"}
    assert set(view) == (set(message) - {"raw"}) | extra
    assert {k: v for k, v in view.items() if k not in extra} == {
        k: v for k, v in message.items() if k != "raw"
    }


def test_threads_view(full: Database):
    assert rows(full, "SELECT * FROM threads ORDER BY first_reply_at") == [
        {"parent_id": M1, "space_id": ROOM, "space_title": "Project Falcon", "reply_count": 2,
         "first_reply_at": REPLY["created"], "last_reply_at": LATE_REPLY["created"],
         "parent_created": PLAIN["created"], "parent_author": "Alice Archer",
         "parent_text": "Kick-off tomorrow at nine"},
        {"parent_id": MISSING, "space_id": ROOM, "space_title": "Project Falcon",
         "reply_count": 1, "first_reply_at": ORPHAN_REPLY["created"],
         "last_reply_at": ORPHAN_REPLY["created"], "parent_created": None,
         "parent_author": None, "parent_text": None},
    ]  # fmt: skip


def test_space_stats_view(full: Database):
    assert rows(full, "SELECT * FROM space_stats ORDER BY title") == [
        {"space_id": ROOM2, "title": "Empty", "type": "group", "messages": 0, "deleted": 0,
         "members": 0, "authors": 0, "files": 0, "first_message_at": None,
         "last_message_at": None},
        {"space_id": ROOM, "title": "Project Falcon", "type": "group", "messages": 7,
         "deleted": 1, "members": 1, "authors": 3, "files": 2,
         "first_message_at": PLAIN["created"], "last_message_at": ORPHAN_REPLY["created"]},
    ]  # fmt: skip


def test_an_archive_of_an_earlier_build_loses_its_redundant_index(tmp_path: Path):
    db = store.open_archive(tmp_path / "archive")
    db.conn.execute("CREATE INDEX messages_space_created ON messages (space_id, created)")
    db.close()
    db = store.open_archive(tmp_path / "archive")
    indexes = [r["name"] for r in rows(db, "SELECT name FROM sqlite_master WHERE type = 'index'")]
    db.close()
    assert "messages_space_created" not in indexes and "messages_space_order" in indexes


def test_views_use_the_indexes(full: Database):
    def plan(sql: str) -> str:
        return " ".join(r[3] for r in full.conn.execute("EXPLAIN QUERY PLAN " + sql, [ROOM]))

    window = plan(
        "SELECT * FROM messages_view WHERE space_id = ? AND created >= '2024' ORDER BY created"
    )
    assert "(space_id=? AND created>?)" in window and "SCAN m" not in window, window
    assert "messages_space_order" in window, window
    assert "messages_parent" in plan("SELECT * FROM messages_view WHERE space_id = ?")


def test_undecrypted_messages_are_found_by_their_partial_index(db: Database):
    """Every sync asks for undecrypted messages again, and a no-op sync checks for them: the
    query must find exactly those rows, through messages_undecrypted, never by reading every
    row's raw JSON (about 2 s a sync at 1,000,000 messages)."""
    undecrypted = PLAIN | {"id": "undecrypted", "errors": {"text": {"code": "kms_failure"}}}
    quoting = PLAIN | {"id": "quoting", "text": 'the "errors" key'}  # in text: escaped quotes
    deleted = undecrypted | {"id": "deleted"}
    with store.transaction(db):
        store.save_messages(db, [PLAIN, undecrypted, quoting, deleted], NOW)
        db.execute("UPDATE messages SET deleted_at = ? WHERE id = 'deleted'", [NOW])
    found = [row[0] for row in db.execute(UNDECRYPTED, {"space": PLAIN["roomId"]})]
    assert found == ["undecrypted"]
    plan = " ".join(
        row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {UNDECRYPTED}", {"space": "x"})
    )
    assert plan == "SEARCH messages USING INDEX messages_undecrypted (space_id=?)"


def test_missing_parents_are_the_spaces_own_and_found_by_index(db: Database):
    """A reply's parent the archive lacks is fetched by id, once per space that needs it; the
    check runs every sync, so it reads the space's index entries, never a message row."""
    elsewhere = ORPHAN_REPLY | {"id": "elsewhere", "roomId": ROOM2, "parentId": "other-parent"}
    refused = ORPHAN_REPLY | {"id": "refused", "parentId": "refused-parent"}
    with store.transaction(db):
        store.save_space(db, ROOM_JSON | {"id": ROOM2}, NOW)
        store.save_messages(db, [*ALL_MESSAGES, elsewhere, refused], NOW)
        db.execute(
            "INSERT INTO unavailable_messages VALUES ('refused-parent', ?, 404, ?)", [ROOM, NOW]
        )
    assert [row[0] for row in db.execute(MISSING_PARENTS, [ROOM])] == [MISSING]
    assert [row[0] for row in db.execute(MISSING_PARENTS, [ROOM2])] == ["other-parent"]
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {MISSING_PARENTS}", [ROOM])]
    assert [step for step in plan if " r " in step or " p " in step] == [
        "SEARCH r USING COVERING INDEX messages_space_order (space_id=?)",
        "SEARCH p USING COVERING INDEX sqlite_autoindex_messages_1 (id=?)",
    ]


def test_status_counts(db: Database):
    """`status` counts a space's messages, deleted ones, members, authors and files; the
    deleted ones from their partial index, not from a second read of every message row."""
    elsewhere = PLAIN | {"id": "elsewhere", "roomId": ROOM2, "personId": "someone-else"}
    with store.transaction(db):
        store.save_space(db, ROOM_JSON | {"id": ROOM2}, NOW)
        store.save_messages(db, [*ALL_MESSAGES, elsewhere], NOW)
        db.execute("UPDATE messages SET deleted_at = ? WHERE id = ?", [NOW, M2])
    counts = db.execute(COUNTS_SQL, {"s": ROOM}).fetchone()
    authors = {m["personId"] for m in ALL_MESSAGES}
    files = sum(len(m.get("files", [])) for m in ALL_MESSAGES)
    assert counts == (len(ALL_MESSAGES), 1, 0, len(authors), files)
    assert db.execute(COUNTS_SQL, {"s": ROOM2}).fetchone() == (1, 0, 0, 1, 0)
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {COUNTS_SQL}", {"s": ROOM})]
    assert [step for step in plan if " messages" in step] == [
        "SEARCH messages USING COVERING INDEX messages_space_order (space_id=?)",
        "SEARCH messages USING INDEX messages_deleted (space_id=?)",
        "SEARCH messages USING INDEX messages_space_order (space_id=?)",  # the authors
    ]

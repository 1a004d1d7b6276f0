"""schema.sql's record of changes (the ``changes`` table and its triggers), which render's
incremental --split reads (render/changes.py): every change a page shows is logged, by any
writer; what a page does not show, and the sync's re-reads of unchanged rows, log nothing."""

from __future__ import annotations

from etl import store
from tests.etl.store.conftest import (
    ALICE,
    ALL_MESSAGES,
    LATER,
    M1,
    M2,
    M3,
    NOW,
    PERSON_ALICE,
    PERSON_BOB,
    PLAIN,
    ROOM,
    ROOM_JSON,
    WITH_FILES,
    membership,
)


def logged(db, after: int = 0) -> list[tuple]:
    sql = "SELECT tbl, space_id, key FROM changes WHERE seq > ? ORDER BY seq"
    return [tuple(row) for row in db.conn.execute(sql, [after])]


def last(db) -> int:
    return db.conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]


def test_new_messages_log_their_files_alone_and_a_resync_logs_nothing(db):
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, NOW)
        store.save_people(db, [PERSON_ALICE], NOW)
    # New messages are the rows above the last rowid a rendering saw: not logged; their
    # files are (a file's state changes later, on its own), and so is a person new to it.
    assert logged(db) == [("files", ROOM, M3), ("files", ROOM, M3), ("people", None, ALICE)]
    mark = last(db)
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, LATER)  # a look-back re-read: last_seen_at only
        store.save_people(db, [PERSON_ALICE], LATER)  # the weekly refresh: fetched_at only
        store.save_memberships(db, ROOM, [membership(1, ALICE, "alice@example.com", "A")], NOW)
    assert logged(db, mark) == []  # memberships are never logged: pages compute them


def test_edits_deletions_files_people_and_avatars_are_logged(db):
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, NOW)
        store.save_people(db, [PERSON_ALICE], NOW)
    mark = last(db)
    with store.transaction(db):
        store.save_messages(db, [PLAIN | {"text": "edited", "updated": LATER}], LATER)
        store.mark_deleted(db, ROOM, [M3], LATER)
        store.save_people(db, [PERSON_ALICE | {"displayName": "Alice Renamed"}], LATER)
        store.save_people(db, [PERSON_BOB], LATER)  # someone new
    bob = PERSON_BOB["id"]
    assert logged(db, mark) == [("messages", ROOM, M1), ("messages", ROOM, M3),
                                ("people", None, ALICE), ("people", None, bob)]  # fmt: skip
    mark = last(db)
    url = WITH_FILES["files"][0]
    db.conn.execute("UPDATE files SET status = 'downloaded', local_path = 'x/f' WHERE url = ?",
                    [url])  # fmt: skip
    db.conn.execute("UPDATE files SET checked_at = ? WHERE url = ?", [LATER, url])  # not shown
    db.conn.execute(
        "INSERT INTO avatars (space_id, person_id, url, local_path, fetched_at) "
        "VALUES (?, ?, 'https://a.example/1', 'x/a.png', ?)",
        [ROOM, ALICE, NOW],
    )
    db.conn.execute("DELETE FROM messages WHERE id = ?", [M2])  # a person's own sqlite3
    db.conn.commit()
    assert logged(db, mark) == [("files", ROOM, M3), ("avatars", ROOM, ALICE),
                                ("messages", ROOM, M2)]  # fmt: skip


def test_an_archive_of_the_previous_version_gets_the_record_at_its_next_open(tmp_path):
    archive = tmp_path / "archive"
    db = store.open_archive(archive)
    with store.transaction(db):
        store.save_space(db, ROOM_JSON, NOW)
        store.save_messages(db, ALL_MESSAGES, NOW)
    sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'changes_%'"
    for (name,) in db.conn.execute(sql).fetchall():
        db.conn.execute(f"DROP TRIGGER {name}")
    db.conn.execute("DROP TABLE changes")
    db.conn.commit()
    db.conn.close()
    db = store.open_archive(archive)
    try:
        with store.transaction(db):
            store.save_messages(db, [PLAIN | {"text": "edited", "updated": LATER}], LATER)
        assert logged(db) == [("messages", ROOM, M1)]
    finally:
        db.conn.close()

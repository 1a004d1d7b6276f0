"""etl/store/writers.py: messages with their revisions and file rows, deletions, spaces and
their folders, people, memberships; exact rows in a real archive."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from etl import store
from etl.store.writers import PEOPLE_TO_FETCH
from tests.etl.store.conftest import (
    ALICE,
    ALL_MESSAGES,
    BOB,
    CARD,
    CAROL,
    DAVE,
    EDITED,
    FILE_A,
    FILE_B,
    LATER,
    LATEST,
    M1,
    M2,
    M3,
    M4,
    M5,
    NOW,
    PERSON_ALICE,
    PERSON_BOB,
    PLAIN,
    REPLY,
    ROOM,
    ROOM2,
    ROOM_JSON,
    WITH_FILES,
    compact,
    membership,
    rows,
    wid,
)


def test_save_messages_new_then_unchanged(db: Database):
    with store.transaction(db):
        assert store.save_messages(db, ALL_MESSAGES, NOW) == ([m["id"] for m in ALL_MESSAGES], [])
    with store.transaction(db):
        assert store.save_messages(db, [PLAIN, REPLY], LATER) == ([], [])
    assert rows(
        db, "SELECT id, first_seen_at, last_seen_at FROM messages WHERE id IN (?, ?)", [M1, M3]
    ) == [
        {"id": M1, "first_seen_at": NOW, "last_seen_at": LATER},
        {"id": M3, "first_seen_at": NOW, "last_seen_at": NOW},
    ]
    assert rows(db, "SELECT count(*) AS n FROM message_revisions") == [{"n": 0}]
    stored = rows(db, "SELECT * FROM messages WHERE id = ?", [M3])[0]
    assert stored == store.message_row(WITH_FILES, NOW)


def test_edit_records_exactly_one_revision_with_the_old_text(db: Database):
    with store.transaction(db):
        store.save_messages(db, [PLAIN, REPLY], NOW)
    edit = {**PLAIN, "text": "Kick-off moved to ten", "updated": "2024-03-05T08:00:00.000Z"}
    with store.transaction(db):
        assert store.save_messages(db, [edit, REPLY], LATER) == ([], [M1])
    assert rows(db, "SELECT * FROM message_revisions") == [
        {
            "message_id": M1,
            "revision": 1,
            "text": "Kick-off tomorrow at nine",
            "markdown": None,
            "html": None,
            "files": None,
            "attachments": None,
            "updated": None,
            "raw": compact(PLAIN),
            "replaced_at": LATER,
        }
    ]
    sql = "SELECT text, updated, first_seen_at, last_seen_at FROM messages WHERE id = ?"
    assert rows(db, sql, [M1]) == [
        {"text": "Kick-off moved to ten", "updated": "2024-03-05T08:00:00.000Z",
         "first_seen_at": NOW, "last_seen_at": LATER}
    ]  # fmt: skip
    with store.transaction(db):  # the same edited version again: nothing new
        assert store.save_messages(db, [edit], LATER) == ([], [])
    second = {**edit, "text": "Kick-off cancelled", "updated": "2024-03-06T08:00:00.000Z"}
    with store.transaction(db):
        assert store.save_messages(db, [second], LATEST) == ([], [M1])
    assert rows(db, "SELECT revision, text, updated, replaced_at FROM message_revisions") == [
        {"revision": 1, "text": "Kick-off tomorrow at nine", "updated": None, "replaced_at": LATER},
        {"revision": 2, "text": "Kick-off moved to ten",
         "updated": "2024-03-05T08:00:00.000Z", "replaced_at": LATEST},
    ]  # fmt: skip


def test_duplicate_ids_in_one_call_count_once(db: Database):
    with store.transaction(db):
        assert store.save_messages(db, [PLAIN, PLAIN], NOW) == ([M1], [])


def test_file_rows_keep_their_download_state(db: Database):
    with store.transaction(db):
        store.save_messages(db, [WITH_FILES], NOW)
    assert rows(db, "SELECT url, position, status FROM files ORDER BY position") == [
        {"url": FILE_A, "position": 0, "status": "pending"},
        {"url": FILE_B, "position": 1, "status": "pending"},
    ]
    with store.transaction(db):
        db.conn.execute(
            "UPDATE files SET status = 'downloaded', name = 'plan.pdf', size = 123, "
            "local_path = 'Project Falcon/files/plan.pdf' WHERE position = 0"
        )
        edit = {**WITH_FILES, "text": "Carol, see the new plan", "updated": LATER}
        assert store.save_messages(db, [edit], LATER) == ([], [M3])
    sql = "SELECT position, status, name, size, local_path FROM files ORDER BY position"
    assert rows(db, sql) == [
        {"position": 0, "status": "downloaded", "name": "plan.pdf", "size": 123,
         "local_path": "Project Falcon/files/plan.pdf"},
        {"position": 1, "status": "pending", "name": None, "size": None, "local_path": None},
    ]  # fmt: skip
    other = f"https://webexapis.com/v1/contents/{wid('CONTENT', 3)}"
    with store.transaction(db):  # a different URL at a position starts that row afresh
        store.save_messages(db, [{**edit, "files": [other, FILE_B]}], LATEST)
    assert rows(db, "SELECT url, status, name, content_id FROM files WHERE position = 0") == [
        {"url": other, "status": "pending", "name": None, "content_id": wid("CONTENT", 3)}
    ]


def test_mark_deleted_keeps_content_and_reappearing_clears_it(db: Database):
    with store.transaction(db):
        store.save_messages(db, [PLAIN, REPLY, CARD], NOW)
        assert store.mark_deleted(db, ROOM, [M2, M5], LATER) == 2
    with store.transaction(db):
        assert store.mark_deleted(db, ROOM, [M2], LATEST) == 0  # first deleted_at stays
        assert store.mark_deleted(db, ROOM2, [M1], LATEST) == 0  # another space: untouched
    assert rows(db, "SELECT id, text, deleted_at FROM messages ORDER BY created") == [
        {"id": M1, "text": "Kick-off tomorrow at nine", "deleted_at": None},
        {"id": M2, "text": "I'll bring the budget", "deleted_at": LATER},
        {"id": M5, "text": "Lunch vote", "deleted_at": LATER},
    ]
    assert store.live_message_ids(db, ROOM, "2024", CARD["created"]) == {M1}
    with store.transaction(db):
        assert store.save_messages(db, [REPLY], LATEST) == ([], [])
    assert rows(db, "SELECT deleted_at FROM messages WHERE id = ?", [M2]) == [{"deleted_at": None}]


def test_live_message_ids_window_excludes_its_lower_bound(db: Database):
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, NOW)
    ids = store.live_message_ids(db, ROOM, REPLY["created"], EDITED["created"])
    assert ids == {M3, M4}


def test_memberships_leaving_and_returning(db: Database):
    alice = membership(1, ALICE, "alice@example.com", "Alice Archer")
    bob = membership(2, BOB, "bob@example.com", "Bob Baker")
    with store.transaction(db):
        store.save_memberships(db, ROOM, [alice, bob], NOW)
    with store.transaction(db):
        store.save_memberships(db, ROOM, [alice], LATER)
    sql = "SELECT person_id, first_seen_at, last_seen_at, left_at FROM memberships ORDER BY id"
    assert rows(db, sql) == [
        {"person_id": ALICE, "first_seen_at": NOW, "last_seen_at": LATER, "left_at": None},
        {"person_id": BOB, "first_seen_at": NOW, "last_seen_at": NOW, "left_at": LATER},
    ]
    with store.transaction(db):
        store.save_memberships(db, ROOM, [alice, {**bob, "isModerator": True}], LATEST)
    assert rows(db, sql) == [
        {"person_id": ALICE, "first_seen_at": NOW, "last_seen_at": LATEST, "left_at": None},
        {"person_id": BOB, "first_seen_at": NOW, "last_seen_at": LATEST, "left_at": None},
    ]
    assert rows(db, "SELECT is_moderator FROM memberships WHERE person_id = ?", [BOB]) == [
        {"is_moderator": 1}
    ]


def test_people_found_and_not_found(db: Database):
    carol = membership(3, CAROL, "carol@example.com", "Carol Cole")
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, NOW)
        store.save_memberships(db, ROOM, [carol], NOW)
        assert store.people_to_fetch(db, NOW) == sorted([ALICE, BOB, CAROL, DAVE])
        store.save_people(db, [PERSON_ALICE, PERSON_BOB], NOW)
        store.save_not_found_people(db, {CAROL: None, DAVE: None}, NOW)
    sql = "SELECT id, email, emails, display_name, nick_name, not_found, fetched_at FROM people"
    expected = [
        {"id": ALICE, "email": "alice@example.com",
         "emails": '["alice@example.com","a.archer@example.com"]', "display_name": "Alice Archer",
         "nick_name": None, "not_found": 0, "fetched_at": NOW},
        {"id": BOB, "email": "bob@example.com", "emails": '["bob@example.com"]',
         "display_name": "Bob Baker", "nick_name": "Bobby", "not_found": 0, "fetched_at": NOW},
        {"id": CAROL, "email": "carol@example.com", "emails": '["carol@example.com"]',
         "display_name": "Carol Cole", "nick_name": None, "not_found": 1, "fetched_at": NOW},
        {"id": DAVE, "email": "dave@partner.example", "emails": '["dave@partner.example"]',
         "display_name": None, "nick_name": None, "not_found": 1, "fetched_at": NOW},
    ]  # fmt: skip
    assert rows(db, sql + " ORDER BY id") == sorted(expected, key=lambda r: r["id"])
    assert store.people_to_fetch(db, NOW) == []
    assert store.people_to_fetch(db, LATER) == sorted([ALICE, BOB, CAROL, DAVE])
    plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {PEOPLE_TO_FETCH}", {"stale": NOW})]
    reads = [step for step in plan if " messages" in step]  # read indexes only, no message
    assert reads == [
        "SCAN messages USING COVERING INDEX messages_person",
        "SEARCH messages USING COVERING INDEX messages_mentions (mentioned_people>?)",
    ]
    with store.transaction(db):  # a person later not found keeps the data we had
        store.save_not_found_people(db, {BOB: "robert@example.com"}, LATER)
    assert rows(db, sql + " WHERE id = ?", [BOB]) == [
        {"id": BOB, "email": "bob@example.com", "emails": '["bob@example.com"]',
         "display_name": "Bob Baker", "nick_name": "Bobby", "not_found": 1, "fetched_at": LATER}
    ]  # fmt: skip
    with store.transaction(db):  # and a real answer replaces a not-found row
        store.save_people(db, [{"id": DAVE, "emails": ["dave@partner.example"],
                                "displayName": "Dave Dunn", "type": "person"}], LATER)  # fmt: skip
    assert rows(db, "SELECT display_name, not_found FROM people WHERE id = ?", [DAVE]) == [
        {"display_name": "Dave Dunn", "not_found": 0}
    ]


def test_space_keeps_first_sync_and_folder(db: Database):
    with store.transaction(db):
        assert store.assign_folder(db, ROOM, "Project Falcon") == "Project Falcon"
        store.save_space(db, {**ROOM_JSON, "title": "Falcon (renamed)"}, LATER)
        assert store.assign_folder(db, ROOM, "Falcon (renamed)") == "Project Falcon"
        store.save_space(db, {**ROOM_JSON, "id": ROOM2, "title": "project falcon"}, LATER)
        assert store.assign_folder(db, ROOM2, "project falcon") == "project falcon-2"
    sql = "SELECT id, title, folder, first_synced_at, last_synced_at FROM spaces ORDER BY id"
    assert rows(db, sql) == [
        {"id": ROOM, "title": "Falcon (renamed)", "folder": "Project Falcon",
         "first_synced_at": NOW, "last_synced_at": LATER},
        {"id": ROOM2, "title": "project falcon", "folder": "project falcon-2",
         "first_synced_at": LATER, "last_synced_at": LATER},
    ]  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError), store.transaction(db):
        db.conn.execute("UPDATE spaces SET folder = 'PROJECT FALCON' WHERE id = ?", [ROOM2])
    with pytest.raises(KeyError):
        store.assign_folder(db, "no-such-space", "x")

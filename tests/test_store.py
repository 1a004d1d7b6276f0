"""The archive database and its storage layer: real SQLite files, exact rows."""

from __future__ import annotations

import base64
import itertools
import json
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from etl import store
from etl.byid import MISSING_PARENTS, UNDECRYPTED
from etl.store import ArchiveError, coverage
from etl.store.coverage import Span, get_spans, record_page
from etl.store.writers import PEOPLE_TO_FETCH
from webex_archive.status import COUNTS_SQL


def wid(kind: str, number: int) -> str:
    """A Webex-shaped id: unpadded base64 of ciscospark://us/<TYPE>/<uuid>."""
    uri = f"ciscospark://us/{kind}/{number:08x}-43bd-11e6-8ae9-dd5b3dfc565d"
    return base64.b64encode(uri.encode()).decode().rstrip("=")


ROOM, ROOM2 = wid("ROOM", 1), wid("ROOM", 2)
ORG = wid("ORGANIZATION", 1)
ALICE, BOB, CAROL, DAVE = (wid("PEOPLE", n) for n in range(1, 5))
M1, M2, M3, M4, M5, M6, M7 = (wid("MESSAGE", n) for n in range(1, 8))
MISSING = wid("MESSAGE", 99)
FILE_A = f"https://webexapis.com/v1/contents/{wid('CONTENT', 1)}"
FILE_B = f"https://webexapis.com/v1/contents/{wid('CONTENT', 2)}"
NOW, LATER, LATEST = (
    "2024-03-05T12:00:00.000Z",
    "2024-03-06T12:00:00.000Z",
    "2024-03-07T08:00:00.000Z",
)

ROOM_JSON = {
    "id": ROOM,
    "title": "Project Falcon",
    "type": "group",
    "isLocked": False,
    "lastActivity": "2024-03-02T20:26:02.321Z",
    "creatorId": ALICE,
    "created": "2023-01-10T09:00:00.000Z",
    "ownerId": ORG,
    "isPublic": False,
    "isReadOnly": False,
}
PLAIN = {
    "id": M1,
    "roomId": ROOM,
    "roomType": "group",
    "text": "Kick-off tomorrow at nine",
    "personId": ALICE,
    "personEmail": "alice@example.com",
    "created": "2024-03-01T09:00:00.000Z",
}
REPLY = {
    "id": M2,
    "roomId": ROOM,
    "roomType": "group",
    "parentId": M1,
    "text": "I'll bring the budget",
    "personId": BOB,
    "personEmail": "bob@example.com",
    "created": "2024-03-01T09:05:00.000Z",
}
WITH_FILES = {
    "id": M3,
    "roomId": ROOM,
    "roomType": "group",
    "text": "Carol, see the plan",
    "markdown": "<@personId:" + CAROL + "|Carol>, see the **plan**",
    "html": f'<p><spark-mention data-object-type="person" data-object-id="{CAROL}">Carol'
    "</spark-mention>, see the <strong>plan</strong></p>",
    "files": [FILE_A, FILE_B],
    "personId": ALICE,
    "personEmail": "alice@example.com",
    "mentionedPeople": [CAROL],
    "mentionedGroups": ["all"],
    "isVoiceClip": False,
    "created": "2024-03-01T10:00:00.000Z",
}
EDITED = {
    "id": M4,
    "roomId": ROOM,
    "roomType": "group",
    "text": "Meeting moved to ten",
    "personId": DAVE,
    "personEmail": "dave@partner.example",
    "created": "2024-03-01T11:00:00.000Z",
    "updated": "2024-03-01T11:02:00.000Z",
}
CARD = {
    "id": M5,
    "roomId": ROOM,
    "roomType": "group",
    "text": "Lunch vote",
    "attachments": [
        {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "type": "AdaptiveCard",
                "version": "1.2",
                "body": [{"type": "TextBlock", "text": "Pizza?"}],
                "actions": [{"type": "Action.Submit", "title": "Yes"}],
            },
        }
    ],
    "personId": BOB,
    "personEmail": "bob@example.com",
    "created": "2024-03-01T12:00:00.000Z",
}
LATE_REPLY = {
    "id": M6,
    "roomId": ROOM,
    "roomType": "group",
    "parentId": M1,
    "text": "Agreed, nine works",
    "personId": ALICE,
    "personEmail": "alice@example.com",
    "created": "2024-03-01T13:00:00.000Z",
}
ORPHAN_REPLY = {
    "id": M7,
    "roomId": ROOM,
    "roomType": "group",
    "parentId": MISSING,
    "text": "Replying to something older",
    "personId": BOB,
    "personEmail": "bob@example.com",
    "created": "2024-03-01T14:00:00.000Z",
}
ALL_MESSAGES = [PLAIN, REPLY, WITH_FILES, EDITED, CARD, LATE_REPLY, ORPHAN_REPLY]

PERSON_ALICE = {
    "id": ALICE,
    "emails": ["alice@example.com", "a.archer@example.com"],
    "phoneNumbers": [],
    "displayName": "Alice Archer",
    "firstName": "Alice",
    "lastName": "Archer",
    "avatar": "https://avatar-prod-us-east-2.webexcontent.com/Avtr~1600",
    "orgId": ORG,
    "created": "2019-05-01T08:00:00.000Z",
    "type": "person",
}
PERSON_BOB = {
    "id": BOB,
    "emails": ["bob@example.com"],
    "displayName": "Bob Baker",
    "nickName": "Bobby",
    "orgId": ORG,
    "created": "2020-02-02T08:00:00.000Z",
    "type": "person",
}

MESSAGE_NULLS = dict.fromkeys(
    "id space_id room_type parent_id person_id person_email text markdown html files attachments "
    "mentioned_people mentioned_groups is_voice_clip created updated raw first_seen_at "
    "last_seen_at deleted_at".split()
)


def compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def membership(number: int, person: str, email: str, name: str, **extra) -> dict:
    return {
        "id": wid("MEMBERSHIP", number),
        "roomId": ROOM,
        "personId": person,
        "personEmail": email,
        "personDisplayName": name,
        "personOrgId": ORG,
        "isModerator": False,
        "isMonitor": False,
        "created": "2023-01-10T09:00:00.000Z",
        **extra,
    }


@pytest.fixture
def db(tmp_path: Path) -> Database:
    archive = store.open_archive(tmp_path / "archive")
    with store.transaction(archive):
        store.save_space(archive, ROOM_JSON, NOW)
    yield archive
    archive.close()


def rows(db: Database, sql: str, params=()) -> list[dict]:
    return list(db.query(sql, params))


def search(db: Database, query: str) -> list[str]:
    sql = (
        "SELECT m.id FROM messages_fts JOIN messages AS m ON m.rowid = messages_fts.rowid "
        "WHERE messages_fts MATCH ? ORDER BY m.created"
    )
    return [row[0] for row in db.conn.execute(sql, [query])]


# ----- opening, schema, refusing what is not ours ---------------------------------------------


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


# ----- API objects to rows -------------------------------------------------------------------


def test_message_row_plain():
    assert store.message_row(PLAIN, NOW) == {
        "id": M1,
        "space_id": ROOM,
        "room_type": "group",
        "parent_id": None,
        "person_id": ALICE,
        "person_email": "alice@example.com",
        "text": "Kick-off tomorrow at nine",
        "markdown": None,
        "html": None,
        "files": None,
        "attachments": None,
        "mentioned_people": None,
        "mentioned_groups": None,
        "is_voice_clip": None,
        "created": "2024-03-01T09:00:00.000Z",
        "updated": None,
        "raw": (
            f'{{"id":"{M1}","roomId":"{ROOM}","roomType":"group",'
            f'"text":"Kick-off tomorrow at nine","personId":"{ALICE}",'
            '"personEmail":"alice@example.com","created":"2024-03-01T09:00:00.000Z"}'
        ),
        "first_seen_at": NOW,
        "last_seen_at": NOW,
        "deleted_at": None,
    }


def test_message_row_reply():
    assert store.message_row(REPLY, NOW) == MESSAGE_NULLS | {
        "id": M2,
        "space_id": ROOM,
        "room_type": "group",
        "parent_id": M1,
        "person_id": BOB,
        "person_email": "bob@example.com",
        "text": "I'll bring the budget",
        "created": "2024-03-01T09:05:00.000Z",
        "raw": compact(REPLY),
        "first_seen_at": NOW,
        "last_seen_at": NOW,
    }


def test_message_row_files_mentions_groups():
    assert store.message_row(WITH_FILES, NOW) == MESSAGE_NULLS | {
        "id": M3,
        "space_id": ROOM,
        "room_type": "group",
        "person_id": ALICE,
        "person_email": "alice@example.com",
        "text": "Carol, see the plan",
        "markdown": f"<@personId:{CAROL}|Carol>, see the **plan**",
        "html": WITH_FILES["html"],
        "files": f'["{FILE_A}","{FILE_B}"]',
        "mentioned_people": f'["{CAROL}"]',
        "mentioned_groups": '["all"]',
        "is_voice_clip": 0,
        "created": "2024-03-01T10:00:00.000Z",
        "raw": compact(WITH_FILES),
        "first_seen_at": NOW,
        "last_seen_at": NOW,
    }


def test_message_row_edited():
    assert store.message_row(EDITED, NOW) == MESSAGE_NULLS | {
        "id": M4,
        "space_id": ROOM,
        "room_type": "group",
        "person_id": DAVE,
        "person_email": "dave@partner.example",
        "text": "Meeting moved to ten",
        "created": "2024-03-01T11:00:00.000Z",
        "updated": "2024-03-01T11:02:00.000Z",
        "raw": compact(EDITED),
        "first_seen_at": NOW,
        "last_seen_at": NOW,
    }


def test_message_row_card_and_voice_clip():
    row = store.message_row(CARD, NOW)
    assert row == MESSAGE_NULLS | {
        "id": M5,
        "space_id": ROOM,
        "room_type": "group",
        "person_id": BOB,
        "person_email": "bob@example.com",
        "text": "Lunch vote",
        "attachments": (
            '[{"contentType":"application/vnd.microsoft.card.adaptive","content":'
            '{"type":"AdaptiveCard","version":"1.2","body":[{"type":"TextBlock","text":"Pizza?"}],'
            '"actions":[{"type":"Action.Submit","title":"Yes"}]}}]'
        ),
        "created": "2024-03-01T12:00:00.000Z",
        "raw": compact(CARD),
        "first_seen_at": NOW,
        "last_seen_at": NOW,
    }
    assert json.loads(row["raw"]) == CARD
    assert store.message_row({**PLAIN, "isVoiceClip": True}, NOW)["is_voice_clip"] == 1
    assert store.message_row({**PLAIN, "text": "naïve ☕"}, NOW)["raw"].count("☕") == 1


def test_message_row_requires_id_room_and_created():
    with pytest.raises(ValueError, match="message without roomId"):
        store.message_row({k: v for k, v in PLAIN.items() if k != "roomId"}, NOW)


def test_space_row():
    assert store.space_row(ROOM_JSON) == {
        "id": ROOM,
        "title": "Project Falcon",
        "type": "group",
        "is_locked": 0,
        "team_id": None,
        "last_activity": "2024-03-02T20:26:02.321Z",
        "creator_id": ALICE,
        "created": "2023-01-10T09:00:00.000Z",
        "owner_id": ORG,
        "is_public": 0,
        "is_read_only": 0,
        "is_announcement_only": None,
        "classification_id": None,
        "description": None,
        "made_public": None,
        "raw": compact(ROOM_JSON),
    }


def test_person_row():
    assert store.person_row(PERSON_ALICE) == {
        "id": ALICE,
        "email": "alice@example.com",
        "emails": '["alice@example.com","a.archer@example.com"]',
        "display_name": "Alice Archer",
        "nick_name": None,
        "first_name": "Alice",
        "last_name": "Archer",
        "avatar": "https://avatar-prod-us-east-2.webexcontent.com/Avtr~1600",
        "org_id": ORG,
        "type": "person",
        "created": "2019-05-01T08:00:00.000Z",
        "raw": compact(PERSON_ALICE),
    }


def test_membership_row():
    api = membership(1, ALICE, "alice@example.com", "Alice Archer", isModerator=True)
    assert store.membership_row(api) == {
        "id": wid("MEMBERSHIP", 1),
        "space_id": ROOM,
        "person_id": ALICE,
        "person_email": "alice@example.com",
        "person_display_name": "Alice Archer",
        "person_org_id": ORG,
        "is_moderator": 1,
        "is_monitor": 0,
        "is_room_hidden": None,
        "created": "2023-01-10T09:00:00.000Z",
        "raw": compact(api),
    }


def test_file_rows():
    pending = dict.fromkeys(
        "name content_type size error local_path sha256 downloaded_at checked_at".split()
    )
    assert store.file_rows(WITH_FILES) == [
        {"url": FILE_A, "message_id": M3, "space_id": ROOM, "position": 0,
         "content_id": wid("CONTENT", 1), **pending, "status": "pending"},
        {"url": FILE_B, "message_id": M3, "space_id": ROOM, "position": 1,
         "content_id": wid("CONTENT", 2), **pending, "status": "pending"},
    ]  # fmt: skip
    assert store.file_rows(PLAIN) == []


# ----- writers -------------------------------------------------------------------------------


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


def test_sync_runs(db: Database):
    with store.transaction(db):
        first = store.start_run(db, {"days": 7, "full": False}, [ROOM], now=NOW)
    with store.transaction(db):  # the first process died; the next run says so
        second = store.start_run(db, {"all": True}, [ROOM, ROOM2], now=LATER)
        counters = {"requests": 12, "pages": 9, "new_messages": 400, "edited_messages": 2}
        store.finish_run(db, second, "ok", counters, now=LATEST)
    assert rows(db, "SELECT * FROM sync_runs ORDER BY id") == [
        {"id": first, "started_at": NOW, "finished_at": None, "status": "interrupted",
         "error": None, "arguments": '{"days":7,"full":false}', "requests": 0, "pages": 0,
         "new_messages": 0, "edited_messages": 0, "deleted_messages": 0,
         "spaces": f'["{ROOM}"]'},
        {"id": second, "started_at": LATER, "finished_at": LATEST, "status": "ok",
         "error": None, "arguments": '{"all":true}', "requests": 12, "pages": 9,
         "new_messages": 400, "edited_messages": 2, "deleted_messages": 0,
         "spaces": f'["{ROOM}","{ROOM2}"]'},
    ]  # fmt: skip
    with store.transaction(db):
        third = store.start_run(db, {}, [], now=LATEST)
        store.finish_run(db, third, "failed", {"requests": 1}, error="HTTP 500", now=LATEST)
    assert rows(db, "SELECT status, error FROM sync_runs WHERE id = ?", [third]) == [
        {"status": "failed", "error": "HTTP 500"}
    ]
    with pytest.raises(ValueError, match="run status"):
        store.finish_run(db, third, "running", {})
    with pytest.raises(ValueError, match="unknown run counters"):
        store.finish_run(db, third, "ok", {"reqests": 1})


# ----- full-text search ----------------------------------------------------------------------


def test_fts_finds_words_and_keeps_up_with_edits_and_deletes(db: Database):
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, NOW)
    assert search(db, "budget") == [M2]
    assert search(db, "nine") == [M1, M6]
    edit = {**REPLY, "text": "I'll bring the spreadsheet", "updated": LATER}
    with store.transaction(db):
        store.save_messages(db, [edit], LATER)
    assert search(db, "budget") == []
    assert search(db, "spreadsheet") == [M2]
    with store.transaction(db):  # deleted in Webex: content kept, still searchable
        store.mark_deleted(db, ROOM, [M2], LATEST)
    assert search(db, "spreadsheet") == [M2]
    with store.transaction(db):  # a row really deleted from the table leaves the index too
        db.conn.execute("DELETE FROM messages WHERE id = ?", [M6])
    assert search(db, "nine") == [M1]
    db.conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    assert db["messages"].detect_fts() == "messages_fts"  # sqlite-utils and Datasette see it
    assert [r["id"] for r in db["messages"].search("spreadsheet")] == [M2]


def test_pages_indexed_by_the_sync_are_exactly_the_new_rows(db: Database):
    """index_new indexes a page's new rows by their rowid range (fts.index_messages): a page
    mixing stored (edited and unchanged) and new messages, after a row was deleted, leaves
    an index that matches the table exactly."""
    first, second = ALL_MESSAGES[:3], ALL_MESSAGES[3:]
    with store.transaction(db):
        store.save_messages(db, first, NOW, index_new=True)
    with store.transaction(db):  # the newest row goes: its rowid is free again
        for table, key in (("files", "message_id"), ("messages", "id")):
            db.conn.execute(f"DELETE FROM {table} WHERE {key} = ?", [first[-1]["id"]])
    edited = {**first[0], "text": "an edited budget line", "updated": LATER}
    with store.transaction(db):
        new, changed = store.save_messages(db, [edited, first[1], *second], LATER, index_new=True)
    assert sorted(new) == sorted(m["id"] for m in second)
    assert changed == [first[0]["id"]]
    db.conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    indexed = db.conn.execute("SELECT count(*) FROM messages_fts").fetchone()[0]
    assert indexed == db.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert search(db, "edited") == [first[0]["id"]]


# ----- views ---------------------------------------------------------------------------------


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


# ----- coverage: pure logic --------------------------------------------------------------------


def msg(number: int, millisecond: int | None = None) -> dict:
    """A message stub: higher numbers are newer; ``millisecond`` forces a shared created."""
    stamp = number if millisecond is None else millisecond
    return {
        "id": f"m{number:04d}",
        "created": f"2024-01-01T00:{stamp // 60:02d}:{stamp % 60:02d}.000Z",
    }


def page(newest: int, oldest: int) -> list[dict]:
    """A page as the API returns it: newest first, both ends included."""
    return [msg(n) for n in range(newest, oldest - 1, -1)]


def span(newest: int, oldest: int, reaches_start: bool = False, span_id: int | None = None) -> Span:
    return Span(span_id, msg(newest)["id"], msg(newest)["created"], msg(oldest)["id"],
                msg(oldest)["created"], reaches_start)  # fmt: skip


def test_union_and_touches():
    assert coverage.union(span(100, 51, span_id=3), span(50, 1, True)) == span(100, 1, True, 3)
    assert coverage.union(span(100, 51), span(80, 71)) == span(100, 51)  # inside: unchanged
    assert coverage.touches(span(100, 51), span(50, 1), {"m0050"})
    assert not coverage.touches(span(100, 51), span(50, 1))
    assert coverage.touches(span(100, 40), span(50, 1))  # ranges overlap
    assert coverage.touches(span(100, 51), span(51, 1))  # same end message
    assert coverage.page_span(page(9, 5), True) == span(9, 5, True)


def test_ties_in_created_never_stall_the_walk_or_join_blindly():
    tied = [msg(n, millisecond=7) for n in (30, 20, 10)]  # one millisecond, API order
    walked = coverage.page_span(tied[:2])  # m0030, m0020
    assert coverage.union(walked, coverage.page_span(tied[2:])).oldest_id == "m0010"
    later = Span(None, "m0040", msg(40)["created"], "m0030", tied[0]["created"])
    older = coverage.page_span(tied[1:])  # starts in the same millisecond as later ends
    assert not coverage.touches(later, older)
    assert coverage.touches(later, older, {"m0020"})


def test_absorb_joins_every_span_it_touches():
    others = [span(50, 45, span_id=2), span(60, 55, span_id=1), span(30, 1, True, span_id=3)]
    joined, absorbed = coverage.absorb(span(70, 52), others, {"m0052"})
    assert (joined, [s.id for s in absorbed]) == (span(70, 52, span_id=1), [1])
    joined, absorbed = coverage.absorb(span(70, 45), others)
    assert (joined, [s.id for s in absorbed]) == (span(70, 45, span_id=2), [2, 1])
    joined, absorbed = coverage.absorb(span(70, 31), others, {"m0031", "m0030"})
    assert (joined, [s.id for s in absorbed]) == (span(70, 1, True, span_id=2), [2, 1, 3])


# ----- coverage: the table ---------------------------------------------------------------------


def spans(db: Database) -> list[tuple]:
    """(newest, oldest, reaches_start) of the room's spans, newest first; checks disjointness."""
    stored = get_spans(db, ROOM)
    for upper, lower in itertools.pairwise(stored):
        assert lower.newest_created < upper.oldest_created
    return [(s.newest_id, s.oldest_id, s.reaches_start) for s in stored]


def walk(db: Database, current: Span | None, *pages: list[dict], last: bool = False) -> Span | None:
    for number, items in enumerate(pages, 1):
        with store.transaction(db):
            current = record_page(db, ROOM, current, items, last and number == len(pages))
    return current


def test_walk_down_to_the_start(db: Database):
    first = walk(db, None, page(100, 91))
    assert spans(db) == [("m0100", "m0091", False)]
    second = walk(db, first, page(90, 81))
    assert second.id == first.id and spans(db) == [("m0100", "m0081", False)]
    done = walk(db, second, page(80, 71), page(70, 61), last=True)
    assert done.reaches_start and spans(db) == [("m0100", "m0061", True)]


def test_page_within_a_span_changes_nothing(db: Database):
    whole = walk(db, None, page(100, 51))
    assert walk(db, whole, page(80, 71)) == whole
    assert walk(db, None, page(100, 91)) == whole  # a re-run with nothing new: same span
    assert spans(db) == [("m0100", "m0051", False)]


def test_new_messages_above_a_span_join_it(db: Database):
    old = walk(db, None, page(100, 51))
    joined = walk(db, None, page(103, 94))
    assert joined.id == old.id and joined.oldest_id == "m0051"  # the walk jumps to m0051
    assert spans(db) == [("m0103", "m0051", False)]


def test_walk_reaching_an_older_span_merges_and_jumps_below_it(db: Database):
    older = walk(db, None, page(50, 1), last=True)
    current = walk(db, None, page(120, 111), page(110, 101))
    assert spans(db) == [("m0120", "m0101", False), ("m0050", "m0001", True)]
    current = walk(db, current, page(100, 51))  # ends just above the older span: still apart
    assert spans(db) == [("m0120", "m0051", False), ("m0050", "m0001", True)]
    merged = walk(db, current, page(50, 41))  # holds the older span's newest message
    assert merged.id == current.id and merged.oldest_id == "m0001" and merged.reaches_start
    assert spans(db) == [("m0120", "m0001", True)]
    assert older.id not in [s.id for s in get_spans(db, ROOM)]


def test_merge_when_the_older_spans_newest_message_was_deleted(db: Database):
    walk(db, None, page(50, 1))
    current = walk(db, None, page(60, 51))
    merged = walk(db, current, [m for m in page(50, 41) if m["id"] != "m0050"])
    assert merged.oldest_id == "m0001" and spans(db) == [("m0060", "m0001", False)]


def test_two_disjoint_spans_stay_apart(db: Database):
    walk(db, None, page(50, 41))
    current = walk(db, None, page(100, 91))
    current = walk(db, current, page(90, 81))
    assert spans(db) == [("m0100", "m0081", False), ("m0050", "m0041", False)]
    assert [s.newest_id for s in get_spans(db, ROOM2)] == []


def test_empty_pages(db: Database):
    assert walk(db, None, []) is None
    current = walk(db, None, page(10, 5))
    assert walk(db, current, []) == current
    assert walk(db, current, [], last=True).reaches_start
    assert spans(db) == [("m0010", "m0005", True)]


def test_coverage_and_page_commit_together(db: Database):
    with pytest.raises(RuntimeError), store.transaction(db):
        store.save_messages(db, [PLAIN], NOW)
        record_page(db, ROOM, None, [PLAIN])
        raise RuntimeError("connection dropped")
    with store.transaction(db):
        store.save_messages(db, [PLAIN], NOW)
        current = record_page(db, ROOM, None, [PLAIN])
    assert get_spans(db, ROOM) == [current]
    assert rows(db, "SELECT id FROM messages") == [{"id": M1}]


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

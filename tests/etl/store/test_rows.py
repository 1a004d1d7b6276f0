"""etl/store/rows.py: API objects to rows, pure functions, exact dictionaries."""

from __future__ import annotations

import json

import pytest

from etl import store
from tests.etl.store.conftest import (
    ALICE,
    BOB,
    CARD,
    CAROL,
    DAVE,
    EDITED,
    FILE_A,
    FILE_B,
    M1,
    M2,
    M3,
    M4,
    M5,
    NOW,
    ORG,
    PERSON_ALICE,
    PLAIN,
    REPLY,
    ROOM,
    ROOM_JSON,
    WITH_FILES,
    compact,
    membership,
    wid,
)

MESSAGE_NULLS = dict.fromkeys(
    "id space_id room_type parent_id person_id person_email text markdown html files attachments "
    "mentioned_people mentioned_groups is_voice_clip created updated raw first_seen_at "
    "last_seen_at deleted_at".split()
)


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

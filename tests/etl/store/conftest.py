"""The sample API objects and the archive fixture shared by the store tests: Webex-shaped
ids, one space, seven messages covering every kind (reply, files, edit, card, orphan), two
people. Test modules import the constants from here, as tests/render does from its conftest."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlite_utils import Database

from etl import store


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

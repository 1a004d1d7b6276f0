"""A small hand-built archive for render tests: every row typed in, every count known.

Written straight into SQLite (no emulator, no sync), so the expected output can be worked out
by hand. It holds one group space, ``Project Falcon``, with 14 messages from February to April
2024 that cover what render must get right:

    msg-01  2024-02-10T09:00Z  Alice   thread start (outside a --since 2024-03-01 window)
    msg-02  2024-02-20T10:00Z  Bob     external author (another org)
    msg-03  2024-03-05T08:15Z  Carol   html only (no text), mentions Alice and Bob, a <script>
    msg-04  2024-03-10T12:00Z  Alice   reply to msg-01
    msg-05  2024-03-12T14:00Z  Bob     edited at 14:05Z
    msg-06  2024-03-15T16:00Z  Carol   deleted in Webex (seen deleted 2024-03-20)
    msg-07  2024-03-18T09:30Z  Bob     an adaptive card with fallback text
    msg-08  2024-03-20T11:00Z  Alice   two files: slides.pdf (downloaded), photo.png (info)
    msg-09  2024-03-31T00:30Z  Carol   01:30+01:00 in Amsterdam, just before DST starts
    msg-10  2024-03-31T01:30Z  Alice   03:30+02:00 in Amsterdam, just after
    msg-11  2024-04-02T07:00Z  Bob     reply to msg-00, which the archive never had
    msg-12  2024-04-03T10:00Z  Eve     hostile text (ESC, NUL, BEL, </script>, RLO), @all
    msg-13  2024-04-03T10:02Z  Alice   reply to msg-09
    msg-14  2024-04-04T08:00Z  Carol   reply to msg-09, two lines

The archive's owner is Mara Meijer (org-a, example.com); Dave Departed left the space; Eve's
display name is hostile too.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from etl import store
from render.model import Item

SPACE_ID = "space-falcon"
SEEN = "2024-04-05T10:00:00.000Z"
ME = {"me_id": "p-mara", "me_email": "mara@example.com", "me_name": "Mara Meijer",
      "me_org_id": "org-a"}  # fmt: skip

# id, display name, email, org
PEOPLE = [
    ("p-alice", "Alice Example", "alice@example.com", "org-a"),
    ("p-bob", "Bob Builder", "bob@partner.org", "org-b"),
    ("p-carol", "Carol Chen", "carol@example.com", "org-a"),
    ("p-eve", "Eve\x00 \u202eEvil\x07", "eve@evil.test", "org-c"),  # NUL, RLO, BEL
    ("p-mara", "Mara Meijer", "mara@example.com", "org-a"),
    ("p-dave", "Dave Departed", "dave@example.com", "org-a"),
]

HTML_03 = (
    '<p>Hi <spark-mention data-object-type="person" data-object-id="p-alice">Alice Example'
    '</spark-mention> and <spark-mention data-object-type="person" data-object-id="p-bob">'
    'Bob Builder</spark-mention>, see <a href="https://example.com/plan">the plan</a>.'
    "<script>alert(2)</script></p>"
)
HOSTILE = (
    "\x1b[2J\x1b[31mred alert\x00 </script><script>alert(1)</script>\r\n"
    "line two\x07 \u202eevil\x9b31m"
)
CARD = '[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"body":[]}}]'

# id, created, author, text, extra columns
MESSAGES = [
    ("msg-01", "2024-02-10T09:00:00.000Z", "p-alice", "Kick-off notes:\n- scope\n- budget", {}),
    ("msg-02", "2024-02-20T10:00:00.000Z", "p-bob", "Thanks for having us.", {}),
    ("msg-03", "2024-03-05T08:15:00.000Z", "p-carol", None,
     {"html": HTML_03, "mentioned_people": '["p-alice","p-bob"]'}),
    ("msg-04", "2024-03-10T12:00:00.000Z", "p-alice", "Budget approved.",
     {"parent_id": "msg-01"}),
    ("msg-05", "2024-03-12T14:00:00.000Z", "p-bob", "Draft is ready (v2).",
     {"updated": "2024-03-12T14:05:00.000Z"}),
    ("msg-06", "2024-03-15T16:00:00.000Z", "p-carol", "Wrong space, sorry.",
     {"deleted_at": "2024-03-20T00:00:00.000Z"}),
    ("msg-07", "2024-03-18T09:30:00.000Z", "p-bob", "Poll: lunch on Friday?",
     {"attachments": CARD}),
    ("msg-08", "2024-03-20T11:00:00.000Z", "p-alice", "Slides and a photo attached.",
     {"files": '["https://webexapis.com/v1/contents/c1","https://webexapis.com/v1/contents/c2"]'}),
    ("msg-09", "2024-03-31T00:30:00.000Z", "p-carol", "Before the clock change.", {}),
    ("msg-10", "2024-03-31T01:30:00.000Z", "p-alice", "After the clock change.", {}),
    ("msg-11", "2024-04-02T07:00:00.000Z", "p-bob", "Replying to a lost message.",
     {"parent_id": "msg-00"}),
    ("msg-12", "2024-04-03T10:00:00.000Z", "p-eve", HOSTILE, {"mentioned_groups": '["all"]'}),
    ("msg-13", "2024-04-03T10:02:00.000Z", "p-alice", "Noted.", {"parent_id": "msg-09"}),
    ("msg-14", "2024-04-04T08:00:00.000Z", "p-carol", "Two\nlines.", {"parent_id": "msg-09"}),
]  # fmt: skip

FILES = [
    {"url": "https://webexapis.com/v1/contents/c1", "message_id": "msg-08", "position": 0,
     "content_id": "c1", "name": "slides.pdf", "content_type": "application/pdf",
     "size": 1536000, "status": "downloaded", "local_path": "Project Falcon/files/slides.pdf"},
    {"url": "https://webexapis.com/v1/contents/c2", "message_id": "msg-08", "position": 1,
     "content_id": "c2", "name": "photo.png", "content_type": "image/png", "size": 20480,
     "status": "info", "local_path": None},
]  # fmt: skip


def insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    """Rows of one table; every row names its own columns."""
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join(f":{key}" for key in row)
        conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)


def space_rows() -> list[dict]:
    return [{"id": SPACE_ID, "title": "Project Falcon", "type": "group",
             "created": "2023-12-01T08:00:00.000Z", "folder": "Project Falcon", "raw": "{}",
             "first_synced_at": SEEN, "last_synced_at": SEEN}]  # fmt: skip


def people_rows() -> list[dict]:
    return [{"id": pid, "display_name": name, "email": email, "org_id": org, "type": "person",
             "emails": json.dumps([email]), "raw": "{}", "fetched_at": SEEN}
            for pid, name, email, org in PEOPLE]  # fmt: skip


def membership_rows() -> list[dict]:
    rows = []
    for pid, name, email, org in PEOPLE:
        rows.append({"id": f"mem-{pid}", "space_id": SPACE_ID, "person_id": pid,
                     "person_email": email, "person_display_name": name, "person_org_id": org,
                     "is_moderator": int(pid == "p-mara"), "created": "2023-12-01T08:00:00.000Z",
                     "raw": "{}", "first_seen_at": SEEN, "last_seen_at": SEEN,
                     "left_at": SEEN if pid == "p-dave" else None})  # fmt: skip
    return rows


def message_rows() -> list[dict]:
    emails = {pid: email for pid, _, email, _ in PEOPLE}
    rows = []
    for mid, created, author, text, extra in MESSAGES:
        rows.append({"id": mid, "space_id": SPACE_ID, "room_type": "group",
                     "person_id": author, "person_email": emails[author], "text": text,
                     "created": created, "raw": "{}", "first_seen_at": SEEN,
                     "last_seen_at": SEEN, **extra})  # fmt: skip
    return rows


def build_archive(folder: Path) -> Path:
    """Create the archive in ``folder`` (schema from etl.store) and fill it by hand."""
    db = store.open_archive(folder)
    conn = db.conn
    with conn:
        insert(conn, "spaces", space_rows())
        insert(conn, "people", people_rows())
        insert(conn, "memberships", membership_rows())
        insert(conn, "messages", message_rows())
        insert(conn, "files", [row | {"space_id": SPACE_ID} for row in FILES])
        insert(conn, "meta", [{"key": key, "value": value} for key, value in ME.items()])
    conn.close()
    return folder


@pytest.fixture
def small_archive(tmp_path: Path) -> Path:
    """The hand-built archive above, in its own folder; returns the archive folder."""
    return build_archive(tmp_path / "archive")


def make_item(**fields: object) -> Item:
    """A message Item for writer tests: a top-level message in the window by ``p``, with
    ``fields`` replacing any of the defaults."""
    values = {"id": "m", "kind": "message", "is_reply": False, "in_window": True, "thread": "m",
              "created": None, "updated": None, "deleted": None, "month": None, "author": "a",
              "email": "", "author_id": "p", "external": False, "avatar": None, "body": "",
              "plain": "", "card": False, "files": [], "group_start": True,
              "source": None}  # fmt: skip
    assert set(fields) <= set(values), set(fields) - set(values)
    item = Item()
    for name, value in (values | fields).items():
        setattr(item, name, value)
    return item

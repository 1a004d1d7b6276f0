"""The Slack-export ZIP over the hand-built archive of conftest.py: its exact shape, threads as
Slack writes them, a direct space as a DM, --blur, and slack-export-viewer reading it."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from render import RenderOptions, render_spaces
from render.query import Filters
from tests.render.conftest import PEOPLE, SEEN, SPACE_ID

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SLIDES = b"%PDF-1.4 the slides\n"


def uid(person: str) -> str:
    return "U" + hashlib.sha256(person.encode()).hexdigest()[:10].upper()


def ts(created_seconds: int, message_id: str, ms: int = 0) -> str:
    spread = int(hashlib.sha256(message_id.encode()).hexdigest()[:6], 16) % 1000
    return f"{created_seconds}.{ms:03d}{spread:03d}"


EVERYTHING = Filters()
VIEWER = Path(sys.executable).parent / "slack-export-viewer"


def export(archive: Path, filters: Filters = EVERYTHING, space: str = SPACE_ID, **options):
    """Render ``space`` as a Slack ZIP; return the ZIP's path and its entries, parsed."""
    options = {"zone": AMSTERDAM, "zone_name": "Europe/Amsterdam"} | options
    chosen = RenderOptions(filters=filters, formats=("slack",), **options)
    written = render_spaces(archive, [space], False, chosen)
    path = written[0]
    with zipfile.ZipFile(path) as zipped:
        entries = {
            name: zipped.read(name) if name.startswith("__uploads/") else json.loads(
                zipped.read(name))
            for name in zipped.namelist()
        }  # fmt: skip
    return path, entries


@pytest.fixture
def archive(small_archive: Path) -> Path:
    folder = small_archive / "Project Falcon" / "files"
    folder.mkdir(parents=True)
    (folder / "slides.pdf").write_bytes(SLIDES)
    return small_archive


def test_the_export_has_the_shape_of_a_slack_export(archive):
    path, entries = export(archive)
    assert path == archive / "Project Falcon" / "Project Falcon.slack.zip"
    days = ["2024-02-10", "2024-02-20", "2024-03-05", "2024-03-10", "2024-03-12",
            "2024-03-15", "2024-03-18", "2024-03-20", "2024-03-31", "2024-04-02",
            "2024-04-03", "2024-04-04"]  # fmt: skip
    upload = f"__uploads/{'F' + hashlib.sha256(b'msg-08/0').hexdigest()[:10].upper()}/slides.pdf"
    assert sorted(entries) == sorted(
        ["users.json", "channels.json", "dms.json", "mpims.json", upload]
        + [f"project-falcon/{day}.json" for day in days]
    )
    assert entries[upload] == SLIDES
    assert entries["dms.json"] == entries["mpims.json"] == []
    members = [uid(p) for p in ("p-alice", "p-bob", "p-carol", "p-eve", "p-mara")]
    assert entries["channels.json"] == [{
        "id": "C" + hashlib.sha256(SPACE_ID.encode()).hexdigest()[:10].upper(),
        "name": "project-falcon", "created": 1701417600, "creator": "",
        "is_archived": False, "is_general": False,
        "members": sorted(members, key=[uid(p) for p in
                          ("p-alice", "p-bob", "p-carol", "p-eve", "p-mara")].index),
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
    }]  # fmt: skip
    shown = {"p-eve": "Eve Evil"}
    expected_users = sorted(
        (
            {"id": uid(pid), "name": email.split("@")[0], "real_name": shown.get(pid, name),
             "deleted": pid == "p-dave", "is_bot": False,
             "profile": {"real_name": shown.get(pid, name), "display_name": shown.get(pid, name),
                         "email": email}}
            for pid, name, email, _ in PEOPLE
        ),
        key=lambda user: user["id"],
    )  # fmt: skip
    assert entries["users.json"] == expected_users


def test_threads_are_as_slack_writes_them(archive):
    _, entries = export(archive)
    carol, alice = uid("p-carol"), uid("p-alice")
    start = ts(1711845000, "msg-09")
    first, second = ts(1712138520, "msg-13"), ts(1712217600, "msg-14")
    assert entries["project-falcon/2024-03-31.json"] == [
        {"type": "message", "user": carol, "text": "Before the clock change.", "ts": start,
         "user_profile": {"real_name": "Carol Chen", "name": "carol"},
         "webex": {"message_id": "msg-09", "parent_id": None, "edited": None, "deleted": None,
                   "outside_window": False},
         "replies": [{"user": alice, "ts": first}, {"user": carol, "ts": second}],
         "thread_ts": start, "reply_count": 2, "reply_users_count": 2,
         "reply_users": [alice, carol], "latest_reply": second},
        {"type": "message", "user": alice, "text": "After the clock change.",
         "ts": ts(1711848600, "msg-10"),
         "user_profile": {"real_name": "Alice Example", "name": "alice"},
         "webex": {"message_id": "msg-10", "parent_id": None, "edited": None, "deleted": None,
                   "outside_window": False}},
    ]  # fmt: skip
    reply = entries["project-falcon/2024-04-04.json"]
    assert reply == [
        {"type": "message", "user": carol, "text": "Two\nlines.", "ts": second,
         "user_profile": {"real_name": "Carol Chen", "name": "carol"},
         "webex": {"message_id": "msg-14", "parent_id": "msg-09", "edited": None,
                   "deleted": None, "outside_window": False},
         "thread_ts": start, "parent_user_id": carol},
    ]  # fmt: skip
    lost = entries["project-falcon/2024-04-02.json"][0]  # its thread start was never archived
    assert "thread_ts" not in lost and lost["webex"]["parent_id"] == "msg-00"
    edited = entries["project-falcon/2024-03-12.json"][0]
    assert edited["edited"] == {"user": uid("p-bob"), "ts": ts(1710252300, "msg-05")}
    deleted = entries["project-falcon/2024-03-15.json"][0]
    assert deleted["webex"]["deleted"] == "2024-03-20T00:00:00.000Z"
    hostile = entries["project-falcon/2024-04-03.json"][0]
    assert hostile["text"] == (
        "red alert &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;\nline two evil"
    )
    files = entries["project-falcon/2024-03-20.json"][0]["files"]
    assert [(f["name"], f.get("url_private"), f.get("webex_status")) for f in files] == [
        ("slides.pdf", f"__uploads/{files[0]['id']}/slides.pdf", None),
        ("photo.png", None, "not downloaded"),
    ]


def test_filters_choose_the_days_and_keep_thread_starts_as_context(archive):
    _, entries = export(archive, Filters(since="2024-03-10", until="2024-03-11"))
    days = sorted(name for name in entries if name.startswith("project-falcon/"))
    assert days == ["project-falcon/2024-02-10.json", "project-falcon/2024-03-10.json"]
    start = entries["project-falcon/2024-02-10.json"][0]
    assert start["webex"]["outside_window"] is True and start["reply_count"] == 1
    assert entries["project-falcon/2024-03-10.json"][0]["thread_ts"] == start["ts"]


def add_direct_space(archive: Path) -> str:
    conn = sqlite3.connect(archive / "archive.db")
    with conn:
        conn.execute(
            "INSERT INTO spaces (id, title, type, created, folder, raw) "
            "VALUES ('space-dm', 'Bob Builder', 'direct', '2024-01-01T00:00:00.000Z', "
            "'Bob Builder', '{}')"
        )
        for pid in ("p-bob", "p-mara"):
            conn.execute(
                "INSERT INTO memberships (id, space_id, person_id, person_email, raw, "
                "first_seen_at, last_seen_at) VALUES (?, 'space-dm', ?, ?, '{}', ?, ?)",
                (f"dm-{pid}", pid, f"{pid}@x.test", SEEN, SEEN),
            )
        conn.execute(
            "INSERT INTO messages (id, space_id, room_type, person_id, person_email, text, "
            "created, raw, first_seen_at, last_seen_at) VALUES ('dm-1', 'space-dm', 'direct', "
            "'p-bob', 'bob@partner.org', 'Hi Mara Meijer', '2024-01-02T10:00:00.000Z', '{}', ?, ?)",
            (SEEN, SEEN),
        )
    conn.close()
    return "space-dm"


def test_a_direct_space_is_a_dm(archive):
    space = add_direct_space(archive)
    _, entries = export(archive, space=space)
    dm = "D" + hashlib.sha256(b"space-dm").hexdigest()[:10].upper()
    assert entries["channels.json"] == entries["mpims.json"] == []
    assert entries["dms.json"] == [{"id": dm, "created": 1704067200,
                                    "members": [uid("p-bob"), uid("p-mara")]}]  # fmt: skip
    assert [name for name in entries if "/" in name] == [f"{dm}/2024-01-02.json"]


def test_blur_leaves_no_name_email_or_person_id_in_the_export(archive):
    space = add_direct_space(archive)
    for which in (SPACE_ID, space):
        path, entries = export(archive, space=which, blur=True)
        assert path.parent == archive / "blurred"
        with zipfile.ZipFile(path) as zipped:
            texts = [zipped.read(name).decode("utf-8", "replace") for name in zipped.namelist()]
            texts += zipped.namelist()
        secrets = [value for pid, name, email, _ in PEOPLE for value in (name, email, uid(pid))]
        for secret in [*secrets, "Eve Evil", "bob@x.test", "Mara Meijer"]:
            assert all(secret.lower() not in text.lower() for text in texts), (which, secret)
        ids = {user["id"] for user in entries["users.json"]}
        assert all(user.startswith("UHIDDEN") for user in ids)
        if which == space:
            assert entries["users.json"][0]["real_name"].startswith("Person ")


@pytest.mark.skipif(not VIEWER.exists(), reason="slack-export-viewer is not installed")
def test_slack_export_viewer_reads_the_export(archive, tmp_path):
    path, _ = export(archive)
    viewer = VIEWER
    out = tmp_path / "viewer"
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # it unpacks the ZIP in the temp folder
    result = subprocess.run(
        [str(viewer), "-z", str(path), "--html-only", "-o", str(out), "--no-browser",
         "--no-external-references"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = (out / "channel" / "project-falcon" / "index.html").read_text(encoding="utf-8")
    for text in ("Kick-off notes:", "Before the clock change.", "After the clock change.",
                 "Carol Chen", "Bob Builder", "__uploads/"):  # fmt: skip
        assert text in page, text
    # the two replies are shown as replies, right after their thread's first message
    start = page.index("Before the clock change.")
    first, second = page.index("Noted."), page.index("Two<br>lines.")
    assert start < first < second < page.index("After the clock change.")
    assert page.count('class="reply"') == 3  # msg-04, msg-13, msg-14 (msg-11's start is lost)


@pytest.mark.parametrize(
    "created",
    ["2024-03-05T08:15:00.123Z", "2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z",
     "2038-01-19T03:14:08.001Z", "1969-12-31T23:59:59.500Z", "1901-06-01T12:00:00.250Z",
     "2024-03-05T08:15:00Z", "2024-03-05T08:15:00.5Z", "2024-03-05T09:15:00.123+01:00"],
)  # fmt: skip
def test_a_ts_read_from_the_digits_is_the_one_a_datetime_gives(created):
    """slack_ts with its per-day memory (the fast path for the archive's usual times) says
    what it says without it, before 1970 and for other forms of a time too."""
    from render.slack_entries import slack_ts

    days: dict[str, int] = {}
    assert slack_ts(created, "msg-1", days) == slack_ts(created, "msg-1")
    assert slack_ts(created, "msg-1", days) == slack_ts(created, "msg-1")  # remembered day


@pytest.mark.parametrize("blur", [False, True])
def test_each_day_file_is_the_json_the_encoder_writes_for_its_entries(archive, blur):
    """The entries are made as text (render/slack_entries.py): byte for byte what ``json``
    writes for the same dicts, compact, in Slack's key order (hostile text, edits, files,
    threads and a lost thread start included)."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    path, entries = export(archive, blur=blur)
    with zipfile.ZipFile(path) as zipped:
        days = [name for name in zipped.namelist() if name.endswith(".json") and "/" in name]
        assert len(days) == 12
        for name in days:
            expected = "[\n" + ",\n".join(map(encoder.encode, entries[name])) + "\n]\n"
            assert zipped.read(name) == expected.encode("utf-8"), name
    start, reply = entries[days[8]][0], entries[days[-1]][0]
    webex = ["type", "user", "text", "ts", "user_profile", "webex"]
    assert list(start) == [*webex, "replies", "thread_ts", "reply_count", "reply_users_count",
                           "reply_users", "latest_reply"]  # fmt: skip
    assert list(reply) == [*webex, "thread_ts", "parent_user_id"]
    edited = entries[days[4]][0]
    assert list(edited) == ["type", "user", "text", "ts", "user_profile", "edited", "webex"]
    assert list(entries[days[7]][0])[5] == "files"

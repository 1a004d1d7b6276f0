"""Avatars against the emulator's unauthenticated CDN, and a server that records headers."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from etl.files.avatars import avatar_file_name, download_avatars
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room
from webex_emulator import Rule
from webex_emulator.media import Recipe

NOW = "2026-11-01T12:40:00.000Z"
LATER = "2026-11-02T08:00:00.000Z"
JPEG = b"\xff\xd8\xff\xe0 not really a jpeg"


@pytest.fixture
def room_id(dataset, emu, client, db):
    """The first group space, synced (people included); the log cleared."""
    room = group_room(dataset)
    sync_spaces(db, client, [room["id"]], SyncOptions())
    emu.log.clear()
    return room["id"]


@pytest.fixture
def recorder():
    """A plain HTTP server that answers every GET with JPEG bytes and records the headers."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def authors_with_avatars(dataset, room_id: str) -> dict[str, str]:
    """person id → avatar key, for the room's authors who have one (from the data set)."""
    authors = {m["personId"] for m in dataset.messages.values() if m["roomId"] == room_id}
    return {
        pid: dataset.people[pid]["avatar"]
        for pid in authors
        if pid in dataset.people and "avatar" in dataset.people[pid]
    }


def avatar_rows(db, space_id: str) -> dict[str, dict]:
    return {
        r["person_id"]: r for r in db.query("SELECT * FROM avatars WHERE space_id = ?", [space_id])
    }


def avatar_gets(emu) -> list[str]:
    return [e.path for e in emu.log.entries() if e.path.startswith("/avatars/")]


def folder_name(db, space_id: str) -> str:
    return db.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()[0]


def test_each_author_avatar_is_downloaded_once(dataset, emu, client, db, tmp_path, room_id):
    expected = authors_with_avatars(dataset, room_id)
    assert len(expected) >= 5

    counts = download_avatars(db, client, room_id, tmp_path, NOW)

    assert counts == {"downloaded": len(expected), "unchanged": 0, "failed": 0}
    folder = folder_name(db, room_id)
    found = avatar_rows(db, room_id)
    assert set(found) == set(expected)
    for person_id, key in expected.items():
        body = dataset.avatars[key].make("image/png")
        row = found[person_id]
        assert row["url"] == f"{emu.url}/avatars/{key}~1600"
        assert row["local_path"] == f"{folder}/avatars/{avatar_file_name(person_id, 'image/png')}"
        assert (tmp_path / row["local_path"]).read_bytes() == body
        assert row["sha256"] == hashlib.sha256(body).hexdigest()
        assert row["fetched_at"] == NOW
    assert sorted(avatar_gets(emu)) == sorted(f"/avatars/{key}~1600" for key in expected.values())
    assert sorted(p.name for p in (tmp_path / folder / "avatars").iterdir()) == sorted(
        avatar_file_name(pid, "image/png") for pid in expected
    )

    emu.log.clear()
    again = download_avatars(db, client, room_id, tmp_path, LATER)
    assert again == {"downloaded": 0, "unchanged": len(expected), "failed": 0}
    assert emu.log.entries() == []
    assert {r["fetched_at"] for r in avatar_rows(db, room_id).values()} == {NOW}


def test_an_avatar_is_fetched_again_when_its_url_changes(
    dataset, emu, client, db, tmp_path, room_id
):
    expected = authors_with_avatars(dataset, room_id)
    download_avatars(db, client, room_id, tmp_path, NOW)
    person_id = sorted(expected)[0]
    dataset.avatars["V1~0123456789abcdef"] = Recipe("png", seed=99, width=64, height=64)
    dataset.people[person_id]["avatar"] = "V1~0123456789abcdef"
    sync_spaces(db, client, [room_id], SyncOptions(stale_days=0))  # people fetched again
    emu.log.clear()

    counts = download_avatars(db, client, room_id, tmp_path, LATER)

    assert counts == {"downloaded": 1, "unchanged": len(expected) - 1, "failed": 0}
    assert avatar_gets(emu) == ["/avatars/V1~0123456789abcdef~1600"]
    row = avatar_rows(db, room_id)[person_id]
    assert row["url"] == f"{emu.url}/avatars/V1~0123456789abcdef~1600"
    assert row["fetched_at"] == LATER
    new = Recipe("png", seed=99, width=64, height=64).make("image/png")
    assert (tmp_path / row["local_path"]).read_bytes() == new


def test_no_token_goes_to_the_avatar_host(emu, client, db, tmp_path, room_id, recorder):
    base, seen = recorder
    person_id = db.execute(
        "SELECT person_id FROM messages WHERE space_id = ? AND person_id IN "
        "(SELECT id FROM people WHERE avatar IS NOT NULL) ORDER BY person_id LIMIT 1",
        [room_id],
    ).fetchone()[0]
    db.execute("UPDATE people SET avatar = ? WHERE id = ?", [f"{base}/a~1600", person_id])
    db.conn.commit()

    counts = download_avatars(db, client, room_id, tmp_path, NOW)

    assert counts["failed"] == 0
    assert len(seen) == 1 and "authorization" not in seen[0]
    row = avatar_rows(db, room_id)[person_id]
    assert row["local_path"].endswith(f"/avatars/{avatar_file_name(person_id, 'image/jpeg')}")
    assert row["local_path"].endswith(".jpg")
    assert (tmp_path / row["local_path"]).read_bytes() == JPEG
    # even a plain API request keeps the token from another port of the same host ...
    client.request("GET", f"{base}/control").close()
    assert "authorization" not in seen[1]
    # ... while the recorder does see the header when it is sent: the checks are not vacuous
    requests.get(f"{base}/control", headers={"Authorization": "Bearer x"}, timeout=5).close()
    assert seen[2]["authorization"] == "Bearer x"


def test_failures_are_counted_and_retried_next_time(
    dataset, emu, client, sleeps, db, tmp_path, room_id
):
    expected = authors_with_avatars(dataset, room_id)
    missing, dropped, *_ = sorted(expected)
    recipe = dataset.avatars.pop(expected[missing])  # the CDN answers 404
    emu.add_fault(Rule("drop", rate=1.0, times=1, path=f"/avatars/{expected[dropped]}"))
    lines = []

    counts = download_avatars(
        db, client, room_id, tmp_path, NOW, notify=lambda *shown: lines.append(shown)
    )

    assert counts == {"downloaded": len(expected) - 1, "unchanged": 0, "failed": 1}
    assert missing not in avatar_rows(db, room_id)
    failures = [line for line in lines if len(line) == 1]  # the rest: ("avatars", done, total)
    assert failures == [(f"avatar of {missing} not downloaded: Webex does not know "
                         f"/avatars/{expected[missing]}~1600 (404): The requested resource "
                         "could not be found.",)]  # fmt: skip
    assert [line for line in lines if len(line) == 3][-1] == (
        "avatars",
        len(expected),
        len(expected),
    )
    assert sleeps == [0.5]  # the dropped body, fetched again
    body = dataset.avatars[expected[dropped]].make("image/png")
    assert (tmp_path / avatar_rows(db, room_id)[dropped]["local_path"]).read_bytes() == body
    folder = tmp_path / folder_name(db, room_id) / "avatars"
    assert not any(p.name.endswith(".part") for p in folder.iterdir())

    dataset.avatars[expected[missing]] = recipe
    emu.log.clear()
    again = download_avatars(db, client, room_id, tmp_path, LATER)
    assert again == {"downloaded": 1, "unchanged": len(expected) - 1, "failed": 0}
    assert avatar_gets(emu) == [f"/avatars/{expected[missing]}~1600"]


def test_a_missing_file_is_fetched_again(dataset, emu, client, db, tmp_path, room_id):
    download_avatars(db, client, room_id, tmp_path, NOW)
    row = next(iter(avatar_rows(db, room_id).values()))
    (tmp_path / row["local_path"]).unlink()
    emu.log.clear()

    counts = download_avatars(db, client, room_id, tmp_path, LATER)

    assert counts["downloaded"] == 1
    assert (tmp_path / row["local_path"]).is_file()
    assert len(avatar_gets(emu)) == 1


# ----- the file name ---------------------------------------------------------------------------


def test_avatar_file_name_is_the_ids_letters_and_a_hash():
    person_id = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x"
    digest = hashlib.sha256(person_id.encode()).hexdigest()[:16]
    assert avatar_file_name(person_id, "image/png") == f"{person_id}-{digest}.png"
    assert avatar_file_name(person_id, None) == f"{person_id}-{digest}.png"
    assert avatar_file_name(person_id, "image/jpeg") == f"{person_id}-{digest}.jpg"
    assert avatar_file_name(person_id, "IMAGE/GIF; q=1") == f"{person_id}-{digest}.gif"
    assert avatar_file_name(person_id, "text/html") == f"{person_id}-{digest}.png"


@pytest.mark.parametrize(
    "person_id",
    ["abc=", "abc-", "abc_", "abc", "../../etc/passwd", "", "图片", "a/b\\c:d", "x" * 500],
)
def test_avatar_file_names_are_safe_and_distinct(person_id):
    name = avatar_file_name(person_id, "image/png")
    stem = name.removesuffix(".png")
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in stem)
    assert len(name) <= 100 + len("-") + 16 + len(".webp")
    others = ["abc=", "abc-", "abc_", "abc", "../../etc/passwd", "", "图片", "a/b\\c:d", "x" * 500]
    assert [avatar_file_name(o, "image/png") == name for o in others].count(True) == 1

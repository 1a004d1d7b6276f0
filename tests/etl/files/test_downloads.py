"""Attachment downloads against the emulator: names, bytes, mtimes, dedupe, faults and verdicts."""

from __future__ import annotations

import calendar
import hashlib
import time
from pathlib import Path

import pytest

from etl.api import AuthError
from etl.files.downloads import download_files, is_image, mtime_ns
from etl.store import open_archive, transaction
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room, make_dataset
from webex_emulator import Faults, Rule

NOW = "2026-11-01T12:40:00.000Z"
LATER = "2026-11-02T08:00:00.000Z"
ZERO = {"downloaded": 0, "deduplicated": 0, "gone": 0, "infected": 0, "unscannable": 0,
        "failed": 0, "bytes": 0}  # fmt: skip
# seed 3 puts every file kind of the generator (and a voice clip) into one space
ALL_KINDS = {"seed": 3, "messages": 200, "spaces": 1, "hostile_rate": 0}


@pytest.fixture
def dataset(request):
    return make_dataset(**getattr(request, "param", {"messages": 60}))


@pytest.fixture
def archive(tmp_path):
    """The archive folder, one level down, so that tests can see what lands beside it."""
    return tmp_path / "archive"


@pytest.fixture
def db(archive):
    database = open_archive(archive)
    yield database
    database.conn.close()


def synced(db, client, emu, room: dict) -> str:
    """Sync the space (messages, members, HEADs of its files); clear the log; its id."""
    sync_spaces(db, client, [room["id"]], SyncOptions())
    emu.log.clear()
    return room["id"]


def content_id(url: str) -> str:
    return url.split("/v1/contents/", 1)[1].split("?", 1)[0]


def rows(db, space_id: str) -> dict[str, dict]:
    found = db.query("SELECT * FROM files WHERE space_id = ?", [space_id])
    return {content_id(row["url"]): row for row in found}


def gets(emu) -> list[tuple[str, int, str]]:
    """(content id, status, fault) of each file GET, in order."""
    return [
        (content_id(e.path), e.status, e.fault)
        for e in emu.log.entries()
        if e.method == "GET" and e.path.startswith("/v1/contents/")
    ]


def space_dir(db, archive: Path, space_id: str) -> Path:
    folder = db.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()[0]
    return archive / folder


def tree(folder: Path) -> list[str]:
    """Every file below ``folder``, '/'-separated, hidden ones included."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def utc_ns(created: str) -> int:
    """An API time as epoch nanoseconds, worked out without datetime."""
    seconds = calendar.timegm(time.strptime(created[:19], "%Y-%m-%dT%H:%M:%S"))
    return seconds * 10**9 + int(created[20:23]) * 10**6


def in_order(dataset, room_id: str) -> list[tuple[dict, str]]:
    """(message, content id) of the room's files in message order."""
    messages = [m for m in dataset.messages.values() if m["roomId"] == room_id]
    messages.sort(key=lambda m: (m["created"], m["id"]))
    return [(m, cid) for m in messages for cid in m.get("files", [])]


@pytest.fixture
def sao_paulo(monkeypatch):
    """A local zone far from UTC: mtimes must not depend on it."""
    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# ----- every kind of file --------------------------------------------------------------------


def expected_paths(dataset, room_id: str) -> dict[str, str]:
    """content id → 'images|files/<name>': the generator's names are already safe, so only
    a repeated name changes (' (2)', ' (3)' in message order, per folder)."""
    seen: dict[str, int] = {}
    paths = {}
    for _, cid in in_order(dataset, room_id):
        content = dataset.contents[cid]
        sub = "images" if content.content_type.startswith("image/") else "files"
        count = seen[sub + content.filename] = seen.get(sub + content.filename, 0) + 1
        stem, dot, ext = content.filename.rpartition(".")
        paths[cid] = f"{sub}/{content.filename if count == 1 else f'{stem} ({count}){dot}{ext}'}"
    return paths


@pytest.mark.parametrize("dataset", [ALL_KINDS], indirect=True)
def test_every_kind_of_file_lands_with_its_bytes_name_and_time(
    dataset, emu, client, db, archive, sao_paulo
):
    room_id = synced(db, client, emu, group_room(dataset))
    lines = []

    counts = download_files(
        db, client, room_id, archive, "files", NOW, progress=lambda *shown: lines.append(shown)
    )

    files = in_order(dataset, room_id)
    total = sum(len(dataset.contents[cid].body()) for _, cid in files)
    assert counts == {**ZERO, "downloaded": 22, "bytes": total}
    folder = space_dir(db, archive, room_id)
    paths = expected_paths(dataset, room_id)
    assert tree(folder) == sorted(paths.values())
    assert {"images/图片.png", "images/图片 (2).png", "images/diagram (2).svg"} < set(tree(folder))
    assert {"images/photo 2024 (6).png", "files/voice message.m4a"} < set(tree(folder))
    assert {"files/Größe-Übersicht (2).xlsx", "files/résumé final (2).docx"} < set(tree(folder))
    found = rows(db, room_id)
    for message, cid in files:
        body, row = dataset.contents[cid].body(), found[cid]
        assert row["status"] == "downloaded"
        assert row["local_path"] == f"{folder.name}/{paths[cid]}"
        assert (archive / row["local_path"]).read_bytes() == body
        assert row["sha256"] == hashlib.sha256(body).hexdigest()
        assert row["size"] == len(body)
        assert row["content_type"] == dataset.contents[cid].content_type
        assert (row["downloaded_at"], row["error"]) == (NOW, None)
        assert (archive / row["local_path"]).stat().st_mtime_ns == utc_ns(message["created"])
    assert [(status, fault) for _, status, fault in gets(emu)] == [(200, "")] * 22
    assert sorted(cid for cid, _, _ in gets(emu)) == sorted(cid for _, cid in files)
    assert lines[-1] == ("downloads", 22, 22)


def test_a_second_run_sends_no_request_and_a_missing_file_comes_back(
    dataset, emu, client, db, archive
):
    room_id = synced(db, client, emu, group_room(dataset))
    assert download_files(db, client, room_id, archive, "files", NOW)["downloaded"] == 5
    folder = space_dir(db, archive, room_id)
    before = tree(folder)
    emu.log.clear()

    assert download_files(db, client, room_id, archive, "files", LATER) == ZERO
    assert emu.log.entries() == []
    assert tree(folder) == before

    (folder / "images" / "图片.png").unlink()
    counts = download_files(db, client, room_id, archive, "files", LATER)
    cid = next(c for c, row in rows(db, room_id).items() if row["name"] == "图片.png")
    body = dataset.contents[cid].body()
    assert counts == {**ZERO, "downloaded": 1, "bytes": len(body)}
    assert gets(emu) == [(cid, 200, "")]
    assert tree(folder) == before
    assert (folder / "images" / "图片.png").read_bytes() == body
    assert rows(db, room_id)[cid]["downloaded_at"] == LATER


# ----- dedupe --------------------------------------------------------------------------------


def test_identical_bytes_are_stored_once(dataset, emu, client, db, archive):
    room = group_room(dataset)
    same = [{"filename": "a.txt", "contentType": "text/plain", "data": b"same"}]
    first = emu.post_message(room["id"], text="one", files=same)
    second = emu.post_message(room["id"], text="two", files=same)
    room_id = synced(db, client, emu, room)

    counts = download_files(db, client, room_id, archive, "files", NOW)

    assert (counts["downloaded"], counts["deduplicated"]) == (6, 1)
    folder = space_dir(db, archive, room_id)
    assert (folder / "files" / "a.txt").read_bytes() == b"same"
    assert not (folder / "files" / "a (2).txt").exists()
    assert (folder / "files" / "a.txt").stat().st_mtime_ns == utc_ns(first["created"])
    found = rows(db, room_id)
    for message in (first, second):
        row = found[message["files"][0]]
        assert row["status"] == "downloaded"
        assert row["local_path"] == f"{folder.name}/files/a.txt"
        assert row["sha256"] == hashlib.sha256(b"same").hexdigest()
        assert row["size"] == 4

    # a later message with the same bytes under another name points at the stored copy
    third = emu.post_message(room["id"], text="three", files=[{**same[0], "filename": "b.txt"}])
    synced(db, client, emu, room)
    again = download_files(db, client, room_id, archive, "files", LATER)
    assert again == {**ZERO, "deduplicated": 1, "bytes": 4}
    assert rows(db, room_id)[third["files"][0]]["local_path"] == f"{folder.name}/files/a.txt"
    assert not (folder / "files" / "b.txt").exists()


# ----- interrupted downloads -----------------------------------------------------------------


def test_a_body_cut_short_is_fetched_again_and_leaves_no_temporary_file(
    dataset, emu, client, sleeps, db, archive
):
    room_id = synced(db, client, emu, group_room(dataset))
    emu.add_fault(Rule("drop", at=[2]))

    counts = download_files(db, client, room_id, archive, "files", NOW, workers=1)

    assert (counts["downloaded"], counts["failed"]) == (5, 0)
    log = gets(emu)
    assert log[1][1:] == (200, "drop")
    assert log[2] == (log[1][0], 200, "")
    assert len(log) == 6
    assert sleeps == [0.5]  # the body backoff, through client.sleep
    folder = space_dir(db, archive, room_id)
    assert [p for p in tree(folder) if p.endswith(".part")] == []
    for cid, row in rows(db, room_id).items():
        assert (archive / row["local_path"]).read_bytes() == dataset.contents[cid].body()


def test_a_body_always_cut_short_fails_and_the_next_run_completes_it(
    dataset, emu, client, sleeps, db, archive
):
    room_id = synced(db, client, emu, group_room(dataset))
    cid = next(c for c, row in rows(db, room_id).items() if row["name"] == "photo 2024.png")
    emu.add_fault(Rule("drop", rate=1.0, path=f"/v1/contents/{cid}"))

    counts = download_files(db, client, room_id, archive, "files", NOW)

    assert (counts["downloaded"], counts["failed"]) == (4, 1)
    row = rows(db, room_id)[cid]
    assert row["status"] == "failed"
    assert row["error"].startswith("download interrupted 3 times: ")
    assert (row["local_path"], row["sha256"], row["downloaded_at"]) == (None, None, None)
    assert [entry for entry in gets(emu) if entry[0] == cid] == [(cid, 200, "drop")] * 3
    assert sleeps == [0.5, 1.0]
    folder = space_dir(db, archive, room_id)
    assert "images/photo 2024.png" not in tree(folder)
    assert [p for p in tree(folder) if ".part" in p or ".download-" in p] == []

    emu.faults.rules.clear()
    emu.log.clear()
    again = download_files(db, client, room_id, archive, "files", LATER)
    body = dataset.contents[cid].body()
    assert again == {**ZERO, "downloaded": 1, "bytes": len(body)}
    assert gets(emu) == [(cid, 200, "")]
    row = rows(db, room_id)[cid]
    assert (row["status"], row["error"]) == ("downloaded", None)
    assert (folder / "images" / "photo 2024.png").read_bytes() == body


def test_an_expired_token_stops_the_run_and_keeps_what_finished(emu, client, db, archive):
    room_id = synced(db, client, emu, group_room(emu.dataset))
    emu.faults.expire_token_after = 2

    with pytest.raises(AuthError):
        download_files(db, client, room_id, archive, "files", NOW, workers=1)

    statuses = sorted(row["status"] for row in rows(db, room_id).values())
    assert statuses == ["downloaded"] * 2 + ["info"] * 3
    folder = space_dir(db, archive, room_id)
    assert len(tree(folder)) == 2 and not any(".part" in p for p in tree(folder))
    emu.faults.expire_token_after = None
    assert download_files(db, client, room_id, archive, "files", LATER)["downloaded"] == 3


# ----- anti-malware verdicts -----------------------------------------------------------------


def test_a_file_being_scanned_is_waited_for(dataset, emu, client, sleeps, db, archive):
    room_id = synced(db, client, emu, group_room(dataset))
    emu.faults = Faults(lock_files=2, lock_retry_after=0)

    counts = download_files(db, client, room_id, archive, "files", NOW)

    assert (counts["downloaded"], counts["failed"]) == (5, 0)
    by_file: dict[str, list[int]] = {}
    for cid, status, _ in gets(emu):
        by_file.setdefault(cid, []).append(status)
    assert by_file == {cid: [423, 423, 200] for cid in rows(db, room_id)}
    assert sleeps == [0.0] * 10


def test_a_file_scanned_for_too_long_fails_for_this_run(dataset, emu, client, sleeps, db, archive):
    room_id = synced(db, client, emu, group_room(dataset))
    cid = sorted(rows(db, room_id))[0]
    emu.add_fault(Rule("status", 423, rate=1.0, path=f"/v1/contents/{cid}", retry_after=600))

    counts = download_files(db, client, room_id, archive, "files", NOW)

    assert (counts["downloaded"], counts["failed"]) == (4, 1)
    assert (rows(db, room_id)[cid]["status"], rows(db, room_id)[cid]["error"]) == (
        "failed", "still being scanned"
    )  # fmt: skip
    assert [status for c, status, _ in gets(emu) if c == cid] == [423] * 6
    assert sleeps == [60.0] * 5  # Retry-After 600, capped


def test_infected_gone_and_unscannable_files_are_recorded(dataset, emu, client, db, archive):
    room_id = synced(db, client, emu, group_room(dataset))
    infected, unscannable, gone, *fine = sorted(rows(db, room_id))
    dataset.contents[infected].scan = "infected"
    dataset.contents[unscannable].scan = "unscannable"
    del dataset.contents[gone]

    counts = download_files(db, client, room_id, archive, "files", NOW)

    size = sum(len(dataset.contents[cid].body()) for cid in fine)
    assert counts == {**ZERO, "downloaded": 2, "gone": 1, "infected": 1, "unscannable": 1,
                      "bytes": size}  # fmt: skip
    found = rows(db, room_id)
    assert (found[infected]["status"], found[infected]["error"]) == (
        "infected", f"Webex answered 410 for /v1/contents/{infected}: The file was found to "
        "be infected and is not available."
    )  # fmt: skip
    assert found[unscannable]["status"] == "unscannable"
    assert found[gone]["status"] == "gone"
    for cid in (infected, unscannable, gone):
        assert (found[cid]["local_path"], found[cid]["checked_at"]) == (None, NOW)
    assert len(tree(space_dir(db, archive, room_id))) == 2

    emu.log.clear()
    assert download_files(db, client, room_id, archive, "files", LATER) == ZERO
    assert emu.log.entries() == []

    allowed = download_files(db, client, room_id, archive, "files", LATER, allow_unscannable=True)
    body = dataset.contents[unscannable].body()
    assert allowed == {**ZERO, "downloaded": 1, "bytes": len(body)}
    assert [e.path for e in emu.log.entries()] == [f"/v1/contents/{unscannable}?allow=unscannable"]
    assert (archive / rows(db, room_id)[unscannable]["local_path"]).read_bytes() == body


def test_a_file_found_unscannable_at_sync_is_skipped_unless_allowed(
    dataset, emu, client, db, archive
):
    room = group_room(dataset)
    cid = next(
        c for _, c in in_order(dataset, room["id"]) if dataset.contents[c].filename == "图片.png"
    )
    dataset.contents[cid].scan = "unscannable"
    room_id = synced(db, client, emu, room)
    assert rows(db, room_id)[cid]["status"] == "unscannable"

    counts = download_files(db, client, room_id, archive, "files", NOW)
    assert (counts["downloaded"], counts["unscannable"]) == (4, 0)
    assert cid not in [c for c, _, _ in gets(emu)]

    emu.log.clear()
    counts = download_files(db, client, room_id, archive, "images", NOW, allow_unscannable=True)
    assert counts["downloaded"] == 0  # its type is unknown (the HEAD answered 428): no image
    counts = download_files(db, client, room_id, archive, "files", NOW, allow_unscannable=True)
    assert counts["downloaded"] == 1
    assert gets(emu) == [(cid, 200, "")]
    row = rows(db, room_id)[cid]
    folder = space_dir(db, archive, room_id).name
    assert (row["name"], row["content_type"]) == ("图片.png", "image/png")  # from the GET
    assert row["local_path"] == f"{folder}/images/图片.png"


# ----- names and places ----------------------------------------------------------------------

HOSTILE_FILES = [
    "CON_.txt", "_.._.._etc_passwd", "_.._windows_system32_evil.dll", "_etc_shadow", "aux_",
    "file", "gnp.exe", "leading and trailing .txt", "line break .txt", "logs.zip",
    "notes (2).txt", "notes.txt", "résumé (2).pdf", "résumé.pdf", "tab andcontrol.txt",
    "x" * 196 + ".pdf",
]  # fmt: skip


def test_hostile_names_land_inside_the_space_folder(dataset, emu, client, db, archive, tmp_path):
    room_id = synced(db, client, emu, group_room(dataset, 2))

    counts = download_files(db, client, room_id, archive, "files", NOW)

    assert (counts["downloaded"], counts["failed"]) == (17, 0)
    folder = space_dir(db, archive, room_id)
    assert tree(folder) == sorted(
        [f"files/{name}" for name in HOSTILE_FILES] + ["images/a_b___c_d__.png"]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["archive"]
    assert sorted(p.name for p in archive.iterdir()) == sorted(
        ["archive.db", "archive.db-shm", "archive.db-wal", folder.name]
    )
    for cid, row in rows(db, room_id).items():
        path = archive / row["local_path"]
        assert path.resolve().parent.parent == folder.resolve()
        assert len(path.name.encode()) <= 200
        assert path.read_bytes() == dataset.contents[cid].body()


def test_a_folder_that_leads_outside_the_archive_is_not_written(
    dataset, emu, client, db, archive, tmp_path
):
    room_id = synced(db, client, emu, group_room(dataset))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = space_dir(db, archive, room_id)
    folder.mkdir()
    (folder / "images").symlink_to(elsewhere, target_is_directory=True)

    counts = download_files(db, client, room_id, archive, "files", NOW)

    assert (counts["downloaded"], counts["failed"]) == (2, 3)
    assert list(elsewhere.iterdir()) == []
    errors = [row["error"] for row in rows(db, room_id).values() if row["status"] == "failed"]
    assert len(errors) == 3 and all("is not inside" in error for error in errors)


def test_images_mode_downloads_only_images(dataset, emu, client, db, archive):
    room_id = synced(db, client, emu, group_room(dataset))

    counts = download_files(db, client, room_id, archive, "images", NOW)

    assert counts["downloaded"] == 3
    folder = space_dir(db, archive, room_id)
    assert tree(folder) == ["images/diagram.svg", "images/photo 2024.png", "images/图片.png"]
    assert not (folder / "files").exists()
    statuses = {row["name"]: row["status"] for row in rows(db, room_id).values()}
    assert statuses == {"diagram.svg": "downloaded", "photo 2024.png": "downloaded",
                        "图片.png": "downloaded", "Größe-Übersicht.xlsx": "info",
                        "résumé final.docx": "info"}  # fmt: skip
    assert len(gets(emu)) == 3

    emu.log.clear()
    assert download_files(db, client, room_id, archive, "files", NOW)["downloaded"] == 2
    assert len(gets(emu)) == 2
    with pytest.raises(ValueError, match="download mode"):
        download_files(db, client, room_id, archive, "info", NOW)


def test_rows_never_asked_about_get_their_head_first(dataset, emu, client, db, archive):
    room_id = synced(db, client, emu, group_room(dataset))
    with transaction(db):
        db.execute("UPDATE files SET status = 'pending', name = NULL, content_type = NULL")

    counts = download_files(db, client, room_id, archive, "images", NOW, workers=1)

    assert counts["downloaded"] == 3
    methods = [e.method for e in emu.log.entries()]
    assert methods == ["HEAD"] * 5 + ["GET"] * 3
    assert tree(space_dir(db, archive, room_id)) == [
        "images/diagram.svg", "images/photo 2024.png", "images/图片.png"
    ]  # fmt: skip


def test_a_file_whose_head_failed_is_named_from_its_get(dataset, emu, client, db, archive):
    room_id = synced(db, client, emu, group_room(dataset))
    with transaction(db):
        db.execute(
            "UPDATE files SET status = 'failed', name = NULL, content_type = NULL "
            "WHERE name = 'Größe-Übersicht.xlsx'"
        )
    emu.add_fault(Rule("status", 503, at=[1, 2, 3]))  # the one HEAD, FAST.tries times

    counts = download_files(db, client, room_id, archive, "files", NOW, workers=1)

    assert counts["downloaded"] == 5
    assert [(e.method, e.status) for e in emu.log.entries()][:4] == [("HEAD", 503)] * 3 + [
        ("GET", 200)
    ]
    folder = space_dir(db, archive, room_id)
    assert "files/Größe-Übersicht.xlsx" in tree(folder)
    names = {row["name"] for row in rows(db, room_id).values()}
    assert "Größe-Übersicht.xlsx" in names


def test_a_file_url_on_another_host_is_not_sent_the_token(emu, client, db, archive):
    room_id = synced(db, client, emu, group_room(emu.dataset))
    message_id = db.execute(
        "SELECT id FROM messages WHERE space_id = ? AND files IS NULL LIMIT 1", [room_id]
    ).fetchone()[0]
    with transaction(db):
        db.execute(
            "INSERT INTO files (url, message_id, space_id, position, status, name) "
            "VALUES ('https://evil.example/v1/contents/x', ?, ?, 0, 'info', 'x.txt')",
            [message_id, room_id],
        )
    counts = download_files(db, client, room_id, archive, "files", NOW)
    assert (counts["downloaded"], counts["failed"]) == (5, 1)
    assert len(emu.log.entries()) == 5
    error = db.execute("SELECT error FROM files WHERE url LIKE 'https://evil%'").fetchone()[0]
    assert error == "not a Webex file URL (https://evil.example/v1/contents/x): not sent the token"


# ----- pure helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "name", "expected"),
    [
        ("image/png", "x.bin", True), ("image/svg+xml", None, True),
        ("IMAGE/JPEG; charset=binary", None, True), ("application/pdf", "x.png", False),
        ("application/octet-stream", "scan.HEIC", True), ("application/octet-stream", "x", False),
        (None, "photo.tiff", True), (None, "photo.avif", True), (None, "a.webp.zip", False),
        (None, None, False), ("", ".png", False),  # a hidden file, not an extension
    ],
)  # fmt: skip
def test_is_image(content_type, name, expected):
    assert is_image(content_type, name) is expected


def test_mtime_is_the_utc_time_whatever_the_local_zone(sao_paulo):
    assert mtime_ns("2024-05-01T16:40:00.123Z") == 1714581600123000000
    assert mtime_ns("2024-05-01T16:40:00.123") == 1714581600123000000  # naive: UTC too
    assert mtime_ns("2024-05-01T18:40:00.123+02:00") == 1714581600123000000

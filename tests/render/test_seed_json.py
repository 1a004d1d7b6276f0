"""``--format seed-json``: the old tool's flat list of raw API messages, from an archive synced
from the emulator, compared with the objects the emulator served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from render.clock import parse_utc
from tests.conftest import group_room, make_dataset
from tests.render.conftest import SPACE_ID
from webex_emulator import Emulator

CLI = [sys.executable, "-m", "webex_archive"]


def run(archive: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    command = [*CLI, "--archive", str(archive), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=clean | (env or {}),
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    dataset = make_dataset(messages=150)
    archive = tmp_path_factory.mktemp("seed") / "archive"
    with Emulator(dataset) as emu:
        run(archive, "sync", "--all",
            env={"WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token})  # fmt: skip
        served = {m["id"]: served_form(m, emu.api_url) for m in dataset.messages.values()}
    return dataset, archive, served


def served_form(message: dict, api_url: str) -> dict:
    """A message as the emulator serves it: its files as content URLs on its address."""
    if "files" not in message:
        return message
    return message | {"files": [f"{api_url}/contents/{cid}" for cid in message["files"]]}


def seed_json(archive: Path, space: str, *options: str) -> tuple[Path, list]:
    out = run(archive, "render", space, "--format", "seed-json", "--tz", "UTC", *options)
    path, *home = map(Path, out.stdout.splitlines())  # then the home page, in the archive
    assert [p.name for p in home] in ([], ["index.html"])
    text = path.read_text(encoding="ascii")  # ASCII only, as the old tool wrote it
    return path, json.loads(text)


def expected(served: dict, room: dict, since: str = "") -> list[dict]:
    """The room's messages newest first as the API gave them, then the old tool's stand-ins
    for thread starts that are not there; with ``since``, the window and its thread starts."""
    ours = [m for m in served.values() if m["roomId"] == room["id"]]
    chosen = [m for m in ours if m["created"] >= since]
    by_id = {m["id"]: m for m in ours}
    parents = {m["parentId"] for m in chosen if m.get("parentId")}
    shown = chosen + [by_id[p] for p in parents if p in by_id and by_id[p] not in chosen]
    shown.sort(key=lambda m: (m["created"], m["id"]), reverse=True)
    missing = {}
    for reply in sorted(chosen, key=lambda m: m["created"]):
        parent = reply.get("parentId")
        if parent and parent not in by_id and parent not in missing:
            moment = parse_utc(reply["created"]) - timedelta(minutes=20)
            missing[parent] = {
                "id": parent, "roomId": room["id"], "roomType": room["type"],
                "html": '<span style="color:grey">This message is not in the archive: deleted '
                        "by its author, or outside the selected messages.</span>",
                "personId": "placeholder-xxXXxx",
                "personEmail": "placeholder@user_removed_their_msg.com",
                "created": moment.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{moment.microsecond // 1000:03d}Z",
            }  # fmt: skip
    return shown + list(missing.values())


def test_the_list_is_the_api_objects_newest_first(synced):
    dataset, archive, served = synced
    room = group_room(dataset)
    path, objects = seed_json(archive, room["id"])
    assert (
        path.name.endswith(".seed.json")
        and path.with_name(path.name.replace(".seed.json", ".json")) != path
    )
    assert objects == expected(served, room)
    assert len(objects) > 20
    raw = path.read_text(encoding="ascii")
    assert raw.startswith('[{"') and "\n" not in raw  # one line, as json.dump wrote it


def test_a_window_keeps_the_thread_starts_its_replies_need(synced):
    dataset, archive, served = synced
    room = group_room(dataset)
    ours = sorted(m["created"] for m in dataset.messages.values() if m["roomId"] == room["id"])
    since = ours[len(ours) // 2]
    _, objects = seed_json(archive, room["id"], "--since", since)
    assert objects == expected(served, room, since)
    assert any(m["created"] < since for m in objects)  # a thread's start, shown for a reply


def test_blur_hides_every_name_email_and_person_id(synced):
    dataset, archive, _ = synced
    room = group_room(dataset)
    _, plain = seed_json(archive, room["id"])
    path, objects = seed_json(archive, room["id"], "--blur")
    assert path.parent.name == "blurred"
    text = path.read_text(encoding="ascii")
    decoded = json.dumps(objects, ensure_ascii=False)
    for person in dataset.people.values():
        for secret in (person["id"], *person.get("emails", []), person.get("displayName")):
            if secret and len(secret) > 3:
                assert secret not in decoded, secret
                assert secret not in text, secret
    assert [m["id"] for m in objects] == [m["id"] for m in plain]
    assert all(m["personEmail"].endswith("@hidden") for m in objects if "personEmail" in m)
    assert all(m["personId"].startswith("hidden-person-") for m in objects)


def test_a_lost_thread_start_gets_the_old_tools_stand_in(small_archive):
    _, objects = seed_json(small_archive, SPACE_ID)
    assert objects[-1] == {
        "id": "msg-00", "roomId": SPACE_ID, "roomType": "group",
        "html": '<span style="color:grey">This message is not in the archive: deleted by its '
                "author, or outside the selected messages.</span>",
        "personId": "placeholder-xxXXxx",
        "personEmail": "placeholder@user_removed_their_msg.com",
        "created": "2024-04-02T06:40:00.000Z",
    }  # fmt: skip
    assert objects[:-1] == [{}] * 14  # the hand-built archive's raw objects are empty


def test_blur_takes_raw_objects_of_any_shape(small_archive):
    """raw is Webex's word: a person id that is a list, an object that is not one. (Found by
    tests/test_fuzz.py: the TypeError, then the window's table left locked.)"""
    import sqlite3

    conn = sqlite3.connect(small_archive / "archive.db")
    with conn:
        conn.execute("UPDATE messages SET raw = ? WHERE id = 'msg-01'", [json.dumps(
            {"personId": ["p-alice"], "personEmail": "alice@example.com",
             "text": "Alice Example wrote"})])  # fmt: skip
        conn.execute("UPDATE messages SET raw = '[\"Bob Builder\"]' WHERE id = 'msg-02'")
    conn.close()
    _, objects = seed_json(small_archive, SPACE_ID, "--blur")
    by_text = {json.dumps(o): o for o in objects}
    assert {"personId": "hidden-person-0", "personEmail": "personx@hidden",
            "text": "Person 1 wrote"} in by_text.values()  # fmt: skip
    assert ["Person 2"] in objects

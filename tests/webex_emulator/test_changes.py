"""Changes made while serving show up in the next listing, through Python and over HTTP."""

from __future__ import annotations

import base64
import json

import requests

from tests.conftest import expected_ids, follow, group_room
from webex_emulator import DataSet, Emulator


def listing(emu, http, room_id: str) -> list[dict]:
    return follow(http, f"{emu.api_url}/messages", roomId=room_id, max=1000)[0]


def test_new_edited_deleted_messages(emu, http, dataset):
    room = group_room(dataset)
    before = listing(emu, http, room["id"])
    added = emu.add_messages(room["id"], 1500, seed=1)
    after = listing(emu, http, room["id"])
    assert len(after) == len(before) + 1500
    assert [m["id"] for m in after[:1500]] == [m["id"] for m in reversed(added)]
    assert [m["id"] for m in after[1500:]] == [m["id"] for m in before]
    target = before[3]
    emu.edit_message(target["id"], text="changed words")
    edited = http.get(f"{emu.api_url}/messages/{target['id']}").json()
    assert edited["text"] == "changed words" and edited["updated"] > target["created"]
    emu.delete_message(before[4]["id"])
    ids = [m["id"] for m in listing(emu, http, room["id"])]
    assert before[4]["id"] not in ids and len(ids) == len(after) - 1
    assert (
        http.get(f"{emu.api_url}/rooms/{room['id']}").json()["lastActivity"] == added[-1]["created"]
    )


def test_changes_over_http(emu, http, dataset):
    room = group_room(dataset)
    control = f"{emu.url}/_emulator"
    info = requests.get(control, timeout=5).json()
    assert info["token"] == emu.token and info["apiUrl"] == emu.api_url
    posted = requests.post(
        f"{control}/messages",
        timeout=5,
        json={
            "roomId": room["id"],
            "text": "hello",
            "markdown": "**hello**",
            "files": [
                {
                    "filename": "图片.png",
                    "contentType": "image/png",
                    "base64": base64.b64encode(b"\x89PNG fake").decode(),
                }
            ],
        },
    ).json()
    parent = posted["id"]
    reply = requests.post(
        f"{control}/messages",
        timeout=5,
        json={"roomId": room["id"], "text": "re", "parentId": parent},
    ).json()
    served = listing(emu, http, room["id"])[:2]
    assert [m["id"] for m in served] == [reply["id"], parent]
    assert served[0]["parentId"] == parent
    assert served[1]["html"] == "<p>**hello**</p>"
    file_url = served[1]["files"][0]
    assert file_url.startswith(f"{emu.api_url}/contents/")
    download = http.get(file_url)
    assert download.content == b"\x89PNG fake"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"__.png\"; filename*=UTF-8''%E5%9B%BE%E7%89%87.png"
    )
    patched = requests.patch(f"{control}/messages/{parent}", json={"text": "bye"}, timeout=5)
    assert patched.json()["text"] == "bye" and "updated" in patched.json()
    assert requests.delete(f"{control}/messages/{reply['id']}", timeout=5).status_code == 204
    assert http.get(f"{emu.api_url}/messages/{reply['id']}").status_code == 404
    many = requests.post(f"{control}/rooms/{room['id']}/messages", json={"count": 3}, timeout=5)
    assert len(many.json()["items"]) == 3
    missing = requests.delete(f"{control}/messages/nope", timeout=5)
    assert missing.status_code == 404 and "nope" in missing.json()["message"]
    bad = requests.patch(f"{control}/messages/{parent}", json={"roomId": "x"}, timeout=5)
    assert bad.status_code == 400


def test_members_join_and_leave(emu, http, dataset):
    room = group_room(dataset, 1)
    current = {m["personId"] for m in dataset.memberships[room["id"]]}
    newcomer = next(p for p in dataset.people if p not in current)
    joined = requests.post(
        f"{emu.url}/_emulator/memberships",
        timeout=5,
        json={"roomId": room["id"], "personId": newcomer},
    ).json()
    members = follow(http, f"{emu.api_url}/memberships", roomId=room["id"])[0]
    assert joined["id"] in {m["id"] for m in members}
    leaving = members[0]["id"]
    assert (
        requests.delete(f"{emu.url}/_emulator/memberships/{leaving}", timeout=5).status_code == 204
    )
    members = follow(http, f"{emu.api_url}/memberships", roomId=room["id"])[0]
    assert leaving not in {m["id"] for m in members}


def test_content_scan_over_http(emu, http, dataset):
    content = next(iter(dataset.contents))
    put = requests.put(
        f"{emu.url}/_emulator/contents/{content}", json={"scan": "infected"}, timeout=5
    )
    assert put.status_code == 200
    assert http.head(f"{emu.api_url}/contents/{content}").status_code == 410


def test_dump_and_load_round_trip(tmp_path, dataset, emu, http):
    room = group_room(dataset)
    emu.post_message(room["id"], text="after generation")
    path = tmp_path / "set.json"
    dataset.dump(path)
    loaded = DataSet.load(path)
    assert loaded.to_json() == json.loads(path.read_text())
    assert loaded.to_json() == dataset.to_json()
    with Emulator(loaded) as again, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {again.token}"
        served = follow(session, f"{again.api_url}/messages", roomId=room["id"], max=1000)[0]
    assert [m["id"] for m in served] == expected_ids(dataset, room["id"])
    over_http = requests.get(f"{emu.url}/_emulator/dataset", timeout=5).json()
    assert over_http == json.loads(json.dumps(dataset.to_json()))


def test_bad_data_set_files_are_refused(tmp_path):
    import pytest

    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not an emulator data set"):
        DataSet.load(path)
    path.write_text(json.dumps({"format": "webex-emulator-dataset", "version": 99}))
    with pytest.raises(ValueError, match="unsupported data-set version"):
        DataSet.load(path)


def test_control_errors_have_the_webex_shape(emu):
    """Control requests that fail answer as Webex does: message, errors, trackingId (also in
    the TrackingID header), from the same error_response the API uses."""
    for method, path, status, message in [
        ("GET", "/_emulator/nothing", 404, "No emulator control endpoint GET /_emulator/nothing."),
        ("DELETE", "/_emulator/messages/nope", 404, "Unknown id: nope"),
        ("PATCH", "/_emulator/messages/nope", 400, "edit takes only html, markdown, text, updated"),
    ]:
        response = requests.request(method, emu.url + path, json={"title": "x"}, timeout=5)
        body = response.json()
        assert (response.status_code, body["message"]) == (status, message)
        assert body == {
            "message": message,
            "errors": [{"description": message}],
            "trackingId": response.headers["TrackingID"],
        }

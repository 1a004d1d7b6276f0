"""The emulator's means to point a client elsewhere (issue 13): URLs stored absolute are served
as given, ``redirect`` and ``next_link`` faults, relative next links."""

from __future__ import annotations

import requests

from tests.conftest import follow, group_room
from webex_emulator import Emulator, Quirks, Rule


def test_absolute_file_and_avatar_urls_are_served_as_stored(emu, http, dataset):
    room = group_room(dataset)
    posted = emu.post_message(room["id"], "x", files=[{"url": "https://elsewhere.example/f"}])
    person_id = posted["personId"]
    dataset.people[person_id]["avatar"] = "http://elsewhere.example/avatar~1600"
    served = http.get(f"{emu.api_url}/messages/{posted['id']}", timeout=10).json()
    assert served["files"] == ["https://elsewhere.example/f"]
    person = http.get(f"{emu.api_url}/people/{person_id}", timeout=10).json()
    assert person["avatar"] == "http://elsewhere.example/avatar~1600"


def test_a_file_url_through_the_control_endpoint_must_be_absolute(emu, dataset):
    room = group_room(dataset)
    body = {"roomId": room["id"], "text": "x", "files": [{"url": "relative/path"}]}
    answer = requests.post(f"{emu.url}/_emulator/messages", json=body, timeout=10)
    assert answer.status_code == 400 and "must be absolute" in answer.json()["message"]


def test_redirect_and_next_link_faults(emu, http, dataset):
    room = group_room(dataset)
    emu.add_fault(Rule("redirect", status=307, rate=1.0, times=1, path="/v1/rooms",
                       location="https://elsewhere.example/rooms"))  # fmt: skip
    moved = http.get(f"{emu.api_url}/rooms", allow_redirects=False, timeout=10)
    assert (moved.status_code, moved.headers["Location"]) == (
        307,
        "https://elsewhere.example/rooms",
    )
    emu.add_fault(Rule("next_link", rate=1.0, times=1, path="/v1/messages", location="/x?y"))
    page = http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]}, timeout=10)
    assert page.headers["Link"] == '</x?y>; rel="next"'


def test_relative_links_quirk(dataset):
    room = group_room(dataset)
    with Emulator(dataset, quirks=Quirks(relative_links=True)) as emu, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {emu.token}"
        first = s.get(f"{emu.api_url}/messages", params={"roomId": room["id"], "max": 5})
        assert first.headers["Link"].startswith(f"</v1/messages?roomId={room['id']}&max=5&")
        memberships = s.get(f"{emu.api_url}/memberships", params={"roomId": room["id"], "max": 1})
        assert memberships.headers["Link"].startswith("</v1/memberships?")
    with Emulator(dataset) as emu, requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {emu.token}"
        _, links = follow(s, f"{emu.api_url}/messages", roomId=room["id"], max=50)
        assert links and all(link.startswith(f"<{emu.api_url}/messages?") for link in links)

"""Compliance officers: the events feed, reads beyond membership, deleted messages by id."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import follow, group_room
from webex_emulator import DataSet, Emulator
from webex_emulator.ids import format_time


def ago(days: float) -> str:
    return format_time(datetime.now(timezone.utc) - timedelta(days=days))


@pytest.fixture
def officer(emu: Emulator) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emu.officer_token()}"
    yield session
    session.close()


def events(session: requests.Session, emu: Emulator, **params) -> list[dict]:
    return follow(session, f"{emu.api_url}/events", **params)[0]


def test_every_change_is_an_event(emu, officer, dataset):
    room = group_room(dataset)
    posted = emu.post_message(room["id"], text="first")
    emu.edit_message(posted["id"], text="second")
    emu.delete_message(posted["id"])
    other = [p for p in dataset.people.values() if not emu.dataset.officers.count(p["id"])][-1]
    joined = emu.add_member(room["id"], other["id"])
    emu.remove_member(joined["id"])
    feed = events(officer, emu)
    assert [(e["resource"], e["type"]) for e in feed] == [
        ("memberships", "deleted"),
        ("memberships", "created"),
        ("messages", "deleted"),
        ("messages", "updated"),
        ("messages", "created"),
    ]
    created, updated, deleted = feed[4]["data"], feed[3]["data"], feed[2]["data"]
    assert created["text"] == "first" and "updated" not in created
    assert updated["text"] == "second" and updated["updated"] >= created["created"]
    assert set(deleted) == {"id", "roomId", "roomType", "personId"}
    assert {e["orgId"] for e in feed} == {room["ownerId"]}
    assert feed[0]["data"]["id"] == joined["id"] and "personEmail" not in feed[0]["data"]
    assert all(e["actorId"] for e in feed)
    one = officer.get(f"{emu.api_url}/events/{feed[2]['id']}").json()
    assert one == feed[2]


def test_control_endpoints_record_events(emu, officer, dataset):
    room = group_room(dataset)
    control = f"{emu.url}/_emulator"
    posted = requests.post(
        f"{control}/messages", json={"roomId": room["id"], "text": "x"}, timeout=5
    ).json()
    requests.patch(f"{control}/messages/{posted['id']}", json={"text": "y"}, timeout=5)
    when = ago(60)
    requests.delete(f"{control}/messages/{posted['id']}", params={"at": when}, timeout=5)
    feed = events(officer, emu, resource="messages")
    assert [e["type"] for e in feed] == ["updated", "created", "deleted"]  # the deletion is old
    assert feed[2]["created"] == when


def test_filters_paging_and_retention(emu, officer, dataset):
    room = group_room(dataset)
    ours = [emu.post_message(room["id"], text=f"m{i}") for i in range(25)]
    author = ours[0]["personId"]
    for message in ours[:5]:
        emu.delete_message(message["id"])
    old = emu.post_message(room["id"], text="old")
    emu.edit_message(old["id"], text="old edit", updated=ago(100))  # beyond 90 days: purged
    feed, links = follow(officer, f"{emu.api_url}/events", max=7)
    assert len(feed) == 31 and len(links) == 4  # 25 + 5 + 1 created; the old edit is gone
    assert [e["created"] for e in feed] == sorted((e["created"] for e in feed), reverse=True)
    assert len({e["id"] for e in feed}) == 31
    assert all("cursor=" in link and "max=7" in link for link in links)
    assert len(events(officer, emu, type="deleted")) == 5
    assert len(events(officer, emu, resource="messages", type="created", actorId=author)) == 26
    assert events(officer, emu, actorId="nobody") == []
    middle = feed[10]["created"]
    assert all(e["created"] > middle for e in events(officer, emu, **{"from": middle}))
    assert all(e["created"] < middle for e in events(officer, emu, to=middle))
    # a from older than the window answers what Webex still holds (our guess), not an error
    assert len(events(officer, emu, **{"from": ago(400)})) == 31
    emu.dataset.events.retention_days = 200
    assert len(events(officer, emu)) == 32
    for params, status in [
        ({"to": ago(-1)}, 400),
        ({"from": "yesterday"}, 400),
        ({"resource": "nope"}, 400),
        ({"type": "nope"}, 400),
        ({"max": "0"}, 400),
    ]:
        assert officer.get(f"{emu.api_url}/events", params=params).status_code == status


def test_a_token_without_the_scope_gets_403(emu, http):
    response = http.get(f"{emu.api_url}/events")
    body = response.json()
    assert response.status_code == 403
    assert body["message"] == "Missing required scope: spark-compliance:events_read"
    assert body["errors"] == [{"description": body["message"]}] and body["trackingId"]
    assert http.get(f"{emu.api_url}/memberships", params={"personEmail": "x@y"}).status_code == 400


def test_officer_reads_spaces_it_is_not_in(emu, officer, http, dataset):
    room = group_room(dataset, 1)
    me = officer.get(f"{emu.api_url}/people/me").json()
    assert me["displayName"] == "Compliance Officer"
    assert officer.get(f"{emu.api_url}/rooms").json()["items"] == []  # only its own spaces
    assert officer.get(f"{emu.api_url}/rooms/{room['id']}").json() == room
    messages = follow(officer, f"{emu.api_url}/messages", roomId=room["id"], max=50)[0]
    assert messages == follow(http, f"{emu.api_url}/messages", roomId=room["id"], max=50)[0]
    # a space another organisation owns stays invisible
    dataset.rooms[room["id"]]["ownerId"] = "another-org"
    assert officer.get(f"{emu.api_url}/rooms/{room['id']}").status_code == 404


def test_deleted_messages_by_id_within_retention(emu, officer, http, dataset):
    room = group_room(dataset)
    recent, old = emu.post_message(room["id"], text="gone"), emu.post_message(room["id"], text="o")
    emu.delete_message(recent["id"])
    emu.delete_message(old["id"], at=ago(95))
    assert http.get(f"{emu.api_url}/messages/{recent['id']}").status_code == 404
    assert officer.get(f"{emu.api_url}/messages/{recent['id']}").json()["text"] == "gone"
    assert officer.get(f"{emu.api_url}/messages/{old['id']}").status_code == 404


def test_memberships_of_a_person_without_room(emu, officer, dataset):
    person = dataset.people[dataset.tokens[emu.token]]
    email = person["emails"][0].upper()
    found = follow(officer, f"{emu.api_url}/memberships", personEmail=email, max=2)[0]
    expected = {
        r for r, ms in dataset.memberships.items() if any(m["personId"] == person["id"] for m in ms)
    }
    assert {m["roomId"] for m in found} == expected and len(found) == len(expected)
    assert officer.get(f"{emu.api_url}/memberships").status_code == 400


def test_officers_and_events_in_the_data_set_file(emu, officer, dataset, tmp_path):
    room = group_room(dataset)
    emu.post_message(room["id"], text="kept")
    requests.put(f"{emu.url}/_emulator/compliance", json={"retentionDays": 30}, timeout=5)
    path = tmp_path / "data.json"
    dataset.dump(path)
    again = DataSet.load(path)
    assert again.officers == dataset.officers and again.events.retention_days == 30
    assert again.events.to_json() == dataset.events.to_json()
    made = requests.post(f"{emu.url}/_emulator/officers", json={}, timeout=5).json()
    assert made["personId"] in emu.dataset.officers and len(emu.dataset.officers) == 2

"""Paging exactly as the real API: every message once, newest first, Link headers as Webex's."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tests.conftest import END, expected_ids, follow, group_room, make_dataset
from webex_emulator import Emulator, Quirks

LINK = re.compile(r'^<(http://127\.0\.0\.1:\d+/v1/messages\?[^<>\s]+)>; rel="next"$')


@pytest.mark.parametrize("size", [1, 7, 50, 1000])
def test_every_message_exactly_once_newest_first(emu, http, dataset, size):
    room = group_room(dataset)
    items, links = follow(http, f"{emu.api_url}/messages", roomId=room["id"], max=size)
    assert [m["id"] for m in items] == expected_ids(dataset, room["id"])
    assert len(items) == 120
    assert len(links) == 120 // size  # every full page links on, the last one may be empty
    for header in links:
        match = LINK.match(header)
        assert match, header
        params = list(parse_qsl(urlsplit(match.group(1)).query))
        assert [k for k, _ in params] == ["roomId", "max", "beforeMessage"]
        assert dict(params)["max"] == str(size)


def test_default_page_is_50_and_full_pages_link_on(emu, http, dataset):
    room = group_room(dataset)
    first = http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]})
    assert len(first.json()["items"]) == 50
    assert "beforeMessage=" in first.headers["Link"]


def test_exact_multiple_ends_with_an_empty_page_without_link(emu, http, dataset):
    room = group_room(dataset)
    items, links = follow(http, f"{emu.api_url}/messages", roomId=room["id"], max=60)
    assert len(items) == 120 and len(links) == 2  # 60, 60, then an empty last page
    last = http.get(links[-1][1 : links[-1].index(">")])
    assert last.json() == {"items": []} and "Link" not in last.headers


def test_exact_links_quirk_off_gives_no_empty_page():
    ds = make_dataset()
    with Emulator(ds, quirks=Quirks(link_on_full_page=False)) as emu:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {emu.token}"
        _, links = follow(session, f"{emu.api_url}/messages", roomId=group_room(ds)["id"], max=60)
        assert len(links) == 1


def test_before_message_is_exclusive_and_before_time_bounds(emu, http, dataset):
    room = group_room(dataset)
    ordered = expected_ids(dataset, room["id"])
    items, _ = follow(
        http, f"{emu.api_url}/messages", roomId=room["id"], beforeMessage=ordered[10], max=25
    )
    assert [m["id"] for m in items] == ordered[11:]
    pivot = dataset.messages[ordered[40]]["created"]
    items, _ = follow(http, f"{emu.api_url}/messages", roomId=room["id"], before=pivot, max=1000)
    assert [m["id"] for m in items] == ordered[41:]
    # An offset form of the same instant selects the same messages.
    shifted = pivot.replace("Z", "+00:00")
    again, _ = follow(http, f"{emu.api_url}/messages", roomId=room["id"], before=shifted)
    assert [m["id"] for m in again] == ordered[41:]


def test_max_is_clamped_to_the_cap():
    ds = make_dataset(messages=1205, spaces=1)
    with Emulator(ds) as emu:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {emu.token}"
        room = group_room(ds)
        response = session.get(
            f"{emu.api_url}/messages", params={"roomId": room["id"], "max": 5000}
        )
        assert len(response.json()["items"]) == 1000
        assert "max=1000&" in response.headers["Link"]
        rooms = session.get(f"{emu.api_url}/rooms", params={"max": 99999})
        assert rooms.status_code == 200 and len(rooms.json()["items"]) == 2


def test_replies_interleaved_and_parent_filter_returns_replies_only(emu, http, dataset):
    room = group_room(dataset)
    items, _ = follow(http, f"{emu.api_url}/messages", roomId=room["id"], max=1000)
    replies = [m for m in items if "parentId" in m]
    assert replies, "the generated space has threads"
    parent_id = replies[0]["parentId"]
    position = {m["id"]: i for i, m in enumerate(items)}
    assert all(
        position[r["parentId"]] > position[r["id"]] for r in replies if r["parentId"] in position
    )  # a parent is older, so listed later
    thread, _ = follow(http, f"{emu.api_url}/messages", roomId=room["id"], parentId=parent_id)
    assert [m["id"] for m in thread] == [m["id"] for m in replies if m["parentId"] == parent_id]
    assert parent_id not in {m["id"] for m in thread}


def test_next_link_drops_filters_like_the_real_api(emu, http, dataset):
    room = group_room(dataset)
    parent_id = next(
        m["parentId"]
        for m in dataset.messages.values()
        if m["roomId"] == room["id"] and "parentId" in m
    )
    response = http.get(
        f"{emu.api_url}/messages", params={"roomId": room["id"], "parentId": parent_id, "max": 1}
    )
    assert "parentId" not in response.headers["Link"]  # clients must re-add their filters


def test_rooms_cursor_paging_types_and_sorting(emu, http, dataset):
    rooms, links = follow(http, f"{emu.api_url}/rooms", max=1)
    assert sorted(r["id"] for r in rooms) == sorted(dataset.rooms)
    assert all(
        re.fullmatch(
            r"<http://127\.0\.0\.1:\d+/v1/rooms\?max=1&cursor=[\w-]+>; "
            r'rel="next"',
            link,
        )
        for link in links
    )
    assert [r["created"] for r in rooms] == sorted((r["created"] for r in rooms), reverse=True)
    direct, _ = follow(http, f"{emu.api_url}/rooms", type="direct", max=1)
    assert [r["type"] for r in direct] == ["direct"]
    by_id, _ = follow(http, f"{emu.api_url}/rooms", sortBy="id", max=2)
    assert [r["id"] for r in by_id] == sorted(dataset.rooms)
    recent, _ = follow(http, f"{emu.api_url}/rooms", sortBy="lastactivity")
    assert [r["lastActivity"] for r in recent] == sorted(
        (r["lastActivity"] for r in dataset.rooms.values()), reverse=True
    )


def test_memberships_cursor_paging(emu, http, dataset):
    room = group_room(dataset)
    members, links = follow(http, f"{emu.api_url}/memberships", roomId=room["id"], max=3)
    assert sorted(m["id"] for m in members) == sorted(
        m["id"] for m in dataset.memberships[room["id"]]
    )
    assert len(members) == len(dataset.memberships[room["id"]]) > 3
    assert all("roomId=" in link and "cursor=" in link for link in links)
    assert all(link.index("cursor=") > link.index("max=") for link in links)


def test_people_by_id_limit_and_not_found(emu, http, dataset):
    known = list(dataset.people)
    response = http.get(f"{emu.api_url}/people", params={"id": ",".join([*known[:3], "nope"])})
    body = response.json()
    assert [p["id"] for p in body["items"]] == known[:3]
    assert body["notFoundIds"] == ["nope"]
    assert all("status" not in p and "lastActivity" not in p for p in body["items"])
    ids = ",".join((known * 10)[:85])
    assert http.get(f"{emu.api_url}/people", params={"id": ids}).status_code == 200
    too_many = http.get(f"{emu.api_url}/people", params={"id": ids + ",x"})
    assert too_many.status_code == 400 and "85" in too_many.json()["message"]
    everyone = http.get(f"{emu.api_url}/people", params={"id": ",".join(known)}).json()
    assert "notFoundIds" not in everyone  # optional keys are omitted, never null


def test_people_me_and_search(emu, http, dataset):
    me = http.get(f"{emu.api_url}/people/me").json()
    assert me["id"] == dataset.tokens[emu.token]
    assert me["status"] and me["avatar"].startswith(emu.url + "/avatars/")
    assert me["avatar"].endswith("~1600")
    found = http.get(f"{emu.api_url}/people", params={"displayName": "gra"}).json()["items"]
    assert [p["displayName"] for p in found] == ["Grace Hopper"]
    other_org = http.get(
        f"{emu.api_url}/people", params={"email": "edsger.dijkstra@partner.org"}
    ).json()
    assert other_org == {"items": []}  # email look-up works inside one's own org only
    assert http.get(f"{emu.api_url}/people").status_code == 400


def test_avatars_need_no_token(emu, http):
    me = http.get(f"{emu.api_url}/people/me").json()
    image = requests.get(re.sub(r"~1600$", "~80", me["avatar"]), timeout=5)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_timestamps_and_ids_have_the_real_shape(emu, http, dataset):
    items, _ = follow(
        http, f"{emu.api_url}/messages", roomId=group_room(dataset, 1)["id"], max=1000
    )
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    for message in items:
        assert stamp.match(message["created"])
        assert re.fullmatch(r"[A-Za-z0-9]+", message["id"])
        assert None not in message.values()
    assert max(m["created"] for m in items) <= END.strftime("%Y-%m-%dT%H:%M:%S.000Z")

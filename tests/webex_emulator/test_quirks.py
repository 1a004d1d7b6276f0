"""Both sides of each undocumented behaviour (docs/undocumented.md): file-name forms, max over
a documented cap, time forms, /memberships without roomId, 423 on HEAD."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from tests.conftest import follow, group_room
from webex_emulator import Emulator, Faults, Quirks
from webex_emulator.disposition import content_disposition
from webex_emulator.ids import parse_time


def session(token: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


# ----- file names ---------------------------------------------------------------------------

LONG = "会議の議事録と来期の予算案についての最終確認版です.pdf"  # 81 UTF-8 bytes: two words
# (name, form) -> the header's bytes on the wire
WIRE = {
    ("notes.txt", "rfc6266"): b'attachment; filename="notes.txt"',
    ("notes.txt", "rfc2047"): b'attachment; filename="notes.txt"',
    ('a "q" \\.txt', "rfc6266"): b"attachment; filename=\"a _q_ _.txt\"; filename*=UTF-8''a%20%22q"
    b"%22%20%5C.txt",
    ('a "q" \\.txt', "percent"): b'attachment; filename="a \\"q\\" \\\\.txt"',
    ("图片.png", "rfc6266"): b"attachment; filename=\"__.png\"; filename*=UTF-8''%E5%9B%BE%E7%89"
    b"%87.png",
    ("图片.png", "raw-utf8"): 'attachment; filename="图片.png"'.encode(),
    ("图片.png", "plain"): 'attachment; filename="图片.png"'.encode(),
    ("café.txt", "plain"): b'attachment; filename="caf\xe9.txt"',
    ("café.txt", "raw-utf8"): b'attachment; filename="caf\xc3\xa9.txt"',
    ("图片.png", "rfc2047"): b'attachment; filename="=?UTF-8?B?5Zu+54mHLnBuZw==?="',
    ("图片.png", "percent"): b'attachment; filename="%E5%9B%BE%E7%89%87.png"',
    ("tab\there.txt", "raw-utf8"): b'attachment; filename="tab_here.txt"',
    ("tab\there.txt", "percent"): b'attachment; filename="tab%09here.txt"',
}


@pytest.mark.parametrize(("name", "form"), list(WIRE))
def test_file_name_forms_on_the_wire(dataset, name, form):
    room = group_room(dataset)
    with Emulator(dataset, quirks=Quirks(file_names=form)) as emu, session(emu.token) as http:
        posted = emu.post_message(room["id"], files=[{"filename": name, "data": b"x"}])
        url = f"{emu.api_url}/contents/{posted['files'][0]}"
        head = http.head(url, timeout=5)
        get = http.get(url, timeout=5)
    # http.client reads header bytes as Latin-1: encoding back gives the bytes sent.
    assert head.headers["Content-Disposition"].encode("latin-1") == WIRE[name, form]
    assert get.headers["Content-Disposition"] == head.headers["Content-Disposition"]
    assert get.content == b"x"


def test_long_names_become_several_encoded_words():
    header = content_disposition(LONG, "rfc2047")
    words = header.removeprefix('attachment; filename="').removesuffix('"').split(" ")
    assert len(words) == 2 and all(len(w) <= 75 and w.startswith("=?UTF-8?B?") for w in words)


# ----- max over a documented cap ------------------------------------------------------------


@pytest.mark.parametrize("over_cap", ["clamp", "400"])
def test_max_over_a_documented_cap(dataset, over_cap):
    room = group_room(dataset)
    with Emulator(dataset, quirks=Quirks(over_cap=over_cap)) as emu, session(emu.token) as h:

        def status(path: str, **params: object) -> int:
            return h.get(f"{emu.api_url}/{path}", params=params, timeout=5).status_code

        mentions = {"roomId": room["id"], "mentionedPeople": "me"}
        assert status("messages", **mentions, max=100) == 200
        assert status("rooms", max=1000) == 200
        assert status("messages", roomId=room["id"], max=5000) == 200  # no documented cap
        over = [status("messages", **mentions, max=101), status("rooms", max=1001)]
        bad = h.get(f"{emu.api_url}/rooms", params={"max": 1001}, timeout=5).json()
    if over_cap == "clamp":
        assert over == [200, 200]
    else:
        assert over == [400, 400] and bad["message"] == "Invalid max '1001': cannot exceed 1000."


# ----- time forms ---------------------------------------------------------------------------


def times_of(emu: Emulator, http: requests.Session, room_id: str) -> list[str]:
    """Every time of a room's messages, the room itself, its members and its people."""
    messages = follow(http, f"{emu.api_url}/messages", roomId=room_id, max=1000)[0]
    room = http.get(f"{emu.api_url}/rooms/{room_id}", timeout=5).json()
    members = follow(http, f"{emu.api_url}/memberships", roomId=room_id)[0]
    me = http.get(f"{emu.api_url}/people/me", timeout=5).json()
    objects = [*messages, room, *members, me]
    keys = ("created", "updated", "lastActivity")
    return [o[k] for o in objects for k in keys if k in o]


def test_time_forms_carry_the_same_instants(dataset):
    room = group_room(dataset)
    served = {}
    for form in ("millis-z", "offset", "mixed"):
        with Emulator(dataset, quirks=Quirks(timestamps=form)) as emu, session(emu.token) as h:
            served[form] = times_of(emu, h, room["id"])
    canonical = served["millis-z"]
    assert len(canonical) > 120 and all(t.endswith("Z") and len(t) == 24 for t in canonical)
    assert all(t.endswith("+00:00") and len(t) == 25 for t in served["offset"])
    assert [parse_time(t) for t in served["offset"]] == [
        parse_time(t).replace(microsecond=0) for t in canonical
    ]
    assert [parse_time(t) for t in served["mixed"]] == [parse_time(t) for t in canonical]
    shapes = {(t[-1], len(t)) for t in served["mixed"]}
    assert {("Z", 24), ("0", 29), ("0", 32)} <= shapes  # ….599Z, ….599+00:00, ….599000+00:00
    assert all(datetime.fromisoformat(t) for t in served["mixed"])


# ----- /memberships without roomId ----------------------------------------------------------


def test_memberships_without_room_is_a_400_by_default(emu, http):
    answer = http.get(f"{emu.api_url}/memberships", timeout=5)
    assert answer.status_code == 400 and "roomId is required" in answer.json()["message"]


def test_memberships_without_room_lists_the_callers(dataset):
    quirks = Quirks(memberships_without_room="list")
    with Emulator(dataset, quirks=quirks) as emu, session(emu.token) as http:
        me = dataset.tokens[emu.token]
        items, links = follow(http, f"{emu.api_url}/memberships", max=2)
        by_person = http.get(f"{emu.api_url}/memberships", params={"personId": me}, timeout=5)
    mine = sorted(
        (m for ms in dataset.memberships.values() for m in ms if m["personId"] == me),
        key=lambda m: (m["created"], m["id"]),
    )
    assert [m["id"] for m in items] == [m["id"] for m in mine] and len(mine) == 4
    assert len(links) == 2 and all("cursor=" in link for link in links)
    assert by_person.status_code == 400  # personId needs roomId, as the spec says


# ----- 423 on HEAD --------------------------------------------------------------------------


@pytest.mark.parametrize("lock_head", [False, True])
def test_423_while_scanning_on_get_and_maybe_head(dataset, lock_head):
    room = group_room(dataset)
    quirks = Quirks(lock_head=lock_head)
    with Emulator(dataset, Faults(lock_files=1), quirks) as emu, session(emu.token) as http:
        posted = emu.post_message(room["id"], files=[{"filename": "a.txt", "data": b"abc"}])
        url = f"{emu.api_url}/contents/{posted['files'][0]}"
        statuses = [http.head(url).status_code, http.get(url).status_code, http.get(url)]
    if lock_head:
        assert statuses[:2] == [423, 200]
    else:
        assert statuses[:2] == [200, 423]
    assert statuses[2].status_code == 200 and statuses[2].content == b"abc"

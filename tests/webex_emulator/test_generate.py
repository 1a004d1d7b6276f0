"""The generated data set covers what an archiver must handle, reproducibly."""

from __future__ import annotations

import re

from tests.conftest import END, make_dataset
from webex_emulator.ids import decode_id
from webex_emulator.media import png


def walk(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


def test_same_seed_same_data_set():
    assert make_dataset(seed=3).to_json() == make_dataset(seed=3).to_json()
    assert make_dataset(seed=3).to_json() != make_dataset(seed=4).to_json()


def test_shapes_are_webex_shapes():
    data = make_dataset().to_json()
    assert None not in set(walk(data))  # optional keys are omitted, never null
    for kind, objects in (
        ("ROOM", data["rooms"]),
        ("MESSAGE", data["messages"]),
        ("PEOPLE", data["people"]),
        ("MEMBERSHIP", data["memberships"]),
    ):
        for obj in objects:
            assert re.fullmatch(r"[A-Za-z0-9]+", obj["id"])
            assert re.fullmatch(rf"ciscospark://[\w:.-]+/{kind}/[0-9a-f:-]+", decode_id(obj["id"]))
    clusters = {decode_id(r["id"]).split("/")[2] for r in data["rooms"]}
    assert clusters == {"us", "urn:TEAM:us-west-2_r"}
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
    assert all(stamp.fullmatch(m["created"]) for m in data["messages"])
    assert all(m["updated"] > m["created"] for m in data["messages"] if "updated" in m)


def test_covers_what_an_archiver_must_handle():
    ds = make_dataset(messages=400)
    messages = list(ds.messages.values())
    owner = ds.people[ds.tokens[ds.owner_token()]]
    orgs = {p["orgId"] for p in ds.people.values()}
    assert len(orgs) == 2 and {r["type"] for r in ds.rooms.values()} == {"group", "direct"}
    assert ds.people[ds.tokens[ds.bot_token()]]["type"] == "bot"
    ghosts = {m["personId"] for m in messages} - set(ds.people)
    assert len(ghosts) == 1  # wrote messages, but /people no longer finds them
    replies = [m for m in messages if "parentId" in m]
    assert all(ds.messages[r["parentId"]]["created"] < r["created"] for r in replies)
    assert all("parentId" not in ds.messages[r["parentId"]] for r in replies)
    gaps = [ds.message_key(r["id"])[0][:7] != ds.message_key(r["parentId"])[0][:7] for r in replies]
    assert any(gaps), "some replies answer a parent from an earlier month"
    assert any('data-object-type="person"' in m.get("html", "") for m in messages)
    assert any(m.get("mentionedGroups") == ["all"] for m in messages)
    assert any("markdown" in m for m in messages)
    assert any(m.get("attachments") for m in messages)
    assert any("updated" in m for m in messages)
    assert any("files" in m and "text" not in m for m in messages)
    names = {c.filename for c in ds.contents.values()}
    assert any(not n.isascii() for n in names)
    assert any("../" in n for n in names)
    assert any("<script>" in r["title"] for r in ds.rooms.values())
    assert any("\u202e" in p["displayName"] for p in ds.people.values())
    assert any("__pwned" in m.get("text", "") + m.get("html", "") for m in messages)
    assert owner["emails"][0].endswith("@example.com")
    newest = max(m["created"] for m in messages)
    assert newest <= END.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_hostile_content_can_be_switched_off():
    ds = make_dataset(messages=400, hostile_rate=0)
    text = str(ds.to_json())
    assert "__pwned" not in text and "\u202e" not in text


def test_generated_files_are_real():
    ds = make_dataset(messages=400)
    pngs = [c for c in ds.contents.values() if c.content_type == "image/png"]
    assert pngs and all(c.body().startswith(b"\x89PNG\r\n\x1a\n") for c in pngs)
    pdfs = [c for c in ds.contents.values() if c.content_type == "application/pdf"]
    assert pdfs and all(c.body().startswith(b"%PDF-") for c in pdfs)
    assert png(3, 2, 1)[12:16] == b"IHDR"

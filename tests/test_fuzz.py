"""Random message objects through the whole path: emulator → sync → archive.db → render.

Webex documents one shape per message field; an archive for compliance must still keep
whatever it is sent. Hypothesis builds messages with any optional field missing, fields of the
wrong type (numbers, lists, objects, null where strings are expected), unknown extra fields,
threads to parents that exist, that do not, that are themselves, or that are not even strings,
and ``created`` in odd forms: with and without milliseconds, microseconds, ``Z``, offsets from
-14:00 to +14:00, no zone at all, nonsense, or missing. They are served by the emulator (which
lists them where Webex would: webex_emulator/model.py, "Lenient but faithful"), synced twice with
etl.sync.sync_spaces (pages of 3 or 1,000, so that odd times meet the paging and the coverage),
and rendered in every format, in five time zones, sorted either way, split or not, blurred or
not. The properties:

* no crash, and no space reported as failed;
* every message stored: one row per id, its ``raw`` exactly the object as served, its
  ``created`` in the archive's one time form (the sent time when it is one; see
  etl/store/__init__.py ``received`` for a message without one), nothing marked deleted by the
  second sync;
* every message rendered: ``id="msg-<id>"`` in the HTML (every page of a split) and the id
  in the JSON.

The decisions these tests pin down (etl/store/rows.py, "API objects to rows"): raw keeps the
object as sent; a column holds its documented shape or NULL (a text column gets the JSON text of a
non-string); a message is never dropped for a bad field. Only ``id`` and ``roomId`` are
required: without them there is no row to write (and the emulator cannot even hold such a
message), so message_row refuses them with ValueError.

Bounded: one emulator for the module, EXAMPLES examples of the whole path, no deadline;
about 40 s of CPU, in SHARDS tests that run side by side. A deeper search:
FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py --timeout 0.

Found and fixed with it (each has its own test below): the sync crashed on a message whose
``created`` was missing, null, a number or a list (KeyError, TypeError, NOT NULL and binding
errors in the walk and the coverage), stored lists, objects and numbers raw into text columns
(binding errors), crashed on a ``files`` that was not a list of URLs, fetched "../people/me"
as a thread parent (the id was not quoted into the path) and stored a parent from another
space (FOREIGN KEY failed); the emulator could not hold such messages (KeyError, TypeError in
its indexes, a 500 serving a ``files`` that is not a list).
"""

from __future__ import annotations

import json
import os
import re
import uuid
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlite_utils import Database

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import FORMATS, RenderOptions, render_spaces
from render.query import Filters
from webex_emulator import DataSet, Emulator
from webex_emulator.ids import make_id
from webex_emulator.model import order_time

from .conftest import make_dataset

ARCHIVE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
KNOWN = ("id", "roomId", "roomType", "parentId", "personId", "personEmail", "text", "markdown",
         "html", "files", "attachments", "mentionedPeople", "mentionedGroups", "isVoiceClip",
         "created", "updated")  # fmt: skip
# "errors" marks a message Webex could not decrypt (another feature, with its own tests).
RESERVED = {*KNOWN, "errors"}
NOW = "2026-11-01T12:00:00.000Z"
# Examples of the whole path per run; FUZZ_EXAMPLES=2000 for a deeper search (about 4 min).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
# The whole path's examples are drawn in this many tests of EXAMPLES // SHARDS each (each a
# separate search: Hypothesis keys its examples by the test's id), so that the slowest test of
# the suite (about 40 s alone) does not hold one worker while the others have finished.
SHARDS = 3

# ----- strategies ----------------------------------------------------------------------------

# Any JSON value (JSON has no NaN or infinity, so neither has Webex's API).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)

moments = st.one_of(
    st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2030, 12, 31)),
    st.sampled_from([datetime(1000, 1, 2), datetime(9998, 12, 30, 23, 59, 59, 999999)]),
)
FORMS = ("ms-z", "s-z", "us-z", "offset", "offset-ms", "naive", "naive-ms", "lower-z", "+00:00")


@st.composite
def times(draw: st.DrawFn) -> str:
    """An instant written the way Webex does (2024-03-01T09:30:00.123Z) or another ISO 8601 way."""
    moment = draw(moments).replace(tzinfo=timezone.utc)
    form = draw(st.sampled_from(FORMS))
    if form.startswith("offset"):
        minutes = draw(st.integers(-14 * 60, 14 * 60))
        local = moment.astimezone(timezone(timedelta(minutes=minutes)))
        spec = "milliseconds" if form == "offset-ms" else "seconds"
        return local.isoformat(timespec=spec)
    naive = moment.replace(tzinfo=None)
    return {
        "ms-z": naive.isoformat(timespec="milliseconds") + "Z",
        "s-z": naive.isoformat(timespec="seconds") + "Z",
        "us-z": naive.isoformat(timespec="microseconds") + "Z",
        "naive": naive.isoformat(timespec="seconds"),
        "naive-ms": naive.isoformat(timespec="milliseconds"),
        "lower-z": naive.isoformat(timespec="milliseconds") + "z",
        "+00:00": naive.isoformat(timespec="milliseconds") + "+00:00",
    }[form]


def either(good: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the field's own shape, sometimes any JSON value at all."""
    return st.one_of(good, good, json_values)


webex_ids = st.builds(lambda u: make_id("MESSAGE", str(u)), st.uuids())
# Opaque ids of another alphabet: base64 ("+", "/", "="), url-safe base64, dashes.
odd_ids = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_",
    min_size=1,
    max_size=24,
)


@st.composite
def messages(draw: st.DrawFn, room_id: str, people: list[str], contents: list[str]) -> list[dict]:
    """One space's messages: unique ids, everything else anything."""
    ids = draw(st.lists(webex_ids | odd_ids, min_size=1, max_size=10, unique=True))
    person_ids = st.sampled_from(people) | webex_ids
    parents = st.sampled_from(ids) | webex_ids | st.text(max_size=12) | json_values
    optional = {
        "roomType": either(st.sampled_from(["group", "direct"])),
        "parentId": parents,
        "personId": either(person_ids),
        "personEmail": either(st.emails()),
        "text": either(st.text(max_size=40)),
        "markdown": either(st.text(max_size=40)),
        "html": either(st.text(alphabet="<>/=\"'&ab pdivspan-:;", max_size=40)),
        "files": either(st.lists(st.sampled_from(contents) | st.text(max_size=10), max_size=2)),
        "attachments": either(
            st.lists(st.fixed_dictionaries({"contentType": st.text(max_size=10)}), max_size=1)
        ),
        "mentionedPeople": either(st.lists(person_ids, max_size=2)),
        "mentionedGroups": either(st.lists(st.just("all"), max_size=1)),
        "isVoiceClip": either(st.booleans()),
        "created": either(times()) | st.text(max_size=10),
        "updated": either(times()),
    }
    extras = st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda key: key not in RESERVED),
        json_values,
        max_size=2,
    )
    result = []
    for message_id in ids:
        fields = draw(st.fixed_dictionaries({}, optional=optional))
        result.append({"id": message_id, "roomId": room_id, **draw(extras), **fields})
    return result


# ----- one emulator for the module -------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(make_dataset(messages=3, spaces=1, hostile_rate=0)) as emulator:
        yield emulator


def people_and_contents(ds: DataSet) -> tuple[list[str], list[str]]:
    return sorted(ds.people), sorted(ds.contents)


def new_space(emu: Emulator, messages: list[dict]) -> str:
    """A fresh group space of the owner's, holding ``messages`` (added as the emulator adds).

    Hypothesis replays examples: a message id an earlier example used leaves its old space."""
    ds = emu.dataset
    owner = ds.people[ds.tokens[emu.token]]
    room_id = messages[0]["roomId"]
    with ds.lock:
        for message in messages:
            if message["id"] in ds.messages:
                ds.delete_message(message["id"])
        ds.rooms[room_id] = {"id": room_id, "title": f"Fuzz {room_id[-6:]}", "type": "group",
                             "isLocked": False, "lastActivity": NOW, "creatorId": owner["id"],
                             "created": "2004-01-01T00:00:00.000Z"}  # fmt: skip
        ds.add_membership(ds.membership_for(room_id, owner["id"]))
        for message in messages:
            ds.add_message(message)
    return room_id


def served(message: dict, emu: Emulator) -> dict:
    """The message as the emulator serves it: content ids in files become URLs."""
    files = message.get("files")
    if not isinstance(files, list):
        return message
    base = emu.api_url.removesuffix("/v1")
    return {**message, "files": [f"{base}/v1/contents/{f}" if isinstance(f, str) else f
                                 for f in files]}  # fmt: skip


def json_ids(node: Any) -> Iterator[str]:
    """Every message id in a rendered JSON document's thread list."""
    for thread in node:
        yield thread["id"]
        yield from (reply["id"] for reply in thread["replies"])


def room_ids() -> st.SearchStrategy[str]:
    return st.builds(lambda u: make_id("ROOM", str(u)), st.uuids())


# ----- the whole path --------------------------------------------------------------------------


@pytest.mark.parametrize("shard", range(SHARDS))  # xdist runs the shards side by side
@settings(
    max_examples=EXAMPLES // SHARDS,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_message_is_stored_and_rendered(
    emu: Emulator, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, shard: int
) -> None:
    people, contents = people_and_contents(emu.dataset)
    room_id = make_id("ROOM", str(uuid.uuid4()))  # a new space each time, replays included
    sent = data.draw(messages(room_id, people, contents))
    new_space(emu, sent)
    archive = tmp_path_factory.mktemp("fuzz")
    page_size = data.draw(st.sampled_from([3, 1000]))

    for _ in range(2):  # the second run re-reads the look-back window over what it has
        db, result = sync_one_space(emu, archive, room_id, page_size)
        assert result.error is None, result.error
        if _ == 0:
            db.close()

    rows = {
        row[0]: row[1:]
        for row in db.execute(
            "SELECT id, raw, created, deleted_at FROM messages WHERE space_id = ?", [room_id]
        )
    }
    assert set(rows) == {m["id"] for m in sent}
    for message in sent:
        raw, created, deleted_at = rows[message["id"]]
        assert json.loads(raw) == served(message, emu)
        assert ARCHIVE_TIME.fullmatch(created), created
        if store.archive_time(message.get("created")):
            assert created == store.archive_time(message["created"])
        assert deleted_at is None
    db.close()

    zone = data.draw(st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago",
                                      "Europe/Amsterdam", "America/Sao_Paulo"]))  # fmt: skip
    options = RenderOptions(
        filters=Filters(sort=data.draw(st.sampled_from(["oldest", "newest"]))),
        zone=ZoneInfo(zone),
        zone_name=zone,
        formats=FORMATS,
        blur=data.draw(st.booleans()),
        split=data.draw(st.sampled_from(["none", "none", "year", "month"])),
    )
    written = render_spaces(archive, [room_id], False, options)
    pages = "".join(p.read_text(encoding="utf-8") for p in written if p.suffix == ".html")
    documents = [p for p in written if p.suffix == ".json" and not p.name.endswith(".seed.json")]
    [document] = [json.loads(p.read_text(encoding="utf-8")) for p in documents]
    rendered = set(json_ids(document["messages"]))
    for message in sent:
        assert f'id="msg-{escape(message["id"])}"' in pages, message["id"]
        assert message["id"] in rendered
    assert document["statistics"]["in_window"] == len(sent)
    stem = documents[0].name.removesuffix(".json")
    # RSMF writes a file per day (tests/render/test_rsmf.py reads them back)
    others = [p.name.removeprefix(stem) for p in written if p.suffix not in (".html", ".rsmf")]
    assert others == [".json", ".txt", "-eml", "-eml.zip", ".mbox", ".slack.zip", ".seed.json"]
    # The EML ZIP holds the EML folder's mails, byte for byte, whatever the messages hold.
    folder, packed = (p for p in written if p.name.endswith(("-eml", "-eml.zip")))
    with zipfile.ZipFile(packed) as archive_zip:
        assert archive_zip.testzip() is None
        members = {n: archive_zip.read(n) for n in archive_zip.namelist() if n[-1] != "/"}
    assert members == {f"{folder.name}/{p.name}": p.read_bytes() for p in folder.iterdir()}


def sync_one_space(emu: Emulator, archive: Path, room_id: str, page_size: int = 1000):
    db = store.open_archive(archive)
    with WebexClient(emu.token, emu.api_url) as client:
        options = SyncOptions(download="info", archive_dir=archive, page_size=page_size)
        [result] = sync_spaces(db, client, [room_id], options)
    return db, result


def test_messages_without_a_time_are_archived_where_they_are_listed(
    emu: Emulator, tmp_path: Path
) -> None:
    """Without ``created`` (or with a number there) the walk crashed (KeyError, TypeError).
    Now such a message is kept, at its newer neighbour's time. The emulator lists the two
    without a time last (oldest); one message a page, so the neighbour is on the page before."""
    room_id = make_id("ROOM", str(uuid.uuid4()))
    ids = [make_id("MESSAGE", str(uuid.uuid4())) for _ in range(4)]
    new_space(emu, [
        {"id": ids[0], "roomId": room_id, "created": "2024-03-02T10:00:00+02:00", "text": "a"},
        {"id": ids[1], "roomId": room_id, "text": "no time at all"},
        {"id": ids[2], "roomId": room_id, "created": 1709300000, "text": 7},
        {"id": ids[3], "roomId": room_id, "created": "2024-03-01T08:00:00.123456Z"},
    ])  # fmt: skip
    db, result = sync_one_space(emu, tmp_path, room_id, page_size=1)
    assert result.error is None and result.new == 4
    rows = dict(db.execute("SELECT id, created FROM messages").fetchall())
    assert rows[ids[0]] == "2024-03-02T08:00:00.000Z"
    assert rows[ids[3]] == "2024-03-01T08:00:00.123Z"
    assert rows[ids[1]] == rows[ids[2]] == "2024-03-01T08:00:00.123Z"
    assert db.execute("SELECT text FROM messages WHERE id = ?", [ids[2]]).fetchone() == ("7",)


@pytest.mark.parametrize("parent", ["../people/me", "../rooms", "?max=1", "a#b", "..", ""])
def test_a_parent_id_is_one_path_segment(emu: Emulator, tmp_path: Path, parent: str) -> None:
    """A reply's parentId is fetched as GET /messages/{id} with the id quoted: unquoted,
    "../people/me" fetched a person, which the sync then tried to store as a message."""
    room_id = make_id("ROOM", str(uuid.uuid4()))
    reply = {"id": make_id("MESSAGE", str(uuid.uuid4())), "roomId": room_id, "parentId": parent,
             "created": "2024-01-01T00:00:00.000Z"}  # fmt: skip
    new_space(emu, [reply])
    db, result = sync_one_space(emu, tmp_path, room_id)
    assert result.error is None and result.parents == 0
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    assert db.execute("SELECT id FROM unavailable_messages").fetchall() == [(parent,)]


def test_a_parent_in_another_space_is_not_this_threads(emu: Emulator, tmp_path: Path) -> None:
    """Found by the fuzz: a reply whose parentId names a message of another space the token
    sees. The sync fetched it by id and stored it under a space the archive does not have
    (FOREIGN KEY constraint failed: a crash). It is recorded as unavailable instead."""
    elsewhere = new_space(emu, [{"id": make_id("MESSAGE", str(uuid.uuid4())),
                                 "roomId": make_id("ROOM", str(uuid.uuid4())),
                                 "created": "2024-01-01T00:00:00.000Z"}])  # fmt: skip
    [other] = [m for m in emu.dataset.messages.values() if m["roomId"] == elsewhere]
    room_id = make_id("ROOM", str(uuid.uuid4()))
    reply = {"id": make_id("MESSAGE", str(uuid.uuid4())), "roomId": room_id,
             "parentId": other["id"], "created": "2024-01-02T00:00:00.000Z"}  # fmt: skip
    new_space(emu, [reply])
    db, result = sync_one_space(emu, tmp_path, room_id)
    assert result.error is None and result.parents == 0
    assert db.execute("SELECT id FROM messages").fetchall() == [(reply["id"],)]
    assert db.execute("SELECT id, status FROM unavailable_messages").fetchall() == [
        (other["id"], 200)
    ]


# ----- the pieces, many more examples (no HTTP) ------------------------------------------------


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = store.open_archive(tmp_path_factory.mktemp("rows"))
    yield db
    db.close()


any_object = st.dictionaries(st.sampled_from(KNOWN) | st.text(max_size=8), json_values, max_size=8)


def listed_message(extra: dict, message_id: str, created: str | None) -> dict:
    """Any object with an id and a roomId; ``created`` a time, nonsense, or missing."""
    return {**extra, "id": message_id, "roomId": "R", **({"created": created} if created else {})}


pages = st.lists(
    st.builds(
        listed_message, any_object, st.uuids().map(str), st.none() | times() | st.text(max_size=8)
    ),
    max_size=6,
    unique_by=lambda m: m["id"],
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=pages)
def test_a_page_of_any_messages_becomes_rows(archive_db, page: list[dict]) -> None:
    """received + message_row + file_rows + the writers: every column bindable, every row in,
    times in order where the page had them, raw exactly as sent."""
    kept = store.received(page, NOW)
    assert [m.sent for m in kept] == page
    assert all(ARCHIVE_TIME.fullmatch(m["created"]) for m in kept)
    listed = [store.archive_time(m.get("created")) for m in page]
    known = [time for time in listed if time]
    assert [m["created"] for m in kept if store.archive_time(m.sent.get("created"))] == known
    with store.transaction(archive_db):
        store.save_space(archive_db, {"id": "R", "title": "rows"}, NOW)
        store.save_messages(archive_db, kept, NOW)
    for message in page:
        raw = archive_db.execute("SELECT raw FROM messages WHERE id = ?", [message["id"]])
        assert json.loads(raw.fetchone()[0]) == message
    rows = [store.message_row(m, NOW) for m in kept]
    for row in rows:
        assert all(v is None or isinstance(v, str | int) for v in row.values()), row


@settings(max_examples=200, deadline=None)
@given(api=any_object)
def test_any_object_maps_to_bindable_rows(api: dict) -> None:
    """People, spaces and memberships of any shape map to columns SQLite can bind."""
    for build in (store.space_row, store.person_row, store.membership_row):
        row = build(api)
        assert all(v is None or isinstance(v, str | int) for v in row.values()), (build, row)
        assert json.loads(row["raw"]) == api
    if isinstance(api.get("id"), str) and api["id"] and isinstance(api.get("roomId"), str) \
            and api["roomId"]:  # fmt: skip
        assert store.message_row(api, NOW)["created"]
    else:
        with pytest.raises(ValueError, match="message without"):
            store.message_row(api, NOW)
    store.file_rows({**api, "id": "M", "roomId": "R"})


@settings(max_examples=200, deadline=None)
@given(text=times())
def test_every_iso_form_is_the_same_instant(text: str) -> None:
    """archive_time writes the instant, not the text: re-reading gives the same UTC time."""
    stored = store.archive_time(text)
    assert stored is not None and ARCHIVE_TIME.fullmatch(stored)
    expected = datetime.fromisoformat(text.replace("z", "+00:00").replace("Z", "+00:00"))
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=timezone.utc)
    back = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    assert timedelta(0) <= expected - back < timedelta(milliseconds=1)
    assert store.archive_time(stored) == stored


def test_webex_times_are_kept_as_they_are() -> None:
    assert store.archive_time("2026-03-02T20:28:32.599Z") == "2026-03-02T20:28:32.599Z"
    assert store.archive_time("2026-03-02T22:28:32+02:00") == "2026-03-02T20:28:32.000Z"
    for nonsense in (None, 17, "", "yesterday", "2024-13-01T00:00:00Z", "0999-01-01T00:00:00Z"):
        assert store.archive_time(nonsense) is None


def test_a_message_without_created_sits_beside_its_neighbours() -> None:
    page = [
        {"id": "a", "roomId": "R", "created": "2024-03-02T00:00:00.000Z"},
        {"id": "b", "roomId": "R"},
        {"id": "c", "roomId": "R", "created": 5},
        {"id": "d", "roomId": "R", "created": "2024-03-01T00:00:00+01:00"},
    ]
    assert [m["created"] for m in store.received(page, NOW)] == [
        "2024-03-02T00:00:00.000Z",
        "2024-03-02T00:00:00.000Z",
        "2024-03-02T00:00:00.000Z",
        "2024-02-29T23:00:00.000Z",
    ]
    alone = [{"id": "x", "roomId": "R"}, {"id": "y", "roomId": "R", "created": "2024-01-01"}]
    assert [m["created"] for m in store.received(alone, NOW)] == [
        "2024-01-01T00:00:00.000Z",
        "2024-01-01T00:00:00.000Z",
    ]
    assert store.received([{"id": "z", "roomId": "R", "created": None}], NOW)[0]["created"] == NOW
    before = "2024-01-01T00:00:00.000Z"  # the last message of the page before
    assert store.received([{"id": "z", "roomId": "R"}], NOW, before)[0]["created"] == before


@settings(max_examples=100, deadline=None)
@given(room_id=room_ids(), data=st.data())
def test_the_emulator_lists_any_message_where_webex_would(room_id: str, data) -> None:
    """DataSet.from_json (the --data path) takes any message with an id and a roomId and
    lists them newest first by their time; those without one come last."""
    sent = data.draw(messages(room_id, ["P"], ["C"]))
    document = make_dataset(messages=1, spaces=1, hostile_rate=0).to_json()
    document["rooms"].append({"id": room_id, "title": "t", "type": "group"})
    document["messages"] = sent
    ds = DataSet.from_json(json.loads(json.dumps(document)))
    listed = list(ds.room_messages(room_id))
    assert sorted(m["id"] for m in listed) == sorted(m["id"] for m in sent)
    order = [order_time(m.get("created")) for m in listed]
    assert order == sorted(order, reverse=True)
    for message in listed:
        ds.delete_message(message["id"])  # the other index paths take them too
    assert ds.room_message_count(room_id) == 0

"""Attachment metadata: Content-Disposition parsing, and HEAD of every file against the emulator."""

from __future__ import annotations

import pytest
from requests.structures import CaseInsensitiveDict

from etl.api import AuthError
from etl.files.attachments import (
    FileInfo,
    fetch_file_info,
    info_from_headers,
    parse_content_disposition,
)
from etl.store import save_messages, save_space, transaction
from tests.conftest import group_room, make_dataset
from webex_emulator import Rule
from webex_emulator.disposition import content_disposition
from webex_emulator.hostile import FILE_NAMES

SYNCED = "2026-11-01T12:30:00.000Z"
CHECKED = "2026-11-01T12:31:00.000Z"
ZERO = {"checked": 0, "info": 0, "gone": 0, "infected": 0, "unscannable": 0, "failed": 0}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("attachment; filename=\"__.png\"; filename*=UTF-8''%E5%9B%BE%E7%89%87.png", "图片.png"),
        ('attachment; filename="example.png"', "example.png"),
        ('attachment; filename="a b.png"', "a b.png"),
        ("attachment; filename=a.png", "a.png"),
        ('attachment; filename="say \\"hi\\".txt"', 'say "hi".txt'),
        ('attachment; filename="back\\\\slash.txt"', "back\\slash.txt"),
        ('attachment; filename="semi;colon.txt"; size=12', "semi;colon.txt"),
        ('attachment; filename=" spaced .txt "', " spaced .txt "),
        ("attachment; filename*=UTF-8''%E5%9B%BE.png; filename=\"fallback.png\"", "图.png"),
        ("attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf", "résumé.pdf"),
        ("attachment; filename*=ISO-8859-1''%E9t%E9.txt", "été.txt"),
        ("attachment; filename*=UTF-8'en'caf%C3%A9.txt", "café.txt"),
        ("attachment; filename*=UTF-8'zh-Hans-CN'%E5%9B%BE.png", "图.png"),
        ("ATTACHMENT; FILENAME=Upper.TXT", "Upper.TXT"),
        ("attachment; FileName*=UTF-8''mixed%20case.txt", "mixed case.txt"),
        ("inline; filename = spaced-equals.txt ;", "spaced-equals.txt"),
        ("attachment;filename=nospace.txt", "nospace.txt"),
        ('attachment; filename="first.txt"; filename="second.txt"', "first.txt"),
        ("attachment; filename*=UTF-8''%FF%FE.png; filename=\"bad-utf8.png\"", "bad-utf8.png"),
        (
            "attachment; filename*=KOI8-R''%C1.txt; filename=\"unknown-charset.txt\"",
            "unknown-charset.txt",
        ),
        ('attachment; filename*=no-quotes.txt; filename="malformed.txt"', "malformed.txt"),
        ("attachment; filename*=UTF-8''; filename=\"empty-star.txt\"", "empty-star.txt"),
        ("attachment; filename*=UTF-8''line%0Abreak%01.txt", "line\nbreak\x01.txt"),
        ("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"),
        ('attachment; filename="unterminated.png', "unterminated.png"),
        ('attachment; filename="\u00e5\u009b\u00be.png"', "图.png"),  # raw UTF-8 read as Latin-1
        ('attachment; filename="caf\u00e9.txt"', "café.txt"),  # real Latin-1 stays
        # Forms servers use for names beyond ASCII in a plain filename (docs/undocumented.md):
        ('attachment; filename="=?UTF-8?B?5Zu+54mHLnBuZw==?="', "图片.png"),  # RFC 2047
        ('attachment; filename="=?utf-8?q?caf=C3=A9_2.txt?="', "café 2.txt"),
        ('attachment; filename="=?UTF-8?B?5Zu+?= =?UTF-8?B?54mHLnBuZw==?="', "图片.png"),
        ('attachment; filename="=?UTF-8?B?////?="', "=?UTF-8?B?////?="),  # not UTF-8: kept
        ('attachment; filename="=?X-UNKNOWN?B?YQ==?="', "=?X-UNKNOWN?B?YQ==?="),
        ('attachment; filename="%E5%9B%BE%E7%89%87.png"', "图片.png"),  # percent-encoded
        ('attachment; filename="100%25%20%C3%A9.txt"', "100% é.txt"),
        ('attachment; filename="tab%09here.txt"', "tab\there.txt"),
        ('attachment; filename="a%20b.txt"', "a%20b.txt"),  # ASCII escapes: a name as it is
        ('attachment; filename="..%2F..%2Fetc%2Fpasswd"', "..%2F..%2Fetc%2Fpasswd"),
        ('attachment; filename="%FF%FE.png"', "%FF%FE.png"),  # not UTF-8: kept
        ('attachment; filename="\u00e9%C3%A9.txt"', "\u00e9%C3%A9.txt"),  # not ASCII: not decoded
        ("attachment", None),
        ('attachment; filename=""', None),
        ('attachment; filename="   "', None),
        ("attachment; name=field", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_content_disposition(header, expected):
    assert parse_content_disposition(header) == expected


ROUND_TRIP = [
    "notes.txt",
    'a "q" \\.txt',
    "图片.png",
    "café.txt",
    "会議の議事録と来期の予算案についての最終確認版です.pdf",  # two encoded-words in rfc2047
    "😀 emoji.png",
    "100% é.txt",
    *FILE_NAMES,
]


@pytest.mark.parametrize("form", ["rfc6266", "raw-utf8", "plain", "rfc2047", "percent"])
def test_every_form_the_emulator_sends_gives_back_the_name(form):
    """What the emulator's server writes (webex_emulator/disposition.py), read back. Only what
    a form cannot carry is lost: control characters sent raw become "_" on the server."""
    for name in ROUND_TRIP:
        wire = content_disposition(name, form)
        expected = name
        if form in ("raw-utf8", "plain"):
            expected = "".join("_" if ord(c) < 32 or ord(c) == 127 else c for c in name)
        assert parse_content_disposition(wire) == (expected if expected.strip() else None), name


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"content-length": "44752", "content-type": "image/png",
             "content-disposition": 'attachment; filename="example.png"'},
            FileInfo("info", "example.png", "image/png", 44752),
        ),
        ({"Content-Length": "0"}, FileInfo("info", None, None, 0)),
        ({"Content-Length": " 12 "}, FileInfo("info", None, None, 12)),
        ({"Content-Length": "-1"}, FileInfo("info", None, None, None)),
        ({"Content-Length": "12, 12"}, FileInfo("info", None, None, None)),
        ({"Content-Length": "１２"}, FileInfo("info", None, None, None)),  # fullwidth digits
        ({"Content-Length": ""}, FileInfo("info", None, None, None)),
        ({}, FileInfo("info", None, None, None)),
    ],
)  # fmt: skip
def test_info_from_headers(headers, expected):
    assert info_from_headers(CaseInsensitiveDict(headers)) == expected


# ----- against the emulator ---------------------------------------------------------------------


@pytest.fixture
def dataset():
    return make_dataset(messages=60)


@pytest.fixture
def room(dataset, db, client, emu):
    """The space with the hostile file names, saved with all its messages; log cleared."""
    room = group_room(dataset, 2)
    with transaction(db):
        save_space(db, client.get_json(f"rooms/{room['id']}"), SYNCED)
    for page in client.pages("messages", {"roomId": room["id"], "max": 1000}):
        with transaction(db):
            save_messages(db, page, SYNCED)
    emu.log.clear()
    return room


def content_id(url: str) -> str:
    return url.split("/v1/contents/", 1)[1]


def rows(db, space_id: str) -> dict[str, dict]:
    """files rows by content id (each content is attached once in the generated data)."""
    found = db.query("SELECT * FROM files WHERE space_id = ? ORDER BY url", [space_id])
    return {content_id(row["url"]): row for row in found}


def heads(emu) -> list[tuple[str, int]]:
    return [(content_id(e.path), e.status) for e in emu.log.entries() if e.method == "HEAD"]


def room_contents(dataset, room_id: str) -> list[str]:
    messages = [m for m in dataset.messages.values() if m["roomId"] == room_id]
    return sorted(c for m in messages for c in m.get("files", []))


def test_every_file_gets_its_info_and_verdict(dataset, emu, client, sleeps, db, room):
    ids = room_contents(dataset, room["id"])
    assert len(ids) == 17
    infected, unscannable, gone, locked = ids[:4]
    dataset.contents[infected].scan = "infected"
    dataset.contents[unscannable].scan = "unscannable"
    del dataset.contents[gone]
    emu.add_fault(
        Rule("status", 423, rate=1.0, times=1, path=f"/v1/contents/{locked}", retry_after=0)
    )

    counts = fetch_file_info(db, client, room["id"], CHECKED)

    assert counts == {**ZERO, "checked": 17, "info": 14, "gone": 1, "infected": 1, "unscannable": 1}
    found = rows(db, room["id"])
    assert set(found) == set(ids)
    verdicts = {
        infected: ("infected", f"Webex answered 410 for /v1/contents/{infected}"),
        unscannable: ("unscannable", f"Webex answered 428 for /v1/contents/{unscannable}"),
        gone: ("gone", f"Webex does not know /v1/contents/{gone} (404)"),
    }
    for cid, row in found.items():
        assert row["checked_at"] == CHECKED
        if cid in verdicts:
            status, error = verdicts[cid]
            assert (row["status"], row["error"]) == (status, error)
            assert (row["name"], row["content_type"], row["size"]) == (None, None, None)
            continue
        content = dataset.contents[cid]
        assert row["status"] == "info", row
        assert row["name"] == content.filename  # as sent: raw, not made safe
        assert row["content_type"] == content.content_type
        assert row["size"] == len(content.body())
        assert row["error"] is None
    log = heads(emu)
    assert len(log) == 18
    assert [status for cid, status in log if cid == locked] == [423, 200]
    assert sleeps == [0.0]


def test_hostile_names_are_stored_exactly_as_sent(dataset, client, db, room):
    fetch_file_info(db, client, room["id"], CHECKED)
    names = {row["name"] for row in rows(db, room["id"]).values()}
    assert set(FILE_NAMES) <= names


def test_a_second_run_sends_no_request(emu, client, db, room):
    first = fetch_file_info(db, client, room["id"], CHECKED)
    assert first["checked"] == first["info"] == 17
    before = db.execute("SELECT * FROM files ORDER BY url").fetchall()
    emu.log.clear()

    assert fetch_file_info(db, client, room["id"], "2026-11-02T00:00:00.000Z") == ZERO
    assert emu.log.entries() == []
    assert db.execute("SELECT * FROM files ORDER BY url").fetchall() == before


def test_a_file_locked_too_long_fails_and_is_retried_next_run(
    dataset, emu, client, sleeps, db, room
):
    locked = room_contents(dataset, room["id"])[5]
    emu.add_fault(Rule("status", 423, rate=1.0, times=6, path=f"/v1/contents/{locked}"))

    counts = fetch_file_info(db, client, room["id"], CHECKED, workers=2)

    assert counts == {**ZERO, "checked": 17, "info": 16, "failed": 1}
    row = rows(db, room["id"])[locked]
    assert (row["status"], row["error"], row["name"]) == ("failed", "still being scanned", None)
    assert [status for cid, status in heads(emu) if cid == locked] == [423] * 6
    assert sleeps == [1.0] * 5  # no Retry-After: one second each time

    emu.log.clear()
    again = fetch_file_info(db, client, room["id"], "2026-11-02T00:00:00.000Z")
    assert again == {**ZERO, "checked": 1, "info": 1}
    assert heads(emu) == [(locked, 200)]
    row = rows(db, room["id"])[locked]
    assert (row["status"], row["error"]) == ("info", None)
    assert row["name"] == dataset.contents[locked].filename
    assert row["checked_at"] == "2026-11-02T00:00:00.000Z"


def test_a_long_retry_after_is_capped(dataset, emu, client, sleeps, db, room):
    locked = room_contents(dataset, room["id"])[0]
    emu.add_fault(
        Rule("status", 423, rate=1.0, times=1, path=f"/v1/contents/{locked}", retry_after=600)
    )
    assert fetch_file_info(db, client, room["id"], CHECKED)["info"] == 17
    assert sleeps == [60.0]


def test_423_at_a_given_request_is_retried(dataset, emu, client, db, room):
    emu.add_fault(Rule("status", 423, at=[1], retry_after=0))
    counts = fetch_file_info(db, client, room["id"], CHECKED, workers=1)
    assert counts == {**ZERO, "checked": 17, "info": 17}
    log = heads(emu)
    assert log[0][1] == 423 and log[1] == (log[0][0], 200) and len(log) == 18


def test_other_errors_are_recorded_as_failed_with_one_line(dataset, emu, client, db, room):
    ids = room_contents(dataset, room["id"])
    emu.add_fault(Rule("status", 403, rate=1.0, path=f"/v1/contents/{ids[0]}"))
    emu.add_fault(Rule("status", 500, rate=1.0, path=f"/v1/contents/{ids[1]}"))

    counts = fetch_file_info(db, client, room["id"], CHECKED)

    assert counts == {**ZERO, "checked": 17, "info": 15, "failed": 2}
    found = rows(db, room["id"])
    assert found[ids[0]]["status"] == found[ids[1]]["status"] == "failed"
    # a HEAD answer has no body, so Webex's own message is not there to quote
    assert found[ids[0]]["error"] == f"Webex refused access to /v1/contents/{ids[0]} (403)"
    assert found[ids[1]]["error"] == (
        "Webex kept failing (HTTP 500) after several tries; run again later "
        "(the archive keeps what was fetched)"
    )
    assert [s for cid, s in heads(emu) if cid == ids[1]] == [500, 500, 500]  # FAST.tries


def test_an_expired_token_stops_the_run_and_keeps_what_was_learnt(emu, client, db, room):
    emu.faults.expire_token_after = 3
    with pytest.raises(AuthError):
        fetch_file_info(db, client, room["id"], CHECKED, workers=1)
    statuses = sorted(row["status"] for row in rows(db, room["id"]).values())
    assert statuses == ["info"] * 3 + ["pending"] * 14

    emu.faults.expire_token_after = None
    counts = fetch_file_info(db, client, room["id"], CHECKED)
    assert counts == {**ZERO, "checked": 14, "info": 14}


def test_a_url_shared_by_two_rows_is_asked_about_once(dataset, emu, client, db, room):
    url, message_id = db.execute(
        "SELECT url, message_id FROM files WHERE space_id = ? ORDER BY url LIMIT 1", [room["id"]]
    ).fetchone()
    other = db.execute(
        "SELECT id FROM messages WHERE space_id = ? AND id != ? AND files IS NULL LIMIT 1",
        [room["id"], message_id],
    ).fetchone()[0]
    with transaction(db):
        db.execute(
            "INSERT INTO files (url, message_id, space_id, position, status) "
            "VALUES (?, ?, ?, 0, 'pending')",
            [url, other, room["id"]],
        )

    counts = fetch_file_info(db, client, room["id"], CHECKED)

    assert counts == {**ZERO, "checked": 18, "info": 18}
    assert len(heads(emu)) == 17
    names = db.execute("SELECT DISTINCT name FROM files WHERE url = ?", [url]).fetchall()
    assert names == [(dataset.contents[content_id(url)].filename,)]


def test_a_file_url_on_another_host_is_not_sent_the_token(emu, client, db, room):
    message_id = db.execute(
        "SELECT id FROM messages WHERE space_id = ? AND files IS NULL LIMIT 1", [room["id"]]
    ).fetchone()[0]
    with transaction(db):
        db.execute(
            "INSERT INTO files (url, message_id, space_id, position, status) "
            "VALUES ('https://evil.example/v1/contents/x', ?, ?, 0, 'pending')",
            [message_id, room["id"]],
        )
    counts = fetch_file_info(db, client, room["id"], CHECKED)
    assert counts == {**ZERO, "checked": 18, "info": 17, "failed": 1}
    error = db.execute("SELECT error FROM files WHERE url LIKE 'https://evil%'").fetchone()[0]
    assert error == "not a Webex file URL (https://evil.example/v1/contents/x): not sent the token"
    assert len(heads(emu)) == 17


def test_a_json_file_s_head_is_its_answer_not_a_malformed_body(
    dataset, emu, client, sleeps, db, room
):
    """A HEAD has no body, whatever its type: a file of type application/json gets its info
    from one HEAD, not five retries for "a malformed JSON body" and a failure."""
    cid = room_contents(dataset, room["id"])[0]
    dataset.contents[cid].content_type = "application/json"

    counts = fetch_file_info(db, client, room["id"], CHECKED)

    assert counts == {**ZERO, "checked": 17, "info": 17}
    assert rows(db, room["id"])[cid]["content_type"] == "application/json"
    assert [status for c, status in heads(emu) if c == cid] == [200] and sleeps == []

"""``--format rsmf``: every file read back with ``email`` and ``zipfile``, every manifest
validated against a JSON Schema written from Relativity's RSMF 2.0 specification, and what it
says compared with the archive: participants, events, parents, edits, deletions, memberships,
attachments' bytes, the split per day and per 10,000 events, filters, hostile names."""

from __future__ import annotations

import email
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from render import RenderOptions, render_spaces
from render.page import build_page
from render.query import Filters, connect, meta
from render.rsmf import write_rsmf
from render.window import Window
from tests.render.conftest import SPACE_ID, insert
from tests.render.test_blur import downloaded, secrets  # noqa: F401 (a fixture)
from tests.test_cli import run

SCHEMA = json.loads((Path(__file__).parent / "rsmf_schema.json").read_text(encoding="utf-8"))
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SLIDES = b"%PDF-1.4\n the slides \x00\xff"
AVATAR = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """ISO 8601 with a zone, as the specification asks (jsonschema checks it only with an
    optional package, so the test says what it means)."""
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


VALIDATOR = jsonschema.Draft7Validator(SCHEMA, format_checker=_FORMATS)


@dataclass
class Rsmf:
    """One .rsmf file read back."""

    path: Path
    message: EmailMessage
    manifest: dict
    files: dict[str, bytes]  # the zip's other entries

    @property
    def headers(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.message.items()}

    def events(self, kind: str = "message") -> list[dict]:
        return [e for e in self.manifest["events"] if e["type"] == kind]


def read_rsmf(path: Path) -> Rsmf:
    """Parse ``path`` as RFC 5322, check the RSMF envelope, validate the manifest."""
    raw = path.read_bytes()
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n"), "CRLF line ends"
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.defects == []
    assert message["X-RSMF-Version"] == "2.0.0"
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["rsmf.zip"]
    assert attachments[0]["Content-Transfer-Encoding"] == "base64"
    assert attachments[0].get_content_disposition() == "attachment"
    archive = zipfile.ZipFile(io.BytesIO(attachments[0].get_content()))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("rsmf_manifest.json"))
    VALIDATOR.validate(manifest)
    files = {n: archive.read(n) for n in archive.namelist() if n != "rsmf_manifest.json"}
    found = Rsmf(path, message, manifest, files)
    check_references(found)
    return found


def check_references(rsmf: Rsmf) -> None:
    """Every id the manifest names is defined in it; the headers sum the manifest up."""
    manifest, headers = rsmf.manifest, rsmf.headers
    people = {p["id"] for p in manifest["participants"]}
    assert len(people) == len(manifest["participants"])
    conversations = {c["id"]: c for c in manifest["conversations"]}
    events = manifest["events"]
    ids = [e["id"] for e in events if "id" in e]
    assert len(ids) == len(set(ids))
    for conversation in conversations.values():
        assert set(conversation["participants"]) <= people
        assert conversation.get("custodian", "none") in [*conversation["participants"], "none"]
    named = set()
    for event in events:
        assert event["participant"] in people and event["conversation"] in conversations
        assert "parent" not in event or event["parent"] in ids
        assert {e["participant"] for e in event.get("edits", [])} <= people
        named |= {a["id"] for a in event.get("attachments", [])}
    avatars = {p["avatar"] for p in manifest["participants"] if "avatar" in p}
    assert named | avatars == set(rsmf.files), "the zip holds exactly what the manifest names"
    times = sorted(e["timestamp"] for e in events if "timestamp" in e)
    assert headers["X-RSMF-EventCount"] == str(len(events))
    assert headers["X-RSMF-AttachmentCount"] == str(
        sum(len(e.get("attachments", [])) for e in events)
    )
    assert (headers["X-RSMF-BeginDate"], headers["X-RSMF-EndDate"]) == (times[0], times[-1])
    assert headers["X-RSMF-EventCollectionID"] == manifest["eventcollectionid"]


def read_all(paths: list[Path]) -> list[Rsmf]:
    assert paths and all(p.suffix == ".rsmf" for p in paths)
    return [read_rsmf(p) for p in paths]


def messages_of(files: list[Rsmf]) -> dict[str, dict]:
    """Every message event of the files by id; none may appear twice except as context."""
    found: dict[str, dict] = {}
    for rsmf in files:
        for event in rsmf.events():
            repeated = any(c["value"].startswith("repeated") for c in event.get("custom", []))
            assert repeated or event["id"] not in found, event["id"]
            found.setdefault(event["id"], event)
    return found


@pytest.fixture
def falcon(small_archive: Path) -> Path:
    """The hand-built archive with what RSMF also reads: the slides' bytes, an earlier
    version of msg-05 and Alice's avatar."""
    folder = small_archive / "Project Falcon"
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "slides.pdf").write_bytes(SLIDES)
    (folder / "avatars").mkdir()
    (folder / "avatars" / "Alice Example.png").write_bytes(AVATAR)
    conn = connect_rw(small_archive)
    with conn:
        insert(
            conn,
            "message_revisions",
            [
                {
                    "message_id": "msg-05",
                    "revision": 1,
                    "text": "Draft is ready.",
                    "updated": None,
                    "replaced_at": "2024-03-13T00:00:00.000Z",
                },
            ],
        )
        insert(
            conn,
            "avatars",
            [
                {
                    "space_id": SPACE_ID,
                    "person_id": "p-alice",
                    "url": "https://a.test/x",
                    "local_path": "Project Falcon/avatars/Alice Example.png",
                    "fetched_at": "2024-04-05T10:00:00.000Z",
                },
            ],
        )
    conn.close()
    return small_archive


def connect_rw(archive: Path):
    import sqlite3

    return sqlite3.connect(archive / "archive.db")


def render(archive: Path, **options) -> list[Path]:
    options = {"formats": ("rsmf",), "zone": AMSTERDAM, "zone_name": "Europe/Amsterdam"} | options
    return render_spaces(archive, [SPACE_ID], False, RenderOptions(**options))


def test_the_whole_space_as_rsmf_files_per_local_day(falcon):
    written = render(falcon)
    names = [p.name for p in written]
    # a thread stays in its first message's day (msg-09 at 00:30Z is 01:30 on 31 March in
    # Amsterdam, its replies of 3 and 4 April with it); the joins of 1 December 2023 and
    # Dave's leave (noticed 5 April) have days of their own
    assert names == [
        f"Project Falcon-{day}.rsmf"
        for day in (
            "2024-02-10",
            "2024-02-20",
            "2024-03-05",
            "2024-03-12",
            "2024-03-15",
            "2024-03-18",
            "2024-03-20",
            "2024-03-31",
            "2024-04-02",
            "2024-04-03",
            "2023-12-01",
            "2024-04-05",
        )
    ]
    files = read_all(written)
    events = messages_of(files)
    assert sorted(events) == [f"msg-{n:02d}" for n in range(1, 15)]
    assert {i: e["parent"] for i, e in events.items() if "parent" in e} == {
        "msg-04": "msg-01",
        "msg-13": "msg-09",
        "msg-14": "msg-09",
    }
    lost = events["msg-11"]  # its parent msg-00 was never archived: no dangling parent
    assert lost["custom"] == [
        {"name": "Reply to", "value": "a message the archive does not have (msg-00)"}
    ]
    assert events["msg-05"]["edits"] == [
        {
            "participant": "p-bob",
            "previous": "Draft is ready.",
            "new": "Draft is ready (v2).",
            "timestamp": "2024-03-12T14:05:00.000Z",
        }
    ]
    assert [i for i, e in events.items() if e.get("deleted")] == ["msg-06"]
    assert events["msg-06"]["body"] == "Wrong space, sorry."  # the content is kept
    assert events["msg-03"]["body"].startswith("Hi Alice Example and Bob Builder, see the plan")
    assert events["msg-12"]["body"].startswith("\x1b[2J\x1b[31mred alert\x00 </script>")
    assert events["msg-01"] == {
        "id": "msg-01",
        "type": "message",
        "conversation": SPACE_ID,
        "participant": "p-alice",
        "body": "Kick-off notes:\n- scope\n- budget",
        "timestamp": "2024-02-10T09:00:00.000Z",
        "direction": "incoming",
    }


def test_participants_conversation_and_headers(falcon):
    files = {f.path.name[-15:-5]: f for f in read_all(render(falcon))}
    day = files["2024-03-20"]
    assert day.manifest["conversations"] == [
        {
            "id": SPACE_ID,
            "display": "Project Falcon",
            "platform": "webex",
            "type": "channel",
            "participants": ["p-alice", "p-bob", "p-carol", "p-eve", "p-mara", "p-dave"],
            "custodian": "p-mara",
        }
    ]
    people = {p["id"]: p for p in day.manifest["participants"]}
    assert people["p-alice"] == {
        "id": "p-alice",
        "display": "Alice Example",
        "email": "alice@example.com",
        "account_id": "p-alice",
        "avatar": "avatar-001.png",
    }
    assert people["p-eve"]["display"] == "Eve Evil"  # NUL, RLO and BEL gone from the name
    assert day.files["avatar-001.png"] == AVATAR
    [event] = day.events()
    assert event["attachments"] == [
        {"id": "attachment-00001.pdf", "display": "slides.pdf", "size": len(SLIDES)}
    ]
    assert day.files["attachment-00001.pdf"] == SLIDES
    assert event["custom"] == [
        {"name": "Attachment not included", "value": "photo.png (not downloaded)"}
    ]
    headers = day.headers
    assert headers["X-RSMF-Custodian"] == "Mara Meijer"
    assert headers["From"] == "Mara Meijer <mara@example.com>"
    assert headers["X-RSMF-Generator"].startswith("webex-space-archive ")
    assert headers["X-RSMF-Application"] == "Webex"
    assert headers["Subject"] == "Project Falcon (2024-03-20)"
    assert headers["X-RSMF-Participants"].strip() == (  # folded: a line of its own
        "Alice Example, Bob Builder, Carol Chen, Eve Evil, Mara Meijer, Dave Departed"
    )
    joins = files["2023-12-01"]
    assert [(e["type"], e["participant"]) for e in joins.manifest["events"]] == [
        ("join", p) for p in ("p-alice", "p-bob", "p-carol", "p-eve", "p-mara", "p-dave")
    ]
    [leave] = files["2024-04-05"].manifest["events"]
    assert (leave["type"], leave["participant"]) == ("leave", "p-dave")


def test_the_same_archive_gives_the_same_bytes(falcon, tmp_path):
    first = {p.name: p.read_bytes() for p in render(falcon)}
    again = {p.name: p.read_bytes() for p in render(falcon)}
    assert first == again


def test_filters_choose_the_events(falcon):
    files = read_all(render(falcon, filters=Filters(since="2024-03-01T00:00:00.000Z")))
    events = messages_of(files)
    assert "msg-02" not in events and "join" not in {
        e["type"] for f in files for e in f.manifest["events"]
    }
    context = events["msg-01"]  # outside the window, the start of msg-04's thread
    assert context["custom"][0]["name"] == "Context" and events["msg-04"]["parent"] == "msg-01"
    newest = read_all(render(falcon, filters=Filters(last=2)))
    assert sorted(messages_of(newest)) == ["msg-09", "msg-13", "msg-14"]
    assert {e["type"] for f in newest for e in f.manifest["events"]} == {"message", "leave"}


def test_splitting_at_the_event_limit_keeps_threads_readable(falcon):
    """Carol, who wrote msg-09 and msg-14, is no member (else every file would list her as
    one): the file that a full one hands over to must name her all the same."""
    writable = connect_rw(falcon)
    with writable:
        writable.execute("DELETE FROM memberships WHERE person_id = 'p-carol'")
    writable.close()
    conn = connect(falcon)
    space = dict(conn.execute("SELECT * FROM spaces").fetchone())
    options = RenderOptions(formats=("rsmf",), zone=AMSTERDAM)
    window = Window(conn, SPACE_ID, options.filters)
    page = build_page(conn, falcon, space, options, "rsmf", meta(conn), window)
    written = write_rsmf(page, limit=2)
    conn.close()
    by_name = {p.name.removeprefix("Project Falcon-"): read_rsmf(p) for p in written}
    assert all(int(f.headers["X-RSMF-EventCount"]) <= 2 for f in by_name.values())
    ids = {
        name: [e.get("id", e["type"]) for e in f.manifest["events"]]
        for name, f in by_name.items()
        if name.startswith(("2024-03-31", "2023-12-01"))
    }
    assert ids == {
        "2024-03-31.rsmf": ["msg-09", "msg-13"],
        "2024-03-31-2.rsmf": ["msg-09", "msg-14"],  # the thread's start repeated, as context
        "2024-03-31-3.rsmf": ["msg-10"],
        "2023-12-01.rsmf": ["join", "join"],
        "2023-12-01-2.rsmf": ["join", "join"],
        "2023-12-01-3.rsmf": ["join"],
    }
    repeated = by_name["2024-03-31-2.rsmf"].manifest["events"][0]
    assert repeated["custom"][-1]["value"] == "repeated from the previous file of this conversation"


def test_rendering_again_removes_the_days_no_longer_written(falcon):
    everything = render(falcon)
    fewer = render(falcon, filters=Filters(since="2024-04-01T00:00:00.000Z"))
    assert set(fewer) < set(everything)
    folder = falcon / "Project Falcon"
    assert sorted(folder.glob("*.rsmf")) == sorted(fewer)


def test_hostile_titles_and_file_names_stay_data(falcon):
    hostile = "..\\../évil\u202e\r\nfdp.exe"
    target = falcon / "Project Falcon" / "files" / "x.bin"
    target.write_bytes(b"bytes")
    conn = connect_rw(falcon)
    with conn:
        conn.execute(
            "UPDATE spaces SET title = ? WHERE id = ?",
            ["Falcon\r\nBcc: victim@example.com\x00", SPACE_ID],
        )
        conn.execute(
            "UPDATE files SET name = ?, status = 'downloaded', local_path = ? "
            "WHERE message_id = 'msg-08' AND position = 1",
            [hostile, "Project Falcon/files/x.bin"],
        )
    conn.close()
    files = {f.path.name[-15:-5]: f for f in read_all(render(falcon))}
    day = files["2024-03-20"]
    assert "Bcc" not in day.message and day.headers["Subject"].startswith("Falcon Bcc:")
    assert sorted(day.files) == ["attachment-00001.pdf", "attachment-00002.exe", "avatar-001.png"]
    [event] = day.events()
    assert event["attachments"][1] == {
        "id": "attachment-00002.exe",
        "display": "..\\../évil fdp.exe",
        "size": 5,
    }
    assert all(
        re.fullmatch(r"(attachment-\d{5}|avatar-\d{3})(\.\w+)?", n)
        for f in files.values()
        for n in f.files
    )


def test_blurred_rsmf_names_nobody(downloaded, dataset):  # noqa: F811 (the fixture)
    """--blur: no name or email in any header, manifest, text part or name inside the zip
    of any space (the direct space "Grace Hopper" included), in any form a writer could
    give it. A file stored under a person's name is withheld, as the HTML does not link it."""
    written = render_spaces(downloaded, [], True, RenderOptions(formats=("rsmf",), blur=True))
    hidden = secrets(dataset)
    leaks, displays, kinds = [], [], set()
    for path in written:
        rsmf = read_rsmf(path)
        [conversation] = rsmf.manifest["conversations"]
        kinds.add(conversation["type"])
        body = rsmf.message.get_body(("plain",))
        texts = {
            "path": str(path.relative_to(downloaded)),
            "headers": "\n".join(f"{k}: {v}" for k, v in rsmf.message.items()),
            "text part": body.get_content() if body else "",
            "manifest": json.dumps(rsmf.manifest, ensure_ascii=False),
            "zip names": " ".join(rsmf.files),
        }
        for where, text in texts.items():
            leaks += [(path.name, where, s) for s in hidden if s in text.casefold()]
        for event in rsmf.events():
            displays += [a["display"] for a in event.get("attachments", [])]
            displays += [c["value"] for c in event.get("custom", []) if "not incl" in c["name"]]
        assert all(p["id"].startswith("Person ") for p in rsmf.manifest["participants"])
    assert leaks == [], "\n".join(map(str, leaks))
    assert kinds == {"direct", "channel"}  # Grace Hopper's space, and the group spaces
    assert "photo.png" in displays  # attached, stored in a group space's folder
    withheld = " notes.txt (withheld by --blur: its stored name names someone)"
    assert any(re.fullmatch(rf"Person \d+{re.escape(withheld)}", text) for text in displays)


def test_a_parent_in_another_file_is_said_not_named(falcon):
    """A reply to a reply (Webex threads are one level deep, an archive may still hold one)
    sorts by its own time: its parent is in another day's file, so ``parent`` would name an
    event its manifest lacks."""
    conn = connect_rw(falcon)
    with conn:
        conn.execute(
            "INSERT INTO messages (id, space_id, parent_id, person_id, text, created, raw, "
            "first_seen_at, last_seen_at) VALUES ('msg-15', ?, 'msg-04', 'p-bob', 'Nested.', "
            "'2024-04-10T10:00:00.000Z', '{}', '', '')",
            [SPACE_ID],
        )
    conn.close()
    day = {f.path.name[-15:-5]: f for f in read_all(render(falcon))}["2024-04-10"]
    [event] = day.events()
    assert "parent" not in event
    assert event["custom"] == [{"name": "Reply to", "value": "a message in another file (msg-04)"}]


def test_the_command_line_renders_rsmf_and_verifies_it(falcon):
    """``render --format rsmf,json`` prints every file written (then the archive's home
    page); ``verify`` then passes."""
    result = run("--archive", str(falcon), "render", "Project Falcon", "--format", "rsmf,json",
                 "--tz", "Europe/Amsterdam")  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = [Path(line) for line in result.stdout.splitlines()]
    assert [p.suffix for p in printed] == [".rsmf"] * 12 + [".json", ".html"]
    assert printed[-1] == falcon / "index.html"
    assert all(p.is_file() for p in printed) and read_all(printed[:12])
    folder = falcon / "Project Falcon"
    ok = run("verify", str(folder))
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 15 files match ")  # + slides, avatar


def test_times_a_zip_cannot_date_still_make_a_file(falcon):
    """Zip dates run from 1980 to 2107; a message may say 1970 or 2200 (found by
    tests/test_fuzz.py: the zip module failed past 2107)."""
    conn = connect_rw(falcon)
    with conn:
        conn.execute("UPDATE messages SET created = '2200-06-01T12:00:00.000Z' WHERE id = 'msg-02'")
        conn.execute("UPDATE messages SET created = '1970-01-01T00:00:00.000Z' WHERE id = 'msg-03'")
    conn.close()
    files = {f.path.name[-15:-5]: f for f in read_all(render(falcon, zone=ZoneInfo("UTC")))}
    assert [e["id"] for e in files["2200-06-01"].events()] == ["msg-02"], sorted(files)
    assert [e["id"] for e in files["1970-01-01"].events()] == ["msg-03"]

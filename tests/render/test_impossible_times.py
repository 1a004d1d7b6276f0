"""A time in the archive that is not a real one must never crash a render (render/times.py).

The sync stores only real times, but the archive is edited by hand (sqlite-utils, Datasette)
and older or foreign archives exist. Each test sets one time of the hand-built archive
(tests/render/conftest.py) to a value of the class (impossible fields, another form, empty,
garbage, a number, years 0000 or 10000+) and renders: the message is kept where its text
sorts, shown without a time (the mails' Date is 1 January 1970, as for any message without
one), the others exactly as in the archive without the fault, and the space's one warning.
"""

from __future__ import annotations

import email
import io
import json
import mailbox
import re
import sqlite3
import subprocess
import sys
import zipfile
from email import policy
from pathlib import Path

import pytest

from render import RenderOptions, render_spaces
from render.query import Filters
from render.search import search
from render.times import real
from tests.render.conftest import SPACE_ID
from tests.render.test_rsmf import VALIDATOR

ALL = ("html", "json", "txt", "eml", "eml-zip", "mbox", "slack", "seed-json", "rsmf")
BAD = [
    "2024-03-05T99:75:00.000Z",  # hour and minute out of range
    "2024-13-05T08:15:00.000Z",  # month 13
    "2024-02-30T08:15:00.000Z",  # no such day
    "2023-02-29T08:15:00.000Z",  # not a leap year
    "2024-03-05T08:15:61.000Z",  # second 61
    "2024-03-05T24:00:00.000Z",  # hour 24
    "0000-03-05T08:15:00.000Z",  # year 0
    "10000-03-05T08:15:00.000Z",  # five digits
    "9999-12-31T23:59:59.999Z",  # no zone could show all of it
    "\u0662\u0660\u0662\u0664-03-05T08:15:00.000Z",  # Arabic-Indic digits (\d matches them)
    "2024-03-05T08:15:00Z",  # another form (ISO 8601, but not the archive's)
    "2024-03-05T09:15:00.000+01:00",
    "2024-03-05",
    "",
    "garbage",
    12345,  # a number (TEXT affinity stores it as the text '12345')
    1.5,
]
IDS = [repr(value) for value in BAD]
NOTICE = (
    "'Project Falcon': {count} {what} an impossible time in the archive (first: {id} {text}): "
    "shown without a time; re-sync or repair them"
)


class Heard:
    """A Feedback that keeps the notices."""

    def __init__(self) -> None:
        self.notices: list[str] = []

    def status(self, line: str, done: int | None = None, total: int | None = None) -> None:
        pass

    def notice(self, line: str) -> None:
        self.notices.append(line)


def set_time(archive: Path, sql: str, value: object) -> None:
    with sqlite3.connect(archive / "archive.db") as conn:
        conn.execute(sql, (value,))
    conn.close()


def render(archive: Path, out: Path, formats=ALL, **options) -> tuple[list[Path], list[str]]:
    heard = Heard()
    chosen = RenderOptions(formats=formats, zone_name="Europe/Amsterdam", output=out, **options)
    from zoneinfo import ZoneInfo

    chosen.zone = ZoneInfo("Europe/Amsterdam")
    written = render_spaces(archive, [SPACE_ID], False, chosen, heard)
    return written, heard.notices


def notice(count: int, first: str, text: object) -> str:
    quoted = repr(str(text))  # a number is stored as its text (the column's TEXT affinity)
    what = "message has" if count == 1 else "messages have"
    return NOTICE.format(count=count, what=what, id=first, text=quoted)


# --- what is real ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2024-03-05T08:15:00.000Z", "2024-02-29T00:00:00.000Z", "2000-02-29T23:59:59.999Z",
     "1000-01-01T00:00:00.000Z", "9998-12-31T23:59:59.999Z", "2024-12-31T23:59:59.999Z",
     "2024-04-30T12:00:00.000Z"],
)  # fmt: skip
def test_real_times(text: str) -> None:
    assert real(text)


@pytest.mark.parametrize(
    "value",
    [*BAD, None, b"2024-03-05T08:15:00.000Z", "1900-02-29T08:15:00.000Z",
     "2024-04-31T08:15:00.000Z", "0999-12-31T23:59:59.999Z", " 2024-03-05T08:15:00.000Z",
     "2024-03-05T08:15:00.000z", "2024-03-05T08:15:00.000Z\n"],
    ids=repr,
)  # fmt: skip
def test_not_real_times(value: object) -> None:
    assert not real(value)


# --- every format, a top-level message's time ----------------------------------------------


@pytest.fixture
def pair(small_archive: Path, tmp_path: Path):
    """The archive rendered in every format as it is, and a function rendering it with
    msg-03's created set to a value."""
    _, notices = render(small_archive, tmp_path / "good")
    assert notices == []

    def bad(value: object) -> tuple[Path, list[str]]:
        set_time(small_archive, "UPDATE messages SET created = ? WHERE id = 'msg-03'", value)
        _, heard = render(small_archive, tmp_path / "bad")
        return tmp_path / "bad", heard

    return tmp_path / "good", bad


@pytest.mark.parametrize("value", BAD, ids=IDS)
def test_every_format_shows_the_message_without_a_time(pair, value: object) -> None:
    good, bad = pair
    out, notices = bad(value)
    assert notices == [notice(1, "msg-03", value)]
    _check_json(good, out)
    _check_text(good, out)
    _check_html(good, out)
    _check_mails(good, out)
    _check_slack(out)
    _check_rsmf(out)
    seed = json.loads((out / "Project Falcon.seed.json").read_text())
    assert len(seed) == len(json.loads((good / "Project Falcon.seed.json").read_text()))


def _threads(path: Path) -> list[dict]:
    return json.loads(path.read_text())["messages"]


def _check_json(good: Path, out: Path) -> None:
    before, after = (_threads(p / "Project Falcon.json") for p in (good, out))
    (shown,) = [t for t in after if t["id"] == "msg-03"]
    (original,) = [t for t in before if t["id"] == "msg-03"]
    assert (shown["created"], shown["local_time"]) == (None, None)
    assert shown | {"created": 0, "local_time": 0} == original | {"created": 0, "local_time": 0}
    assert [t for t in after if t["id"] != "msg-03"] == [t for t in before if t["id"] != "msg-03"]


def _check_text(good: Path, out: Path) -> None:
    def messages(path: Path) -> list[str]:
        lines = path.read_text().split("\n\nStatistics")[0].splitlines()
        return [line for line in lines if "<" in line and ">:" in line]

    before, after = (messages(p / "Project Falcon.txt") for p in (good, out))
    carol = "Carol Chen <carol@example.com>: Hi Alice Example and Bob Builder, see the plan."
    assert f"?  {carol}" in after
    assert [line for line in after if carol not in line] == [
        line for line in before if carol not in line
    ]


def _articles(path: Path) -> dict[str, str]:
    page = path.read_text()
    found = re.findall(r'<article class="[^"]*" id="msg-(msg-[^"]+)">(.*?)</article>', page, re.S)
    return dict(found)


def _check_html(good: Path, out: Path) -> None:
    before, after = (_articles(p / "Project Falcon.html") for p in (good, out))
    assert "time not known" in after["msg-03"] and "<time" not in after["msg-03"]
    assert re.sub(r" <time .*?</time>", "", before["msg-03"]) == after["msg-03"].replace(
        ' <span class="marker">time not known</span>', ""
    )
    assert {k: v for k, v in after.items() if k != "msg-03"} == {
        k: v for k, v in before.items() if k != "msg-03"
    }


def _mails(path: Path) -> dict[str, bytes]:
    found = {}
    for message in mailbox.mbox(str(path)):
        found[message["X-Webex-Message-Id"]] = message.as_bytes()
    return found


def _check_mails(good: Path, out: Path) -> None:
    before, after = (_mails(p / "Project Falcon.mbox") for p in (good, out))
    assert set(before) == set(after)
    mine = email.message_from_bytes(after["msg-03"], policy=policy.default)
    assert mine["Date"] == "Thu, 01 Jan 1970 00:00:00 +0000"
    assert mine["X-Webex-Created"] == ""
    assert {k: v for k, v in after.items() if k != "msg-03"} == {
        k: v for k, v in before.items() if k != "msg-03"
    }
    folder = {p.name: p.read_bytes() for p in (out / "Project Falcon-eml").iterdir()}
    with zipfile.ZipFile(out / "Project Falcon-eml.zip") as archive:
        members = {Path(n).name: archive.read(n) for n in archive.namelist() if n[-1] != "/"}
    assert members == folder and len(folder) == len(after)
    assert any(b"Date: Thu, 01 Jan 1970 00:00:00 +0000" in mail for mail in folder.values())


def _check_slack(out: Path) -> None:
    with zipfile.ZipFile(out / "Project Falcon.slack.zip") as archive:
        entries = [
            entry
            for name in archive.namelist()
            if re.search(r"/\d{4}-\d\d-\d\d\.json$", name)
            for entry in json.loads(archive.read(name))
        ]
    mine = [e for e in entries if e["webex"]["message_id"] == "msg-03"]
    assert len(mine) == 1 and mine[0]["ts"].startswith("0.000")  # 1970, as the mails
    assert len(entries) == 14


def _check_rsmf(out: Path) -> None:
    events = []
    for path in sorted(out.glob("*.rsmf")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        attachment = next(iter(message.iter_attachments()))
        with zipfile.ZipFile(io.BytesIO(attachment.get_content())) as archive:
            manifest = json.loads(archive.read("rsmf_manifest.json"))
        VALIDATOR.validate(manifest)
        events += [e for e in manifest["events"] if e["type"] == "message"]
    mine = [e for e in events if e["id"] == "msg-03"]
    assert len(mine) == 1 and "timestamp" not in mine[0]
    assert all("timestamp" in e for e in events if e["id"] != "msg-03")


# --- other times of the class ----------------------------------------------------------------

FIELDS = [
    ("UPDATE messages SET created = ? WHERE id = 'msg-09'", "msg-09"),  # a thread's start
    ("UPDATE messages SET created = ? WHERE id = 'msg-13'", "msg-13"),  # a reply
    ("UPDATE messages SET created = ? WHERE id = 'msg-01'", "msg-01"),  # a context parent
    ("UPDATE messages SET updated = ? WHERE id = 'msg-05'", "msg-05"),
    ("UPDATE messages SET deleted_at = ? WHERE id = 'msg-06'", "msg-06"),
    ("UPDATE memberships SET created = ? WHERE person_id = 'p-alice'", None),
    ("UPDATE memberships SET left_at = ? WHERE person_id = 'p-dave'", None),
    ("UPDATE spaces SET created = ?, last_synced_at = ?1", None),
]
SOME = ["2024-02-30T08:15:00.000Z", "2024-03-05T99:75:00.000Z", "", "garbage", 12345,
        "0000-01-01T00:00:00.000Z", "10000-01-01T00:00:00.000Z"]  # fmt: skip
VIEWS = [
    {"events": True},
    {"split": "month"},
    {"filters": Filters(since="2024-03-01T00:00:00.000Z")},
    {"filters": Filters(until="2024-04-01T00:00:00.000Z", sort="newest")},
    {"filters": Filters(last=5)},
]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: ",".join(map(str, v.values())))
@pytest.mark.parametrize("value", SOME, ids=repr)
@pytest.mark.parametrize(("sql", "message"), FIELDS, ids=[f[0][:40] for f in FIELDS])
def test_no_time_of_the_class_crashes_a_rendering(
    small_archive: Path, tmp_path: Path, sql: str, message: str | None, value, view: dict
) -> None:
    set_time(small_archive, sql, value)
    formats = ("html",) if view.get("split") else ALL
    written, notices = render(small_archive, tmp_path / "out", formats, **view)
    assert written
    assert all(not n.startswith("'Project Falcon': 1 m") or message for n in notices)
    if message and view == VIEWS[0]:  # every message is in that window
        assert notices == [notice(1, message, value)]
    if message is None:
        assert notices == []


def test_a_split_page_keeps_each_message_once_and_renders_again(small_archive, tmp_path):
    """--split month: the message without a time stays in the month before it (one section,
    one part); the incremental rendering that follows writes the same parts."""
    set_time(small_archive, "UPDATE messages SET created = ? WHERE id = 'msg-05'", "")
    set_time(small_archive, "UPDATE messages SET created = ? WHERE id = 'msg-08'", "2024-03-32")
    options = {"split": "month", "formats": ("html",)}
    for _ in range(2):
        _, notices = render(small_archive, tmp_path / "out", **options)
        assert notices == [notice(2, "msg-05", "")]
    parts = sorted((tmp_path / "out").glob("Project Falcon-*.html"))
    assert [p.name for p in parts] == [
        "Project Falcon-2024-02.html", "Project Falcon-2024-03.html", "Project Falcon-2024-04.html"
    ]  # fmt: skip
    found = [i for p in parts for i in _articles(p)]
    assert sorted(found) == sorted(set(found)) and len(found) == 15  # msg-00: a placeholder
    assert "msg-05" in _articles(parts[0])  # "" sorts first: the first month after it
    assert "msg-08" in _articles(parts[1])  # among March 31st's (its text's place)
    page = (tmp_path / "out" / "Project Falcon.html").read_text()
    assert page.count('id="m-2024-02"') == 0  # the index page lists, its parts hold
    assert "January 1970" not in page


def test_a_page_without_any_real_time(small_archive, tmp_path):
    """Every time impossible: one section (January 1970, as for rows without a month), all
    messages, one warning that counts them."""
    set_time(small_archive, "UPDATE messages SET created = ? || id", "x-")
    _, notices = render(small_archive, tmp_path / "out", ("html", "txt", "json"))
    assert notices == [notice(14, "msg-01", "x-msg-01")]
    page = (tmp_path / "out" / "Project Falcon.html").read_text()
    assert len(_articles(tmp_path / "out" / "Project Falcon.html")) == 15  # and msg-00
    assert re.findall(r'<section class="month" id="([^"]+)"', page) == ["m-1970-01"]
    assert 'First message</th><td class="n">–</td>' in page
    assert 'Last message</th><td class="n">–</td>' in page


def test_the_home_page_and_the_statistics_show_no_impossible_time(small_archive, tmp_path):
    """The first message by the archive's order is "" here: the statistics and the home page
    show "–" for it, never the text."""
    set_time(small_archive, "UPDATE messages SET created = ? WHERE id = 'msg-01'", "")
    set_time(small_archive, "UPDATE spaces SET last_synced_at = ?", "2024-02-30T00:00:00.000Z")
    heard = Heard()
    options = RenderOptions(formats=("html", "txt", "json"), zone_name="UTC")
    render_spaces(small_archive, [SPACE_ID], False, options, heard)
    assert heard.notices == [notice(1, "msg-01", "")]
    home = (small_archive / "index.html").read_text()
    assert 'data-first=""' in home and "2024-02-30" not in home
    text = (small_archive / "Project Falcon" / "Project Falcon.txt").read_text()
    assert re.search(r"First message: +-\n", text) and re.search(r"Last synced: +never", text)
    document = json.loads((small_archive / "Project Falcon" / "Project Falcon.json").read_text())
    stats = document["statistics"]
    assert (stats["first_message"], stats["last_synced"]) == (None, None)


def test_search_shows_a_hit_without_a_time(small_archive):
    set_time(small_archive, "UPDATE messages SET created = ? WHERE id = 'msg-01'", "garbage")
    from render import query

    conn = query.connect(small_archive)
    try:
        hits = search(conn, "notes")
    finally:
        conn.close()
    assert [(h.id, h.created) for h in hits] == [("msg-01", None)]


# --- the command line -------------------------------------------------------------------------


def test_the_command_line_warns_in_one_line_and_succeeds(small_archive):
    """`webex-archive render` in a real process: no traceback, the warning once, exit 0;
    `search` and `verify` too."""
    set_time(small_archive, "UPDATE messages SET created = ? WHERE id = 'msg-01'", "2024-13-45")
    command = [sys.executable, "-m", "webex_archive", "--archive", str(small_archive)]
    result = subprocess.run(
        [*command, "render", SPACE_ID, "--format", ",".join(ALL), "--tz", "UTC", "--events"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [notice(1, "msg-01", "2024-13-45")]
    found = subprocess.run(
        [*command, "search", "notes"], capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0 and found.stderr == ""
    assert found.stdout.startswith("time not known  Project Falcon  Alice Example\n")
    manifest = small_archive / "Project Falcon" / "Project Falcon.custody.json"
    checked = subprocess.run(
        [*command, "verify", str(manifest)], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in checked.stderr and "slides.pdf" in checked.stdout + checked.stderr


def test_the_parquet_export_keeps_the_text(small_archive, tmp_path):
    pytest.importorskip("pyarrow")
    from render.parquet import export_parquet

    set_time(small_archive, "UPDATE messages SET created = ? WHERE id = 'msg-03'", "2024-02-30")
    counts = export_parquet(small_archive, tmp_path / "pq", [SPACE_ID], False, Filters())
    assert counts["messages"] == 14

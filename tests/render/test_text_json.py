"""The TXT and JSON writers over the hand-built archive of conftest.py: exact output.

The TXT is compared with a golden file that was checked by eye once; set UPDATE_GOLDEN=1 to
rewrite it after a deliberate change (and read the diff before committing it).
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from render import query
from render.json import write_json
from render.page import RenderOptions, build_page
from render.query import Filters
from render.text import clean_line, write_text
from render.window import Window
from tests.render.conftest import ME, PEOPLE, SPACE_ID

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
GENERATED = datetime(2024, 4, 5, 14, 0, tzinfo=AMSTERDAM)
GOLDEN = Path(__file__).parent / "golden"
SINCE_MARCH = Filters(since="2024-03-01")
HEAD = r"^(?:>> )?(?:\w{3} \d{4}-\d\d-\d\d \d\d:\d\d|\[earlier message not in the archive\])"
WRITERS = {"txt": write_text, "json": write_json}


def render(archive: Path, fmt: str, filters: Filters = SINCE_MARCH, **options) -> Path:
    """Render the space as ``fmt`` with a fixed generation time; return the written file."""
    conn = query.connect(archive)
    try:
        space = query.find_spaces(conn, [SPACE_ID], False)[0]
        options = {"zone": AMSTERDAM, "zone_name": "Europe/Amsterdam",
                   "filters_text": describe(filters)} | options  # fmt: skip
        page = build_page(conn, archive, space, RenderOptions(filters=filters, **options), fmt,
                          query.meta(conn))  # fmt: skip
        page.generated_at = GENERATED
        WRITERS[fmt](page)
        return page.path
    finally:
        conn.close()


def describe(filters: Filters) -> str:
    """What the command line would say about the filters (it is the CLI's job; a stand-in)."""
    words = [
        f"{key} {value}"
        for key, value in (
            ("since", filters.since),
            ("until", filters.until),
            ("last", filters.last),
        )
        if value
    ]
    return ", ".join(words) or "all messages"


def document(archive: Path, filters: Filters = SINCE_MARCH, **options) -> dict:
    return json.loads(render(archive, "json", filters, **options).read_text(encoding="utf-8"))


def flat(doc: dict) -> list[dict]:
    """Every message object of the document in display order, replies after their start."""
    return [m for thread in doc["messages"] for m in (thread, *thread["replies"])]


# ----- TXT ---------------------------------------------------------------------------------


def test_txt_equals_the_golden_file(small_archive):
    text = render(small_archive, "txt").read_bytes().decode("utf-8")
    golden = GOLDEN / "falcon-since-2024-03-01.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(text.encode("utf-8"))
    assert text == golden.read_bytes().decode("utf-8")


def test_txt_has_unix_line_ends_and_no_control_characters(small_archive):
    raw = render(small_archive, "txt").read_bytes().decode("utf-8")
    assert "\r" not in raw
    leftovers = re.findall("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", raw)
    assert leftovers == []
    assert "(external): red alert </script><script>alert(1)</script>\n    line two evil\n" in raw


def test_txt_shows_html_only_messages_as_text_without_markup(small_archive):
    raw = render(small_archive, "txt").read_text(encoding="utf-8")
    line = next(x for x in raw.splitlines() if x.startswith("Tue 2024-03-05 09:15"))
    assert line == (
        "Tue 2024-03-05 09:15  Carol Chen <carol@example.com>: "
        "Hi Alice Example and Bob Builder, see the plan."
    )
    assert "alert(2)" not in raw and "<p>" not in raw


def test_txt_keeps_replies_under_their_start_in_newest_first_order(small_archive):
    raw = render(small_archive, "txt", Filters(since="2024-03-01", sort="newest"))
    starts = re.findall(HEAD, raw.read_text(encoding="utf-8"), re.M)
    assert starts == [
        "Wed 2024-04-03 12:00", "[earlier message not in the archive]",
        ">> Tue 2024-04-02 09:00", "Sun 2024-03-31 03:30", "Sun 2024-03-31 01:30",
        ">> Wed 2024-04-03 12:02", ">> Thu 2024-04-04 10:00", "Wed 2024-03-20 12:00",
        "Mon 2024-03-18 10:30", "Fri 2024-03-15 17:00", "Tue 2024-03-12 15:00",
        "Tue 2024-03-05 09:15", "Sat 2024-02-10 10:00", ">> Sun 2024-03-10 13:00",
    ]  # fmt: skip


def test_no_partial_file_is_left_behind(small_archive):
    path = render(small_archive, "txt")
    render(small_archive, "json")
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "Project Falcon.json", "Project Falcon.txt",
    ]  # fmt: skip


# ----- JSON shape ----------------------------------------------------------------------------

NULL = type(None)
FILE = {"name": str, "size": (int, NULL), "size_text": str, "content_type": (str, NULL),
        "image": bool, "status": str, "local_path": (str, NULL)}  # fmt: skip
AUTHOR = {"id": (str, NULL), "name": str, "email": (str, NULL), "external": bool}
REPLY = {"id": str, "created": (str, NULL), "local_time": (str, NULL), "author": (AUTHOR, NULL),
         "text": str, "html": str, "edited": (str, NULL), "deleted": (str, NULL),
         "in_window": bool, "placeholder": bool, "card": bool, "files": [FILE]}  # fmt: skip
THREAD = REPLY | {"replies": [REPLY]}
KIND = {"count": int, "bytes": int, "sized": int, "downloaded": int}
STATISTICS = {
    "in_window": int, "in_archive": int, "members": int, "authors": int, "replies": int,
    "edited": int, "deleted": int, "mentions": int, "group_mentions": int,
    "first_message": (str, NULL), "last_message": (str, NULL), "last_synced": (str, NULL),
    "top_authors": [{"name": str, "email": (str, NULL), "messages": int}],
    "other_authors": int, "top_domains": [{"domain": str, "messages": int}],
    "other_domains": int, "images": KIND, "files": KIND,
}  # fmt: skip
DOCUMENT = {
    "format": str, "version": int, "generated_at": str,
    "space": {"id": str, "title": str, "type": (str, NULL), "created": (str, NULL),
              "folder": (str, NULL)},
    "filters": {"since": (str, NULL), "until": (str, NULL), "last": (int, NULL), "sort": str,
                "description": str},
    "time_zone": str, "statistics": STATISTICS,
    "members": [{"id": (str, NULL), "name": (str, NULL), "email": (str, NULL),
                 "moderator": bool, "joined": (str, NULL), "left": (str, NULL)}],
    "messages": [THREAD],
}  # fmt: skip


def problems(value: object, shape: object, where: str = "$") -> list[str]:
    """Where ``value`` differs from ``shape``: a dict names its exact keys, a one-item list
    its items' shape, a tuple alternatives, a type itself (bool is not an int here)."""
    if isinstance(shape, tuple):
        found = [problems(value, option, where) for option in shape]
        return [] if any(not f for f in found) else found[0]
    if isinstance(shape, dict):
        if not isinstance(value, dict) or set(value) != set(shape):
            keys = sorted(value) if isinstance(value, dict) else type(value).__name__
            return [f"{where}: {keys} is not {sorted(shape)}"]
        return [p for key in shape for p in problems(value[key], shape[key], f"{where}.{key}")]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [p for i, v in enumerate(value) for p in problems(v, shape[0], f"{where}[{i}]")]
    assert isinstance(shape, type)
    wrong = not isinstance(value, shape) or (shape is int and isinstance(value, bool))
    return [f"{where}: {value!r} is not {shape.__name__}"] if wrong else []


@pytest.mark.parametrize("blur", [False, True])
def test_json_validates_against_the_documented_shape(small_archive, blur):
    doc = document(small_archive, blur=blur)
    assert problems(doc, DOCUMENT) == []
    assert (doc["format"], doc["version"]) == ("webex-space-archive", 1)
    assert doc["generated_at"] == "2024-04-05T14:00:00+02:00"
    assert doc["time_zone"] == "Europe/Amsterdam"
    assert doc["filters"] == {"since": "2024-03-01", "until": None, "last": None,
                              "sort": "oldest", "description": "since 2024-03-01"}  # fmt: skip
    assert doc["space"] == {
        "id": SPACE_ID,
        "title": "Project Falcon",
        "type": "group",
        "created": "2023-12-01T08:00:00.000Z",
        "folder": None if blur else "Project Falcon",  # a folder may name a person
    }


def test_json_problems_are_found():
    """The shape checker itself: it must not pass everything."""
    assert problems({"a": 1}, {"a": str}) == ["$.a: 1 is not str"]
    assert problems({"a": True}, {"a": int}) != []
    assert problems({"a": 1, "b": 2}, {"a": int}) != []
    assert problems([{"a": None}], [{"a": (str, NULL)}]) == []


# ----- JSON content ----------------------------------------------------------------------------

OLDEST = [("msg-01", ["msg-04"]), ("msg-03", []), ("msg-05", []), ("msg-06", []),
          ("msg-07", []), ("msg-08", []), ("msg-09", ["msg-13", "msg-14"]), ("msg-10", []),
          ("msg-00", ["msg-11"]), ("msg-12", [])]  # fmt: skip


@pytest.mark.parametrize("sort", ["oldest", "newest"])
def test_json_threads_and_order_are_exact(small_archive, sort):
    doc = document(small_archive, Filters(since="2024-03-01", sort=sort))
    shape = [(t["id"], [r["id"] for r in t["replies"]]) for t in doc["messages"]]
    assert shape == (OLDEST if sort == "oldest" else OLDEST[::-1])


def test_json_marks_parents_outside_the_window_and_missing_ones(small_archive):
    by_id = {m["id"]: m for m in flat(document(small_archive))}
    assert [i for i, m in by_id.items() if not m["in_window"]] == ["msg-01", "msg-00"]
    missing = by_id["msg-00"]
    assert missing["placeholder"] is True
    assert (missing["author"], missing["created"], missing["local_time"]) == (None, None, None)
    assert (missing["text"], missing["html"], missing["files"]) == ("", "", [])
    assert not any(m["placeholder"] for i, m in by_id.items() if i != "msg-00")


def test_json_local_times_follow_daylight_saving_time(small_archive):
    by_id = {m["id"]: m for m in flat(document(small_archive))}
    assert by_id["msg-09"]["created"] == "2024-03-31T00:30:00.000Z"
    assert by_id["msg-09"]["local_time"] == "2024-03-31T01:30:00+01:00"
    assert by_id["msg-10"]["created"] == "2024-03-31T01:30:00.000Z"
    assert by_id["msg-10"]["local_time"] == "2024-03-31T03:30:00+02:00"
    assert by_id["msg-05"]["edited"] == "2024-03-12T15:05:00+01:00"
    assert by_id["msg-06"]["deleted"] == "2024-03-20T01:00:00+01:00"
    text = render(small_archive, "txt").read_text(encoding="utf-8")
    assert "\nSun 2024-03-31 01:30  Carol Chen <carol@example.com>: Before" in text
    assert "\nSun 2024-03-31 03:30  Alice Example <alice@example.com>: After" in text


def test_json_message_content(small_archive):
    by_id = {m["id"]: m for m in flat(document(small_archive))}
    assert by_id["msg-05"]["author"] == {
        "id": "p-bob",
        "name": "Bob Builder",
        "email": "bob@partner.org",
        "external": True,
    }
    assert by_id["msg-04"]["author"]["external"] is False
    assert by_id["msg-07"]["card"] is True and by_id["msg-07"]["text"] == "Poll: lunch on Friday?"
    assert by_id["msg-03"]["text"].startswith("Hi Alice Example and Bob Builder, see the plan")
    assert "<script" not in by_id["msg-03"]["html"] and "the plan" in by_id["msg-03"]["html"]
    assert "\x1b[2J" in by_id["msg-12"]["text"]  # JSON keeps the text; escapes keep it inert
    assert by_id["msg-08"]["files"] == [
        {"name": "slides.pdf", "size": 1536000, "size_text": "1.5 MB",
         "content_type": by_id["msg-08"]["files"][0]["content_type"], "image": False,
         "status": "downloaded", "local_path": "Project Falcon/files/slides.pdf"},
        {"name": "photo.png", "size": 20480, "size_text": "20.0 KB",
         "content_type": by_id["msg-08"]["files"][1]["content_type"], "image": True,
         "status": "not downloaded", "local_path": None},
    ]  # fmt: skip


def test_json_escapes_what_could_confuse_a_terminal(small_archive):
    raw = render(small_archive, "json").read_text(encoding="utf-8")
    assert re.findall("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", raw) == []
    assert "\\u001b[2J" in raw and "\\u202e" in raw and "\\u009b" in raw
    assert raw.endswith("\n]}\n")


def test_json_statistics_are_the_hand_counted_ones(small_archive):
    stats = document(small_archive)["statistics"]
    assert {k: stats[k] for k in ("in_window", "in_archive", "members", "authors", "replies",
                                  "edited", "deleted", "mentions", "group_mentions")} == {
        "in_window": 12, "in_archive": 14, "members": 5, "authors": 4, "replies": 4,
        "edited": 1, "deleted": 1, "mentions": 2, "group_mentions": 1,
    }  # fmt: skip
    assert stats["images"] == {"count": 1, "bytes": 20480, "sized": 1, "downloaded": 0}
    assert stats["files"] == {"count": 1, "bytes": 1536000, "sized": 1, "downloaded": 1}
    assert (stats["first_message"], stats["last_message"]) == (
        "2024-03-05T08:15:00.000Z", "2024-04-04T08:00:00.000Z",
    )  # fmt: skip


# ----- filters ----------------------------------------------------------------------------------

FILTER_CASES = [
    (Filters(), 14, 15),
    (Filters(since="2024-03-01"), 12, 14),
    (Filters(last=3), 3, 4),
    (Filters(since="2024-03-10", until="2024-03-31"), 5, 6),
    (Filters(since="2024-03-10T12:00:00.000Z", until="2024-03-31T00:30:00.000Z"), 5, 6),
    (Filters(since="2024-03-01", until="2024-03-31", last=2), 2, 2),
]


@pytest.mark.parametrize(("filters", "in_window", "shown"), FILTER_CASES)
def test_filters_give_exact_counts(small_archive, filters, in_window, shown):
    doc = document(small_archive, filters)
    messages = flat(doc)
    assert doc["statistics"]["in_window"] == in_window
    assert sum(m["in_window"] for m in messages) == in_window
    assert len(messages) == shown
    text = render(small_archive, "txt", filters).read_text(encoding="utf-8")
    assert f"Messages:         {in_window:,} shown of 14 in the archive\n" in text
    assert len(re.findall(HEAD, text, re.M)) == shown


def test_last_takes_the_newest_and_brings_their_parent(small_archive):
    doc = document(small_archive, Filters(last=3))
    assert [(t["id"], t["in_window"], [r["id"] for r in t["replies"]]) for t in doc["messages"]] \
        == [("msg-09", False, ["msg-13", "msg-14"]), ("msg-12", True, [])]  # fmt: skip


# ----- blur ---------------------------------------------------------------------------------


def secrets() -> list[str]:
    """Every real name and email of the archive, as written and as the TXT cleans them."""
    values = [ME["me_name"], ME["me_email"]]
    for _, name, email, _ in PEOPLE:
        values += [name, email, clean_line(name)]
    return values


@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_blur_leaves_no_real_name_or_email(small_archive, fmt):
    output = render(small_archive, fmt, Filters(), blur=True).read_text(encoding="utf-8")
    if fmt == "json":
        output = json.dumps(json.loads(output), ensure_ascii=False)
    leaks = [value for value in secrets() if value in output]
    assert leaks == []
    assert "Person 1" in output and "@hidden" in output


def test_blur_hides_person_ids_in_json(small_archive):
    doc = document(small_archive, Filters(), blur=True)
    assert {m["author"]["id"] for m in flat(doc) if m["author"]} == {None}
    assert {m["id"] for m in doc["members"]} == {None}


@pytest.mark.parametrize(("filters", "in_window", "shown"), FILTER_CASES)
def test_formats_without_a_statistics_block_get_its_counts(small_archive, filters, in_window,
                                                           shown):  # fmt: skip
    """The formats that show no statistics block (mbox, RSMF …) get only its counts, the
    same as the block's, and with --last the window's first and last message (where the
    membership changes and RSMF's dates start). The block is made once per window: the
    page of a second format that shows it gets the same figures."""
    conn = query.connect(small_archive)
    [space] = query.find_spaces(conn, [SPACE_ID], False)
    meta, options = query.meta(conn), RenderOptions(filters=filters)
    window = Window(conn, SPACE_ID, filters)
    counts = build_page(conn, small_archive, space, options, "mbox", meta, window).stats
    block = build_page(conn, small_archive, space, options, "json", meta, window).stats
    bounds = ("first_message", "last_message") if filters.last is not None else ()
    assert set(counts) == {"in_window", "in_archive", *bounds}
    assert counts == {key: block[key] for key in counts} and counts["in_window"] == in_window
    assert build_page(conn, small_archive, space, options, "txt", meta, window).stats == block
    assert list(window.figures) == [False, True]  # each made once
    conn.close()

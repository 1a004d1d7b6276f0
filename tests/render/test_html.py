"""The HTML page from a synced archive: structure, order, safety, split — parsed, not eyeballed."""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import Filters, RenderOptions, render_spaces
from tests.conftest import group_room
from tests.render.conftest import SPACE_ID

VOID = {"meta", "br", "img", "hr", "input", "link", "source", "wbr", "col", "area", "base"}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class Structure(HTMLParser):
    """Collects ids, scripts, attributes and checks that every tag is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.scripts = 0
        self.problems: list[str] = []
        self.articles: list[dict[str, str]] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "script":
            self.scripts += 1
        if tag == "article":
            self.articles.append(attributes)
        if tag == "a" and "href" in attributes:
            self.hrefs.append(attributes["href"])
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on {tag}")
            if (
                value
                and re.match(r"\s*(javascript|data|vbscript):", value, re.I)
                and name in ("href", "src")
            ):
                self.problems.append(f"{name}={value}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def parse(text: str) -> Structure:
    structure = Structure()
    structure.feed(text)
    structure.close()
    return structure


@pytest.fixture
def archive(emu, dataset, tmp_path):
    db = store.open_archive(tmp_path)
    with WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, list(dataset.rooms), SyncOptions())
    return tmp_path


def render(archive, space, **options):
    options.setdefault("zone", AMSTERDAM)
    options.setdefault("zone_name", "Europe/Amsterdam")
    return render_spaces(archive, [space], False, RenderOptions(**options))


def test_page_is_well_formed_and_complete(archive, dataset):
    room = group_room(dataset)
    [path] = render(archive, room["id"])
    assert path == archive / "Project Atlas" / "Project Atlas.html"
    text = path.read_text()
    page = parse(text)
    assert page.problems == [] and page.stack == []
    assert len(page.ids) == len(set(page.ids))
    assert page.scripts == 1
    shown = [a["id"].removeprefix("msg-") for a in page.articles]
    in_room = {m["id"] for m in dataset.messages.values() if m["roomId"] == room["id"]}
    assert set(shown) == in_room and len(shown) == len(in_room)
    assert text.startswith("<!DOCTYPE html>")
    assert "http://" not in re.sub(r'href="https?://[^"]*"', "", text).replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_threads_stay_together_in_both_orders(archive, dataset):
    room = group_room(dataset)
    for sort in ("oldest", "newest"):
        [path] = render(archive, room["id"], filters=Filters(sort=sort))
        articles = parse(path.read_text()).articles
        order = [a["id"].removeprefix("msg-") for a in articles]
        tops = [i for i in order if "parentId" not in dataset.messages[i]]
        created = [dataset.messages[i]["created"] for i in tops]
        assert created == sorted(created, reverse=sort == "newest")
        for position, message_id in enumerate(order):
            message = dataset.messages[message_id]
            if "parentId" in message:  # under its parent, after earlier replies
                before = order[:position]
                parent_at = before.index(message["parentId"])
                between = [dataset.messages[i] for i in before[parent_at + 1 :]]
                assert all(m.get("parentId") == message["parentId"] for m in between)
                assert all(m["created"] <= message["created"] for m in between)


def test_hostile_space_renders_inert(archive, dataset):
    hostile = next(r for r in dataset.rooms.values() if "<script>" in r["title"])
    [path] = render(archive, hostile["id"])
    text = path.read_text()
    page = parse(text)
    assert page.problems == [] and page.scripts == 1
    assert "<script>window.__pwned" not in text and "&lt;script&gt;" in text
    assert "\u202e" not in text
    assert path.parent.name == path.stem  # the folder and file names are safe
    assert (
        path.parent.parent == archive
        and path.parent.name == "Q3 _script_window.__pwned=1__script_ & _Partners_ _ .._.._etc"
    )


def test_window_marks_parents_outside_it(archive, dataset):
    room = group_room(dataset)
    [path] = render(archive, room["id"], filters=Filters(last=30))
    page = parse(path.read_text())
    context = [a for a in page.articles if "context" in a["class"].split()]
    outside = {a["id"].removeprefix("msg-") for a in context}
    newest = sorted(
        (m for m in dataset.messages.values() if m["roomId"] == room["id"]),
        key=lambda m: m["created"],
        reverse=True,
    )[:30]
    parents = {m["parentId"] for m in newest if "parentId" in m} - {m["id"] for m in newest}
    assert outside == parents
    assert len(page.articles) == 30 + len(parents)


def test_split_by_year_writes_parts_and_an_index(archive, dataset):
    room = group_room(dataset)
    paths = render(archive, room["id"], split="year")
    index, *parts = paths
    years = sorted(
        {m["created"][:4] for m in dataset.messages.values() if m["roomId"] == room["id"]}
    )
    assert [p.name for p in parts] == [f"Project Atlas-{y}.html" for y in years]
    assert parse(index.read_text()).articles == []
    total = sum(len(parse(p.read_text()).articles) for p in parts)
    assert total == sum(m["roomId"] == room["id"] for m in dataset.messages.values())
    second = parse(parts[1].read_text())
    assert f"Project%20Atlas-{years[0]}.html" in second.hrefs  # links are URL-encoded
    assert any(
        h.startswith(f"Project%20Atlas-{years[0]}.html#m-") for h in parse(index.read_text()).hrefs
    )


def test_blur_hides_every_name_and_email(archive, dataset):
    room = group_room(dataset)
    [path] = render(archive, room["id"], blur=True)
    text = path.read_text()
    for person in dataset.people.values():
        assert person["emails"][0] not in text
        if len(person["displayName"]) > 3 and "<" not in person["displayName"]:
            assert person["displayName"] not in text, person["displayName"]


def test_html_and_txt_summarise_attachments_in_the_same_words(small_archive: Path):
    """Sizes unknown (Webex gave none) are counted in both formats: the bytes and the mean
    cover only the sized ones. Only the separator is the format's own."""
    conn = sqlite3.connect(small_archive / "archive.db")
    with conn:
        conn.execute("UPDATE files SET size = NULL WHERE name = 'photo.png'")
    conn.close()
    paths = render(small_archive, SPACE_ID, formats=("html", "txt"))
    html, txt = (path.read_text(encoding="utf-8") for path in paths)
    rows = dict(re.findall(r'<tr><th scope="row">(\w+)</th><td class="n">([^<]*)</td>', html))
    assert (rows["Images"], rows["Files"]) == ("1 · 1 of unknown size · 1 not downloaded",
                                               "1 · 1.5 MB (mean 1.5 MB)")  # fmt: skip
    assert re.findall(r"^(?:Images|Files):.*$", txt, re.M) == [
        "Images:           1, 1 of unknown size, 1 not downloaded",
        "Files:            1, 1.5 MB (mean 1.5 MB)",
    ]

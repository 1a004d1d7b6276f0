"""Search inside the pages, in a real browser (Debian's chromium driven by Playwright).

The hand-built archive (tests/render/conftest.py) is rendered whole and with --split month, and
each page is opened from file:// as a reader would: the keyboard finds, highlights and steps
through messages, a result in another part leads there, and a page without JavaScript shows no
search box at all. Every page must load with no console error and no request for anything
outside the archive.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import RenderOptions, render_spaces
from render.search_index import index_path
from tests.render.conftest import PEOPLE, SPACE_ID
from tests.render.test_browser import browser  # noqa: F401 (the fixture)
from tests.render.test_search_index import read

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def render(archive: Path, **options) -> list[Path]:
    options = RenderOptions(zone=AMSTERDAM, zone_name="Europe/Amsterdam", **options)
    return render_spaces(archive, [SPACE_ID], False, options)


@pytest.fixture
def whole(small_archive: Path) -> Path:
    [path] = render(small_archive)
    return path


@pytest.fixture
def split(small_archive: Path) -> dict[str, Path]:
    """The --split month pages by name: "index", "2024-02", "2024-03", "2024-04"."""
    index, *parts = render(small_archive, split="month")
    return {"index": index} | {p.stem.rsplit("-", 2)[-2] + "-" + p.stem[-2:]: p for p in parts}


class Reader:
    """A tab on one page, with everything that went wrong on it."""

    def __init__(self, browser, path: Path, javascript: bool, root: Path):  # noqa: F811
        self.context = browser.new_context(java_script_enabled=javascript)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        root = root.resolve()
        page = self.page
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on("dialog", lambda dialog: (self.problems.append("dialog"), dialog.dismiss()))

        def request(r) -> None:
            self.requests.append(r.url)
            parts = urlsplit(r.url)
            target = Path(unquote(parts.path)).resolve()
            if parts.scheme != "file" or root not in target.parents:
                self.problems.append(f"request {r.url}")

        page.on("request", request)
        self.goto(path)

    def goto(self, path: Path, fragment: str = "") -> None:
        self.page.goto(path.as_uri() + fragment)
        self.page.wait_for_load_state("load")

    def type(self, words: str) -> None:
        """``/`` (unless in the box already) then the words, as a reader types them; waits
        until they are searched."""
        if self.page.evaluate("document.activeElement.type") != "search":
            self.page.keyboard.press("/")
        self.page.keyboard.type(words)
        # the box searches a moment after each key (a 0 ms timer): one timer later, it has
        self.page.evaluate("() => new Promise(done => setTimeout(done, 0))")
        self.page.wait_for_function(
            "w => document.querySelector('.find input').value === w"
            " && !document.querySelector('.find-count').textContent.includes('loading')"
            " && document.querySelector('.find-count').textContent !== ''",
            arg=words,
        )

    def count(self) -> str:
        return self.page.locator(".find-count").text_content()

    def results(self) -> list[str]:
        return self.page.locator(".find-results li").all_text_contents()

    def marks(self) -> list[str]:
        return self.page.locator("main mark").all_text_contents()

    def current(self) -> str | None:
        """The id of the message the search stands on (outlined, its words marked)."""
        hit = self.page.locator("article.find-hit")
        return hit.get_attribute("id") if hit.count() == 1 else None

    def hash(self) -> str:
        return urlsplit(self.page.url).fragment

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def reader(browser):  # noqa: F811
    opened: list[Reader] = []

    def open_(path: Path, javascript: bool = True, root: Path | None = None) -> Reader:
        """A tab on ``path``; every request must stay inside ``root`` (the archive, which
        holds the page's space folder, unless said)."""
        opened.append(Reader(browser, path, javascript, root or path.parent.parent))
        return opened[-1]

    yield open_
    for tab in opened:
        tab.close()


def test_finds_highlights_and_steps_with_the_keyboard(reader, whole: Path):
    tab = reader(whole)
    assert tab.page.locator(".find").is_visible()
    tab.type("budget")
    assert tab.count() == "1 of 2"
    results = tab.results()
    assert results == ["Sat 10 Feb 2024 10:00Kick-off notes: - scope - budget",
                       "Sun 10 Mar 2024 13:00Budget approved."]  # fmt: skip
    assert tab.page.locator(".find-results mark").all_text_contents() == ["budget", "Budget"]
    assert tab.current() == "msg-msg-01" and tab.marks() == ["budget"]
    tab.page.keyboard.press("Enter")  # the first Enter goes to the first match
    assert tab.hash() == "msg-msg-01" and tab.count() == "1 of 2"
    top = tab.page.locator("#msg-msg-01").evaluate("a => a.getBoundingClientRect().top")
    assert 0 <= top < tab.page.viewport_size["height"]
    tab.page.keyboard.press("Enter")
    assert tab.hash() == "msg-msg-04" and tab.count() == "2 of 2"
    assert tab.current() == "msg-msg-04" and tab.marks() == ["Budget"]
    tab.page.keyboard.press("Enter")  # round again
    assert tab.hash() == "msg-msg-01" and tab.count() == "1 of 2"
    tab.page.keyboard.press("Shift+Enter")
    assert tab.hash() == "msg-msg-04" and tab.marks() == ["Budget"]
    tab.page.keyboard.press("Escape")  # clears
    assert tab.page.locator(".find input").input_value() == ""
    assert tab.marks() == [] and tab.current() is None and tab.count() == ""
    assert tab.page.evaluate("document.activeElement.type") == "search"
    tab.page.keyboard.press("Escape")  # leaves
    assert tab.page.evaluate("document.activeElement === document.body")
    assert tab.problems == []


def test_words_match_in_any_case_and_accent_phrases_in_order(reader, whole: Path):
    tab = reader(whole)
    tab.type("CLÖCK")
    assert tab.count() == "1 of 2" and tab.marks() == ["clock"]
    tab.page.keyboard.press("Escape")
    tab.type('"clock change" before')  # every word, a phrase as one
    assert tab.count() == "1 of 1" and tab.marks() == ["Before", "clock change"]
    tab.page.keyboard.press("Escape")
    tab.type('"change clock"')
    assert tab.count() == "no match" and tab.results() == [] and tab.marks() == []
    tab.page.keyboard.press("Escape")
    tab.type("slides.pdf")  # an attachment's name
    assert tab.count() == "1 of 1" and tab.current() == "msg-msg-08"
    assert tab.marks() == ["slides.pdf"]
    assert tab.problems == []


def test_a_result_is_a_link_that_jumps(reader, whole: Path):
    tab = reader(whole)
    tab.type("lines")
    link = tab.page.locator(".find-results a")
    assert link.count() == 1 and link.get_attribute("href") == "#msg-msg-14"
    link.click()
    assert tab.hash() == "msg-msg-14" and tab.current() == "msg-msg-14"
    assert tab.page.locator(".find-results").is_hidden()
    tab.page.keyboard.press("/")  # back in the box, the list comes back
    tab.page.keyboard.press("ArrowDown")
    assert tab.page.evaluate("document.activeElement.getAttribute('href')") == "#msg-msg-14"
    tab.page.keyboard.press("Escape")
    assert tab.page.evaluate("document.activeElement.type") == "search"
    assert tab.problems == []


def test_search_crosses_split_parts(reader, split: dict[str, Path]):
    tab = reader(split["2024-04"])
    tab.type("budget")  # both messages are in February's part
    assert tab.count() == "1 of 2"
    assert tab.results() == ["2024-02Kick-off notes: - scope - budget",
                             "2024-02Budget approved."]  # fmt: skip
    hrefs = tab.page.locator(".find-results a").evaluate_all("as => as.map(a => a.href)")
    assert hrefs == [split["2024-02"].as_uri() + "#find=0:budget",
                     split["2024-02"].as_uri() + "#find=1:budget"]  # fmt: skip
    tab.page.keyboard.press("Enter")  # leads to the other part, onto the message
    tab.page.wait_for_url(split["2024-02"].as_uri() + "#msg-msg-01")
    tab.page.wait_for_function("() => document.querySelector('article.find-hit') !== null")
    assert tab.current() == "msg-msg-01" and tab.marks() == ["budget"]
    assert tab.page.locator(".find input").input_value() == "budget"
    tab.page.keyboard.press("Enter")  # and goes on from there
    assert tab.hash() == "msg-msg-04" and tab.marks() == ["Budget"] and tab.count() == "2 of 2"
    tab.page.keyboard.press("Escape")
    tab.type("change")  # from February, the two in March
    assert [r[:7] for r in tab.results()] == ["2024-03", "2024-03"]
    assert tab.problems == []


def test_the_split_index_page_searches_every_part(reader, split: dict[str, Path]):
    tab = reader(split["index"])
    tab.type("noted")  # a reply in March to a message of March
    assert tab.count() == "1 of 1" and tab.results() == ["2024-03Noted."]
    tab.page.locator(".find-results a").click()
    tab.page.wait_for_url(split["2024-03"].as_uri() + "#msg-msg-13")
    tab.page.wait_for_function("() => document.querySelector('article.find-hit') !== null")
    assert tab.current() == "msg-msg-13" and tab.marks() == ["Noted"]
    assert tab.problems == []


def test_without_its_search_file_a_page_searches_its_own_messages(reader, whole: Path):
    """The page alone (mailed, copied without the file beside it) still finds its messages,
    read from its DOM; only the missing file's load is reported by the browser."""
    whole.with_name(whole.stem + ".search.js").unlink()
    tab = reader(whole)
    tab.type("budget")
    assert tab.count() == "1 of 2" and tab.marks() == ["budget"]
    assert [p for p in tab.problems if "ERR_FILE_NOT_FOUND" not in p] == []


def test_a_split_page_without_a_search_file_says_what_it_cannot_search(
    reader, split: dict[str, Path]
):
    """A part whose own file is gone searches its articles from the DOM and the other parts
    from theirs; without the index's file (which leads to the parts) a part searches itself
    and says the others are not searchable, as does the index page."""
    index_path(split["2024-03"]).unlink()
    tab = reader(split["2024-03"])
    tab.type("change")  # two in March (from the DOM), none elsewhere
    assert tab.count() == "1 of 2" and tab.current() is not None
    tab.page.keyboard.press("Escape")
    tab.type("budget")  # two in February (its file)
    assert tab.count() == "1 of 2" and [r[:7] for r in tab.results()] == ["2024-02"] * 2
    assert [p for p in tab.problems if "ERR_FILE_NOT_FOUND" not in p] == []
    index_path(split["index"]).unlink()
    tab = reader(split["2024-03"])
    tab.type("change")
    assert tab.count() == "1 of 2 · other pages not searchable"
    tab = reader(split["index"])
    tab.type("change")
    assert tab.count() == "no match · other pages not searchable"


def test_without_javascript_there_is_no_search_box(reader, whole: Path, split):
    for path in (whole, split["index"], split["2024-03"]):
        tab = reader(path, javascript=False)
        assert tab.page.locator(".find").count() == 1
        assert tab.page.locator(".find").is_hidden()
        assert tab.page.locator(".find input").is_hidden()
        assert (tab.page.locator("article.msg").count() == 0) == (path == split["index"])
        tab.page.keyboard.press("/")
        assert tab.problems == [] and tab.requests == [path.as_uri()]


def test_hostile_text_stays_text_in_the_results(reader, whole: Path):
    """Message 12 holds ``</script><script>alert(1)</script>``: found, shown, marked as text."""
    tab = reader(whole)
    tab.type("alert")
    assert tab.count() == "1 of 1"
    [result] = tab.results()
    assert "</script><script>alert(1)</script>" in result
    assert tab.page.locator(".find-results *").evaluate_all("es => es.map(e => e.localName)") == [
        "li",
        "a",
        "span",
        "mark",
        "mark",
    ]
    assert tab.page.evaluate("document.scripts.length") == 2  # the page's and its search file
    assert tab.marks() == ["alert", "alert"]
    assert tab.problems == []


def test_the_home_page_searches_every_space(reader, emu, dataset, tmp_path: Path):
    """``render --all`` writes the archive's home page with a search box over every space's
    search file; a --split space's leads to its parts. A word in several spaces lists each
    under its name (a part's with its month), and a result leads onto the message."""
    db = store.open_archive(tmp_path)
    with WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, list(dataset.rooms), SyncOptions())
    db.conn.close()
    options = RenderOptions(zone=AMSTERDAM, zone_name="Europe/Amsterdam")
    render_spaces(tmp_path, [], True, options)
    render_spaces(tmp_path, ["Project Atlas"], False, replace(options, split="month"))
    tab = reader(tmp_path / "index.html", root=tmp_path)
    tab.type("deploy")
    links = tab.page.locator(".find-results a")
    targets = links.evaluate_all("as => as.map(a => a.getAttribute('href'))")
    labels = tab.page.locator(".find-where").all_text_contents()
    titles = {room["title"] for room in dataset.rooms.values()}
    named = {label.split(" · ")[0] for label in labels}
    assert len(named) >= 3 and named <= titles and "Project Atlas" in named
    assert tab.count() == f"1 of {len(targets)}" and len(targets) == len(labels)
    atlas = [k for k, label in enumerate(labels) if label.startswith("Project Atlas")]
    assert all(re.fullmatch(r"Project Atlas · \d{4}-\d{2}", labels[k]) for k in atlas)
    assert all(re.fullmatch(r"Project%20Atlas/Project%20Atlas-\d{4}-\d{2}\.html#find=\d+:deploy",
                            targets[k]) for k in atlas)  # fmt: skip
    other = next(k for k, label in enumerate(labels) if " · " not in label)
    for k in (atlas[-1], other):
        tab.goto(tmp_path / "index.html")
        tab.type("deploy")
        links.nth(k).click()
        page = tmp_path / unquote(targets[k].split("#")[0])
        tab.page.wait_for_function("() => document.querySelector('article.find-hit') !== null")
        assert urlsplit(tab.page.url).path == page.as_uri()[len("file://") :]
        assert tab.hash().startswith("msg-") and tab.hash() == tab.current()
        assert {m.lower() for m in tab.marks()} == {"deploy"}
    assert tab.problems == []
    off = reader(tmp_path / "index.html", javascript=False, root=tmp_path)
    assert off.page.locator(".find").count() == 1 and off.page.locator(".find").is_hidden()
    assert off.problems == [] and off.requests == [(tmp_path / "index.html").as_uri()]


def test_blurred_searches_hold_and_find_no_real_name(reader, small_archive: Path):
    """Under --blur every search file of the rendering (a --split index's and each part's)
    holds pseudonyms only, title included, and the blurred home page's search, which loads
    them all, finds the pseudonyms and never a real name; the real home page is untouched."""
    render_spaces(small_archive, [], True, RenderOptions(zone=AMSTERDAM))  # the real home
    root = (small_archive / "index.html").read_bytes()
    with sqlite3.connect(small_archive / "archive.db") as conn:  # a title that is a name
        conn.execute("UPDATE spaces SET title = 'Alice Example' WHERE id = ?", [SPACE_ID])
    index, *parts = render(small_archive, blur=True, split="month")
    files = sorted((small_archive / "blurred").glob("*.search.js"))
    assert files == sorted(index_path(page) for page in [index, *parts]) and len(files) == 4
    for page in [index, *parts]:
        data, lines = read(page)
        words = json.dumps(data) + "\n".join(lines)
        assert data["title"] == "Person 1"
        for _, name, email, _ in PEOPLE:
            for value in (name, email, *name.split(), email.split("@")[0]):
                assert value.casefold() not in words.casefold(), (page.name, value)
    tab = reader(small_archive / "blurred" / "index.html", root=small_archive)
    for name in ("Alice", "Bob Builder", "carol", "example.com"):
        tab.type(name)
        assert tab.count() == "no match", name
        tab.page.keyboard.press("Escape")
    tab.type("Person 2")  # who msg-03 mentions, in March
    assert tab.count() == "1 of 1"
    assert tab.results() == ["Person 1 · 2024-03Hi Person 1 and Person 2, see the plan."]
    assert tab.problems == []
    assert (small_archive / "index.html").read_bytes() == root

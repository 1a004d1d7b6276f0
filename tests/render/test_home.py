"""The archive's home page (``index.html``): what it lists and counts, how it stays inert and
keeps names out under ``--blur``, and, in Chromium, that it sorts, filters, links every space
and reads the same with JavaScript off (issue 18)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import RenderOptions, render_spaces
from tests.conftest import make_dataset
from tests.render.conftest import PEOPLE
from tests.render.test_browser import browser, open_page  # noqa: F401 (a fixture)
from webex_emulator import Emulator

ZONE = ZoneInfo("Europe/Amsterdam")
HOSTILE_TITLE = 'Q3 </td><script>alert(1)</script><img src=x onerror="alert(2)"> \u202eevil\x07'


def render(archive: Path, spaces: list[str] | None = None, **options) -> list[Path]:
    settings = RenderOptions(zone=ZONE, zone_name="Europe/Amsterdam", **options)
    return render_spaces(archive, spaces or [], not spaces, settings)


def rows(home: Path) -> list[str]:
    return re.findall(r"<tr data-title=.*?</tr>", home.read_text(encoding="utf-8"), re.S)


def test_the_home_page_lists_and_counts(small_archive):
    render(small_archive, split="month", formats=("html", "txt"))
    text = (small_archive / "index.html").read_text(encoding="utf-8")
    [row] = rows(small_archive / "index.html")
    assert row.startswith(
        '<tr data-title="project falcon" data-type="group" data-messages="14" data-members="5" '
        'data-first="2024-02-10T09:00:00.000Z" data-last="2024-04-04T08:00:00.000Z" '
        'data-synced="2024-04-05T10:00:00.000Z" data-page="Project%20Falcon/Project%20Falcon.html">'
    )
    assert (
        '<td><a href="Project%20Falcon/Project%20Falcon.html">Project Falcon</a></td><td>group</td>'
        '<td class="n">14</td><td class="n">5</td><td>Sat 10 Feb 2024 10:00</td>'
        "<td>Thu 4 Apr 2024 10:00</td><td>Fri 5 Apr 2024 12:00</td>"
    ) in row
    assert "<summary>3 parts</summary>" in row
    for month in ("2024-02", "2024-03", "2024-04"):
        assert f'<a href="Project%20Falcon/Project%20Falcon-{month}.html">{month}</a>' in row
    assert '<a href="Project%20Falcon/Project%20Falcon.txt">TXT</a>' in row
    numbers = re.findall(r'<tr><th scope="row">([^<]*)</th><td class="n">([^<]*)</td>', text)
    assert numbers == [
        ("Spaces", "1 rendered of 1 in the archive"),
        ("Messages", "14"),
        ("People", "6"),
        ("Files", "2 · 1.5 MB"),
        ("Downloaded", "1 · 1.5 MB"),
    ]


def test_only_spaces_with_pages_are_listed_and_hostile_titles_stay_text(small_archive):
    with sqlite3.connect(small_archive / "archive.db") as conn:
        conn.execute(
            "INSERT INTO spaces (id, title, type, folder, raw) VALUES "
            "('space-two', ?, 'direct', 'Two', '{}'), ('space-three', 'Never rendered', 'group', "
            "'Three', '{}')",
            [HOSTILE_TITLE],
        )
    render(small_archive, ["space-two"], formats=("json",))
    home = small_archive / "index.html"
    assert len(rows(home)) == 1  # Two, as JSON; Project Falcon is not rendered yet
    render(small_archive, ["space-falcon"])
    listed = rows(home)
    assert len(listed) == 2 and "Never rendered" not in home.read_text(encoding="utf-8")
    two = next(row for row in listed if 'data-type="direct"' in row)
    assert '<a href="Two/Two.json">JSON</a>' in two
    assert "<script>" not in two and "<img" not in two and "\u202e" not in two
    assert "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x" in two


def test_blurred_renderings_get_a_home_page_of_their_own_without_names(small_archive):
    render(small_archive)
    root = (small_archive / "index.html").read_bytes()
    with sqlite3.connect(small_archive / "archive.db") as conn:
        conn.execute("UPDATE spaces SET title = 'Alice Example' WHERE id = 'space-falcon'")
    render(small_archive, blur=True, split="year")
    assert (small_archive / "index.html").read_bytes() == root  # the root's is not touched
    text = (small_archive / "blurred" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<(style|script)\b.*?</\1>", "", text, flags=re.S)  # our words, not data
    for _, name, email, _ in PEOPLE:
        for value in (name, email, name.split()[0], email.split("@")[0]):
            assert value.casefold() not in text.casefold(), value
    [row] = rows(small_archive / "blurred" / "index.html")
    assert re.search(r'<a href="Person%201-[0-9a-f]{8}\.html">Person 1</a>', row)
    # its search box loads the blurred page's search file alone (it leads to the parts')
    [sources] = re.findall(r"data-sources='([^']*)'", text)
    [source] = json.loads(sources)
    assert re.fullmatch(r"Person%201-[0-9a-f]{8}\.search\.js", source)
    assert (small_archive / "blurred" / unquote(source)).is_file()
    assert "Falcon" not in (small_archive / "blurred" / unquote(source)).read_text()
    assert re.findall(r"data-sources='([^']*)'", root.decode()) == [
        '["Project%20Falcon/Project%20Falcon.search.js"]'
    ]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The emulator's four spaces synced and rendered, two of them split by month. Built once
    for the module: its tests only open the pages."""
    dataset = make_dataset()
    tmp_path = tmp_path_factory.mktemp("home")
    db = store.open_archive(tmp_path)
    with Emulator(dataset) as emu, WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, list(dataset.rooms), SyncOptions())
    db.conn.close()
    render(tmp_path)
    render(tmp_path, ["Project Atlas", "Design reviews"], split="month")
    return tmp_path


def visible_titles(page) -> list[str]:
    return page.eval_on_selector_all(
        "#spaces tbody tr:not([hidden]) td:first-child", "cells => cells.map(c => c.textContent)"
    )


def test_in_chromium_the_home_page_sorts_filters_and_links(browser, archive):  # noqa: F811
    context, page, problems = open_page(browser, archive / "index.html")
    titles = visible_titles(page)
    assert len(titles) == 4 and page.locator("#shown").text_content() == "4 of 4 spaces"
    page.locator("th[data-key=messages] button").click()
    counts = page.eval_on_selector_all("#spaces tbody tr", "r => r.map(x => +x.dataset.messages)")
    assert counts == sorted(counts) and len(set(counts)) > 1
    page.locator("th[data-key=messages] button").click()
    again = page.eval_on_selector_all("#spaces tbody tr", "r => r.map(x => +x.dataset.messages)")
    assert again == sorted(counts, reverse=True)
    assert page.locator("th[data-key=messages]").get_attribute("aria-sort") == "descending"
    page.locator("#filter").fill("ATLAS")
    assert visible_titles(page) == ["Project Atlas"]
    assert page.locator("#shown").text_content() == "1 of 4 spaces"
    page.locator("#filter").fill("")
    page.locator("#kind").select_option("direct")
    assert len(visible_titles(page)) == 1
    hrefs = page.eval_on_selector_all("#spaces a", "links => links.map(a => a.href)")
    assert len(hrefs) > 4 + 20  # every space's page and the split ones' parts
    for href in hrefs:
        assert Path(unquote(href.removeprefix("file://"))).is_file(), href
    page.locator("#kind").select_option("")
    page.locator("#spaces a", has_text="Project Atlas").first.click()
    page.wait_for_load_state("load")
    page.locator(".banner .home a").click()
    page.wait_for_load_state("load")
    assert page.url == (archive / "index.html").as_uri()
    assert problems == []
    context.close()


def test_without_javascript_the_home_page_is_a_plain_table(browser, archive):  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((archive / "index.html").as_uri())
    assert len(visible_titles(page)) == 4
    assert not page.locator("#tools").is_visible()  # no control that would do nothing
    assert page.locator("#spaces th button").count() == 0
    assert page.locator("#spaces tbody a").count() > 4
    context.close()

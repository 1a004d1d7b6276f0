"""The page in a real browser (Debian's chromium driven by Playwright): it loads offline with no
error and no request, the image pop-up opens and closes with Escape, a year folds, and the dark
theme follows the reader's system."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import sync_playwright

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import RenderOptions, render_spaces
from tests.conftest import group_room, make_dataset
from webex_emulator import Emulator

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install chromium (see README)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rendered space with one image 'downloaded' so that it shows as a thumbnail. Built once
    for the module (an emulator, a sync, a rendering): its tests only open the page."""
    dataset = make_dataset()
    room = group_room(dataset)
    tmp_path = tmp_path_factory.mktemp("page")
    db = store.open_archive(tmp_path)
    with Emulator(dataset) as emu, WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, [room["id"]], SyncOptions())
    folder = tmp_path / "Project Atlas" / "images"
    folder.mkdir(parents=True)
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        (url,) = conn.execute(
            "SELECT url FROM files WHERE content_type = 'image/png' AND space_id = ? LIMIT 1",
            [room["id"]],
        ).fetchone()
        content = dataset.contents[url.rsplit("/", 1)[1]]
        (folder / "picture one.png").write_bytes(content.body())
        conn.execute(
            "UPDATE files SET status = 'downloaded', local_path = ? WHERE url = ?",
            ["Project Atlas/images/picture one.png", url],
        )
    options = RenderOptions(zone=ZoneInfo("Europe/Amsterdam"), zone_name="Europe/Amsterdam")
    [path] = render_spaces(tmp_path, [room["id"]], False, options)
    return path


def open_page(browser, path: Path, scheme: str = "light"):
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: (problems.append("dialog"), dialog.dismiss()))
    page.on("request", lambda r: None if r.url.startswith("file://") else problems.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, problems


def test_loads_offline_without_errors_or_requests(browser, page_path):
    context, page, problems = open_page(browser, page_path)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("article.msg").count() > 100
    thumb = page.locator("button.thumb img")
    thumb.scroll_into_view_if_needed()
    thumb.evaluate("img => img.complete || new Promise(done => img.onload = done)")
    assert thumb.evaluate("img => img.naturalWidth") > 0  # loaded from the archive folder
    assert problems == []
    context.close()


def test_image_popup_opens_and_closes_with_escape(browser, page_path):
    context, page, problems = open_page(browser, page_path)
    thumb = page.locator("button.thumb").first
    thumb.scroll_into_view_if_needed()  # as a reader does: the picture is seen, then clicked
    thumb.locator("img").evaluate("i => i.complete || new Promise(done => i.onload = done)")
    thumb.click()
    assert page.evaluate("document.getElementById('viewer').open") is True
    name = thumb.locator("xpath=following-sibling::figcaption").text_content().split(" · ")[0]
    assert page.locator("#viewer p").text_content() == name and name.endswith(".png")
    assert page.locator("#viewer img").get_attribute("src") == "images/picture%20one.png"
    page.keyboard.press("Escape")
    assert page.evaluate("document.getElementById('viewer').open") is False
    page.locator("button.thumb").first.click()
    page.locator("#viewer").click(position={"x": 5, "y": 5})
    assert page.evaluate("document.getElementById('viewer').open") is False
    assert problems == []
    context.close()


def test_a_year_folds(browser, page_path):
    context, page, _ = open_page(browser, page_path)
    first = page.locator(".toc details").first
    assert first.evaluate("d => d.open") is True
    assert first.locator("ol").is_visible()
    first.locator("summary").click()
    assert first.evaluate("d => d.open") is False
    assert not first.locator("ol").is_visible()
    context.close()


def test_dark_theme_follows_the_system(browser, page_path):
    for scheme, colour in (("light", "rgb(255, 255, 255)"), ("dark", "rgb(18, 22, 29)")):
        context, page, _ = open_page(browser, page_path, scheme)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == colour, scheme
        context.close()


def test_months_render_lazily_yet_print_whole_and_links_land(browser, page_path):
    """Months are skipped by rendering until near the viewport (content-visibility), but every
    message is in the DOM, a link to one lands on it, and print renders them all."""
    context, page, problems = open_page(browser, page_path)
    months = page.locator("section.month")
    assert months.count() > 1
    assert months.evaluate_all(
        "ms => ms.every(m => getComputedStyle(m).contentVisibility === 'auto'"
        " && m.style.containIntrinsicSize.startsWith('auto '))"
    )
    shown = "as => as.map(a => a.checkVisibility({contentVisibilityAuto: true}))"
    assert False in page.locator("article.msg").evaluate_all(shown)  # some are skipped
    last = page.locator("article.msg").last.get_attribute("id")
    page.goto(f"{page_path.as_uri()}#{last}")
    top = page.evaluate(f"document.getElementById('{last}').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"]
    page.emulate_media(media="print")
    # Print lifts every lock, so nothing is skipped. (checkVisibility() right after the media
    # switch can still answer from the screen's last frame, so the computed style is asked.)
    locks = "es => es.map(e => getComputedStyle(e).contentVisibility)"
    assert set(page.locator(".month, .run, .msg").evaluate_all(locks)) == {"visible"}
    assert page.pdf()[:4] == b"%PDF"
    assert problems == []
    context.close()


def test_guessed_heights_keep_the_page_still(browser, page_path):
    """Blocks not yet rendered reserve a height guessed from their messages. A guess far off
    (once: 100 messages' worth for every run) made the page several times its real height and
    threw a jump to a message, or a click, off its target as the blocks around it rendered."""
    context, page, _ = open_page(browser, page_path)
    height = "document.documentElement.scrollHeight"
    guessed = page.evaluate(height)
    article = page.locator("article.msg", has=page.locator("button.thumb"))
    page.goto(f"{page_path.as_uri()}#{article.get_attribute('id')}")
    frames = "n => new Promise(done => { const f = () => --n ? requestAnimationFrame(f) : done(); "
    frames += "f(); })"
    page.evaluate(frames, 30)  # the jump settles within landOnTarget's 30 frames
    top = article.evaluate("a => a.getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"]
    after_jump = page.evaluate(height)
    page.locator(".month, .run, .msg").evaluate_all(
        "es => es.forEach(e => e.style.contentVisibility = 'visible')"
    )
    real = page.evaluate(height)
    assert 0.7 < guessed / real < 1.3 and 0.7 < after_jump / real < 1.3, (guessed, after_jump, real)
    context.close()


def test_image_popup_keeps_small_images_small_and_has_a_close_button(browser, page_path):
    """The pop-up shows a picture at most at its natural size (a 48 px picture stayed 48 px,
    not 960 px of blur), and a visible button closes it, for readers who know no Escape."""
    context, page, problems = open_page(browser, page_path)
    thumb = page.locator("button.thumb").first
    thumb.scroll_into_view_if_needed()
    thumb.locator("img").evaluate("i => i.complete || new Promise(done => i.onload = done)")
    thumb.click()
    image = page.locator("#viewer img")
    image.evaluate("i => i.complete || new Promise(done => i.onload = done)")
    natural = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    shown = image.evaluate(
        "i => [i.getBoundingClientRect().width, i.getBoundingClientRect().height]"
    )
    assert 0 < natural[0] < 200 and shown == natural
    close = page.locator("#viewer button.close")
    assert close.is_visible()
    box, viewport = close.bounding_box(), page.viewport_size
    assert box["width"] >= 24 and box["height"] >= 24
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] and box["y"] >= 0
    assert page.evaluate("document.activeElement.className") == "close"  # Enter closes too
    close.click()
    assert page.evaluate("document.getElementById('viewer').open") is False
    assert problems == []
    context.close()

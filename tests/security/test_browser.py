"""Every rendered page in headless Chromium: nothing injected runs, asks, fetches or breaks.

Each page of each rendering (plain, --blur, --split month with its index) is opened from disk
with JavaScript on, scrolled from top to bottom (lazy images load as a reader would make them),
and every image pop-up is opened and closed. The page fails on: ``window.__pwned`` being set
(every hostile script in the data set sets it), a console error or uncaught exception, a
dialog (alert, confirm, print), any request that is not a file of the archive (or the page
itself), a frame, a second <script>, an event-handler attribute or a javascript: link in the
DOM, and an image that does not load although its bytes are a real image.

Debian's chromium is driven through Playwright with test_browser's launch arguments. One tab
is reused for all pages (a fresh window per navigation), which keeps some sixty pages within
about twenty seconds.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.render.test_browser import ARGS, CHROMIUM
from tests.security.conftest import Hostile

# Scroll through the whole page a viewport at a time, a frame per step, then wait for every
# image (lazy ones that were passed start loading; any left are switched to eager).
SCROLL = """async () => {
  const frame = () => new Promise(done => requestAnimationFrame(() => done()));
  const settled = img => img.complete || new Promise(done => {
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
  });
  const root = document.documentElement;
  for (let y = 0; y < root.scrollHeight; y += innerHeight) { scrollTo(0, y); await frame(); }
  scrollTo(0, root.scrollHeight);
  await frame();
  for (const img of document.images) { if (!img.complete) img.loading = 'eager'; }
  const all = Promise.all([...document.images].map(settled));
  await Promise.race([all, new Promise(done => setTimeout(done, 10000))]);
  return [...document.images].map(img => [img.getAttribute('src'), img.complete,
                                           img.naturalWidth > 0]);
}"""

# Open every image pop-up (the page's own click handler), wait for its image, close it by a
# click on the pop-up, and report what was seen.
POPUPS = """async () => {
  const viewer = document.getElementById('viewer');
  const seen = [];
  for (const thumb of document.querySelectorAll('button.thumb')) {
    thumb.scrollIntoView();
    thumb.click();
    const img = viewer.querySelector('img');
    await (img.complete || new Promise(done => {
      img.addEventListener('load', done, {once: true});
      img.addEventListener('error', done, {once: true});
    }));
    const shown = [viewer.open, img.getAttribute('src'), thumb.dataset.full,
                   viewer.querySelector('p').textContent === thumb.dataset.name,
                   img.naturalWidth > 0];
    viewer.click();
    seen.push([...shown, viewer.open]);
  }
  return seen;
}"""

# What must not be in the DOM once everything ran.
AUDIT = """() => {
  const found = [];
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      if (attribute.name.startsWith('on')) found.push(`${element.localName}[${attribute.name}]`);
      if (/^\\s*(javascript|vbscript|data):/i.test(attribute.value)
          && ['href', 'src', 'action', 'formaction', 'data-full'].includes(attribute.name)) {
        found.push(`${element.localName}[${attribute.name}=${attribute.value.slice(0, 40)}]`);
      }
    }
  }
  const scripts = document.scripts.length;
  if (scripts !== 1) found.push(`${scripts} scripts`);
  for (const tag of ['iframe', 'frame', 'object', 'embed', 'form', 'base', 'link', 'svg']) {
    if (document.getElementsByTagName(tag).length) found.push(`<${tag}>`);
  }
  if (typeof window.__pwned !== 'undefined') found.push('window.__pwned is set');
  return found;
}"""

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tab() -> Iterator[Page]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install chromium (see README)")
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 4000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def local_file(url: str) -> Path | None:
    """The file a file:// URL names, or None for any other URL."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None


def is_image(path: Path) -> bool:
    """Whether the browser can decode the file: the data set's images are PNG or SVG."""
    head = path.read_bytes()[:200]
    return head.startswith(PNG) or head.lstrip().startswith(b"<svg")


# visit()'s findings per page, in this process. A later test that needs a page judged again
# reads them here and only loads the page: a visit of the 3 MB catalogue page (655,000 pixels
# scrolled a viewport at a time, a dozen pop-ups) costs some fifteen seconds.
VISITED: dict[Path, list[str]] = {}


def judged(tab: Page, path: Path, archive: Path) -> list[str]:
    """What visit() found on ``path``: this process's earlier visit of it, or a visit now. Either
    way the tab is left on the page, freshly loaded or after the visit."""
    if path not in VISITED:
        VISITED[path] = visit(tab, path, archive)
    else:
        tab.goto(path.as_uri())
    return list(VISITED[path])


def visit(tab: Page, path: Path, archive: Path) -> list[str]:
    """Open one page, run everything lazy, and return what went wrong (empty when nothing)."""
    problems: list[str] = []
    allowed = {path.resolve()}
    root = archive.resolve()

    def on_request(request) -> None:
        target = local_file(request.url)
        if target is None or (target not in allowed and root not in target.parents):
            problems.append(f"request {request.url[:120]}")

    def on_console(message) -> None:
        if message.type == "error":
            problems.append(f"console error {message.text[:200]}")

    handlers = {
        "request": on_request,
        "console": on_console,
        "pageerror": lambda error: problems.append(f"page error {error}"),
        "dialog": lambda dialog: (problems.append(f"dialog {dialog.type}"), dialog.dismiss()),
    }
    for event, handler in handlers.items():
        tab.on(event, handler)
    try:
        tab.goto(path.as_uri())
        images = tab.evaluate(SCROLL)
        popups = tab.evaluate(POPUPS)
        problems += tab.evaluate(AUDIT)
        problems += [f"frame {frame.url}" for frame in tab.frames[1:]]
    finally:
        for event, handler in handlers.items():
            tab.remove_listener(event, handler)
    for src, complete, decoded in images:
        file = (path.parent / unquote(src)).resolve()
        if not complete or decoded != is_image(file):
            problems.append(f"image {src}: complete={complete}, decoded={decoded}")
    for opened, src, full, captioned, decoded, still_open in popups:
        if not opened or src != full or not captioned or still_open:
            problems.append(f"pop-up {full}: open={opened}, src={src}, caption={captioned}")
        elif decoded != is_image((path.parent / unquote(full)).resolve()):
            problems.append(f"pop-up {full}: decoded={decoded}")
    return problems


@pytest.mark.parametrize("variant", ["page", "blur", "split"])
def test_every_page_is_inert_in_chromium(tab: Page, hostile_archive: Hostile, variant: str):
    pages = hostile_archive.html(variant)
    assert len(pages) >= 11  # every space (split: every part and every index)
    failures = {}
    for path in pages:
        problems = judged(tab, path, hostile_archive.archive)
        if problems:
            failures[path.name] = problems
    assert failures == {}


def test_the_home_page_is_inert_in_chromium(tab: Page, hostile_archive: Hostile):
    """The home page lists every hostile title (as text, in cells and data- attributes) and
    its script sorts and filters them: nothing may run, load or break."""
    home = hostile_archive.archive / "index.html"
    assert visit(tab, home, hostile_archive.archive) == []
    assert tab.locator("#spaces tbody tr").count() == len(hostile_archive.html("page"))
    for key in ("title", "messages", "last"):
        tab.locator(f"th[data-key={key}] button").click()
    tab.locator("#filter").fill("<script>")
    shown = tab.locator("#spaces tbody tr:not([hidden])").count()
    assert 0 < shown < tab.locator("#spaces tbody tr").count()
    assert tab.evaluate("window.__pwned") is None
    # its search over every space: hostile messages under hostile titles, shown as text
    status, listed, tags, marks, shown = tab.evaluate(SEARCH, "pwned")
    assert re.fullmatch(r"1 of [\d,]+", status) and listed >= 10 and shown
    assert set(tags) <= {"li", "a", "span", "mark"} and marks == [0, 0]
    labels = tab.locator(".find-where").all_text_contents()
    assert any("<script>" in label for label in labels), labels
    files = len(list(hostile_archive.archive.rglob("*.search.js")))
    assert tab.evaluate(AUDIT.replace("scripts !== 1", f"scripts !== {1 + files}")) == []


def test_the_catalogue_page_really_exercises_the_browser(tab: Page, hostile_archive: Hostile):
    """The checks above are only worth something if the hostile page has what they look at:
    thumbnails (with hostile names) to open, lazy images below the fold, a very long page."""
    path = hostile_archive.page("page", hostile_archive.catalogue["id"])
    assert judged(tab, path, hostile_archive.archive) == []
    assert tab.locator("button.thumb").count() >= 12
    assert tab.evaluate("document.documentElement.scrollHeight") > 100_000
    lazy = tab.evaluate("[...document.images].filter(i => i.loading === 'lazy').length")
    assert lazy >= 10
    names = tab.evaluate("[...document.querySelectorAll('button.thumb')].map(b => b.dataset.name)")
    assert "<img src=x onerror=window.__pwned=1>.png" in names
    assert '" onerror="window.__pwned=1.png' in names


def test_the_harness_notices_an_injection(
    tab: Page, hostile_archive: Hostile, tmp_path: Path
) -> None:
    """A zero from visit() means something only if it fires on a page that lets one hostile
    string through: unescaped with the page's CSP (the CSP refuses it, which is a console
    error), and unescaped without it (the script runs and sets the sentinel). The smallest
    page that shows the string will do: the catalogue's takes fifteen seconds a visit. The
    broken page goes into a copy of its space folder (beside its files, so its links still
    work): the hostile archive is shared by every worker, read only."""
    escaped = '<div class="body">&lt;script&gt;window.__pwned=1&lt;/script&gt;</div>'
    showing = [p for p in hostile_archive.html("page") if escaped in p.read_text("utf-8")]
    assert showing  # the first hostile message, as the pages show it
    page = min(showing, key=lambda p: p.stat().st_size)
    archive = tmp_path / "archive"
    folder = shutil.copytree(page.parent, archive / page.parent.name, symlinks=True)
    original = page.read_text(encoding="utf-8")
    injected = original.replace(escaped, "<script>window.__pwned=1</script>", 1)
    without_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", injected)
    assert without_csp != injected
    broken = folder / "injected.html"
    broken.write_text(injected, encoding="utf-8")
    problems = visit(tab, broken, archive)
    assert any("Content Security Policy" in p for p in problems), problems
    broken.write_text(without_csp, encoding="utf-8")
    problems = visit(tab, broken, archive)
    assert "window.__pwned is set" in problems and "2 scripts" in problems, problems


# Type the words into the search box, wait for the results, go to each result in the page,
# and report what the list holds and how many marks the messages got (and how many elements
# are inside them: none, a mark holds text).
SEARCH = """async words => {
  const input = document.querySelector('.find input');
  const status = document.querySelector('.find-count');
  input.focus();
  input.value = words;
  input.dispatchEvent(new Event('input'));
  const ready = () => status.textContent && !status.textContent.includes('loading');
  while (!ready()) await new Promise(done => setTimeout(done, 20));
  const list = document.querySelector('.find-results');
  const tags = new Set([...list.querySelectorAll('*')].map(e => e.localName));
  const local = [...list.querySelectorAll('a')].filter(a => a.getAttribute('href')[0] === '#');
  const marks = [0, 0];  // marks made, marks holding more than text
  for (let k = 0; k < Math.min(local.length, 40); k += 1) {
    input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter'}));
    for (const mark of document.querySelectorAll('main mark.find-mark')) {
      marks[0] += 1;
      marks[1] += mark.children.length;
    }
  }
  return [status.textContent, list.children.length, [...tags].sort(), marks,
          list.textContent.includes('window.__pwned=1')];
}"""


@pytest.mark.parametrize("variant", ["page", "split"])
def test_hostile_messages_stay_inert_in_search(tab: Page, hostile_archive: Hostile, variant):
    """The catalogue's hostile messages, searched for and gone to one by one: the results show
    them as text, marks add only <mark>, and nothing runs, asks or fetches."""
    if variant == "page":
        path = hostile_archive.page("page", hostile_archive.catalogue["id"])
    else:  # a split index page: every part's search file, then each part's messages
        pages = [p for p in hostile_archive.html("split") if "atalogue" in p.name]
        path = min(pages, key=lambda p: len(p.name))
    problems = judged(tab, path, hostile_archive.archive)
    folders = {hostile_archive.archive.resolve(), path.parent.resolve()}  # --output's, too

    def on_request(request) -> None:
        target = local_file(request.url)
        if target is None or not folders & set(target.parents):
            problems.append(f"request {request.url[:120]}")

    handlers = {
        "request": on_request,
        "console": lambda m: problems.append(m.text) if m.type == "error" else None,
        "pageerror": lambda error: problems.append(f"page error {error}"),
        "dialog": lambda dialog: (problems.append(f"dialog {dialog.type}"), dialog.dismiss()),
    }
    for event, handler in handlers.items():
        tab.on(event, handler)
    try:
        status, listed, tags, marks, shown = tab.evaluate(SEARCH, "pwned")
    finally:
        for event, handler in handlers.items():
            tab.remove_listener(event, handler)
    assert re.fullmatch(r"\d+ of [\d,]+", status) and int(status.split()[-1]) >= 10, status
    assert listed >= 10 and shown
    assert set(tags) <= {"li", "a", "span", "mark"}
    assert "mark" in tags
    assert marks[1] == 0 and (marks[0] > 0) == (variant == "page")
    # the page's script and each search file it loaded: its own, or the index's and the parts'
    scripts = 2 if variant == "page" else 1 + len(pages)
    problems += tab.evaluate(AUDIT.replace("scripts !== 1", f"scripts !== {scripts}"))
    assert problems == []

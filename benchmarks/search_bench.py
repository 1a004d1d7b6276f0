"""Search inside the pages, in a real browser (Debian's chromium via Playwright).

    python benchmarks/search_bench.py [--messages 100000] [--runs 5] [--work DIR]

Renders one generated space (synced once into --work, as render_bench.py does) whole and with
--split month, then measures in headless chromium, each --runs times (the fastest run is
printed: the machine is shared, and the fastest run is the one least disturbed):

- DOMContentLoaded of the page, and of the same file with the search taken out (its box and
  its script removed): the page as it was before search, measured in the same run;
- the index: from the first focus of the search box to a search being possible (the whole
  page reads its own messages from the DOM; the --split index page loads and inflates the
  search file of every part);
- the first result: from the typed words reaching the box (an ``input`` event) to the list of
  results in the DOM, for a frequent word, a rare word and two words;
- the bytes on disk the search adds (the search files: --split has one per part and the
  index's list of them) against the text the page shows (the
  UTF-8 bytes of its ``<main>``'s text) and the page's own bytes.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_bench import ARGS, TIMING, render  # a sibling script
from render_bench import archive_for

BUILD = """() => {
  const input = document.querySelector('.find input');
  const started = performance.now();
  input.focus();
  const status = document.querySelector('.find-count');
  return new Promise(done => {
    const check = () => status.textContent.includes('loading')
      ? setTimeout(check, 5) : done(performance.now() - started);
    check();
  });
}"""
TYPE = """words => new Promise(done => {
  const input = document.querySelector('.find input');
  const list = document.querySelector('.find-results');
  input.value = '';
  input.dispatchEvent(new Event('input'));
  setTimeout(() => {
    let started = 0;
    new MutationObserver((_, observer) => {
      if (list.querySelector('li')) {
        observer.disconnect();
        done([performance.now() - started, document.querySelector('.find-count').textContent]);
      }
    }).observe(list, { childList: true });
    started = performance.now();
    input.value = words;
    input.dispatchEvent(new Event('input'));
  }, 50);
})"""
TEXT = "() => new TextEncoder().encode(document.querySelector('main').textContent).length"
QUERIES = ("deploy", "pricing migration roadmap", '"rollback looks safe"')


def without_search(page: Path, target: Path) -> Path:
    """The page as before search: no box, no search script (the rest byte for byte)."""
    html = page.read_text(encoding="utf-8")
    html, boxes = re.subn(r'<div class="find".*?</ol></div>\n', "", html, count=1, flags=re.S)
    html, scripts = re.subn(
        r"\(function \(\) \{\n  \"use strict\";\n  // Search inside.*?\n\}\)\(\);\n",
        "",
        html,
        count=1,
        flags=re.S,
    )
    assert boxes == scripts == 1, "the page's search box or script was not found"
    target.write_text(html, encoding="utf-8")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    archive = archive_for(args.messages, args.work)
    whole = render(archive, "none", args.work / f"search-{args.messages}-none", "--force")[0]
    month = render(archive, "month", args.work / f"search-{args.messages}-month", "--force")
    largest = max(month[1:], key=lambda p: p.stat().st_size)
    pages = {"whole page": whole, "--split month, index page": month[0],
             "--split month, largest part": largest}  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)

        def opened(path: Path, wait: str = "load"):
            context = browser.new_context()
            page = context.new_page()
            page.goto(path.as_uri(), wait_until=wait, timeout=300_000)
            return context, page

        def loaded(path: Path) -> float:
            context, page = opened(path)
            dcl = page.evaluate(TIMING)[0]
            context.close()
            return dcl

        text = 0
        for label, path in pages.items():
            floor = without_search(path, args.work / "without-search.html")
            # Run for run, one then the other: the machine's speed drifts between rounds.
            pairs = [(loaded(path), loaded(floor)) for _ in range(args.runs)]
            dcl, before = min(p[0] for p in pairs), min(p[1] for p in pairs)
            builds, firsts, counts = [], {q: [] for q in QUERIES}, {}
            for _ in range(args.runs):
                context, page = opened(path)
                builds.append(page.evaluate(BUILD))
                for query in QUERIES:
                    took, counts[query] = page.evaluate(TYPE, query)
                    firsts[query].append(took)
                text = text if path != whole else page.evaluate(TEXT)
                context.close()
            print(f"{label} ({path.stat().st_size / 1e6:.1f} MB)")
            print(f"  DOMContentLoaded {dcl:.0f} ms, without search {before:.0f} ms "
                  f"({dcl / before:.2f}x)")  # fmt: skip
            print(f"  index ready {min(builds):.0f} ms after the first focus")
            for query, times in firsts.items():
                took = min(times)
                print(f"  first result for {query}: {took:.0f} ms ({counts[query]})", flush=True)
        browser.close()
    for label, files in (("whole page", [whole]), ("--split month", month)):  # each part's
        size = sum(page.with_name(page.stem + ".search.js").stat().st_size for page in files)
        print(
            f"search file, {label}: {size / 1e6:.2f} MB = {size / text:.2f}x the page's text "
            f"({text / 1e6:.2f} MB), {size / whole.stat().st_size:.3f}x the page's bytes"
        )


if __name__ == "__main__":
    main()

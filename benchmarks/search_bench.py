"""Search inside the pages, in a real browser (Debian's chromium via Playwright).

    python benchmarks/search_bench.py [--messages 100000] [--runs 5] [--work DIR]
                                      [--timeout 60] [--no-home]

Renders one generated space (synced once into --work, as render_bench.py does) whole and with
--split month, and the archive's home page over it (``render --all`` into the archive, whole
and then split), then measures in headless chromium, each --runs times (the fastest run is
printed: the machine is shared, and the fastest run is the one least disturbed):

- DOMContentLoaded of the page, and of the same file with the search taken out (its box and
  its script removed): the page as it was before search, loaded in turn with it --pairs
  times; the fastest of each, and the median of the pairs' ratios (on a small page a
  neighbour's burst of work swings one load by half, and the median of many pairs holds);
- the index: from the first focus of the search box to a search being possible (the page
  loads and inflates its search file; the --split index page and the home page load every
  file the first one leads to);
- the first result: from the typed words reaching the box (an ``input`` event) to the search
  being done (the list of results in the DOM, or "no match"), for a frequent word, three
  words, a rare word and a phrase;
- the bytes on disk the search adds (the search files: --split has one per part and the
  index's list of them) against the text the page shows (the
  UTF-8 bytes of its ``<main>``'s text) and the page's own bytes.

Every wait in the browser ends within --timeout seconds, with a message that says what did
not happen (tests/test_benchmarks.py runs this on a tiny data set).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_bench import ARGS, TIMING, render  # a sibling script
from render_bench import CLI, archive_for

# Both resolve with an error after ``limit`` ms instead of waiting for ever: a box that
# never leaves "loading", or a search that never ends (a query with no match used to wait
# for a result forever on a small data set).
BUILD = """limit => {
  const input = document.querySelector('.find input');
  const status = document.querySelector('.find-count');
  const started = performance.now();
  input.focus();
  return new Promise((done, fail) => {
    const check = () => {
      const took = performance.now() - started;
      if (!status.textContent.includes('loading')) { done(took); }
      else if (took > limit) { fail(new Error('the search box was still loading after '
                                              + Math.round(took) + ' ms')); }
      else { setTimeout(check, 5); }
    };
    check();
  });
}"""
TYPE = """([words, limit]) => new Promise((done, fail) => {
  const input = document.querySelector('.find input');
  const list = document.querySelector('.find-results');
  const status = document.querySelector('.find-count');
  input.value = '';
  input.dispatchEvent(new Event('input'));
  setTimeout(() => {
    let started = 0;
    // Done: results listed, or the count says none (after the search, never while loading).
    const searched = () => list.querySelector('li') !== null
      || (status.textContent.startsWith('no match') && !status.textContent.includes('loading'));
    const observer = new MutationObserver(() => {
      if (searched()) {
        observer.disconnect();
        clearTimeout(timer);
        done([performance.now() - started, status.textContent]);
      }
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      fail(new Error('no result and no "no match" for ' + JSON.stringify(words) + ' after '
                     + limit + ' ms (the box says ' + JSON.stringify(status.textContent) + ')'));
    }, limit);
    observer.observe(list, { childList: true });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
    started = performance.now();
    input.value = words;
    input.dispatchEvent(new Event('input'));
  }, 50);
})"""
TEXT = "() => new TextEncoder().encode(document.querySelector('main').textContent).length"
# A frequent word, three words, a rare word (one page number of the generated links in a
# thousand) and a phrase.
QUERIES = ("deploy", "pricing migration roadmap", "417", '"rollback looks safe"')


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


def render_home(archive: Path, split: str) -> Path:
    """The archive's home page, over its one space rendered into the archive."""
    written = subprocess.run(
        [*CLI, "--archive", str(archive), "render", "--all", "--split", split, "--force"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return Path(written[-1])  # the home page is said last


def search_files(pages: list[Path]) -> list[Path]:
    """The search files of a rendering's pages (a --split index and its parts: one each)."""
    return [page.with_name(page.stem + ".search.js") for page in pages]


class Bench:
    """One browser and the measurements of one page after another."""

    def __init__(self, browser, args: argparse.Namespace) -> None:
        self.browser, self.runs, self.pairs = browser, args.runs, args.pairs
        self.limit, self.work = args.timeout * 1000, args.work

    def opened(self, path: Path):
        context = self.browser.new_context()
        page = context.new_page()
        page.set_default_timeout(self.limit)
        page.goto(path.as_uri(), wait_until="load", timeout=max(self.limit, 300_000))
        return context, page

    def loaded(self, path: Path) -> float:
        context, page = self.opened(path)
        dcl = page.evaluate(TIMING)[0]
        context.close()
        return dcl

    def measure(self, label: str, path: Path) -> int:
        """Print the page's figures; return the bytes of its text."""
        floor = without_search(path, self.work / "without-search.html")
        # Run for run, one then the other: the machine's speed drifts between rounds.
        pairs = [(self.loaded(path), self.loaded(floor)) for _ in range(self.pairs)]
        dcl, before = min(p[0] for p in pairs), min(p[1] for p in pairs)
        ratio = statistics.median(p[0] / p[1] for p in pairs)
        builds, firsts, counts = [], {q: [] for q in QUERIES}, {}
        for _ in range(self.runs):
            context, page = self.opened(path)
            builds.append(page.evaluate(BUILD, self.limit))
            for query in QUERIES:
                took, counts[query] = page.evaluate(TYPE, [query, self.limit])
                firsts[query].append(took)
            text = page.evaluate(TEXT)
            context.close()
        print(f"{label} ({path.stat().st_size / 1e6:.1f} MB)")
        print(f"  DOMContentLoaded {dcl:.0f} ms, without search {before:.0f} ms "
              f"({dcl / before:.2f}x; median of {len(pairs)} paired ratios "
              f"{ratio:.2f}x)")  # fmt: skip
        print(f"  index ready {min(builds):.0f} ms after the first focus")
        for query, times in firsts.items():
            print(f"  first result for {query}: {min(times):.0f} ms ({counts[query]})", flush=True)
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=15, help="page loads with and without")
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    parser.add_argument("--timeout", type=float, default=60, help="seconds, for each wait")
    parser.add_argument("--no-home", action="store_true", help="skip the home page")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    archive = archive_for(args.messages, args.work)
    whole = render(archive, "none", args.work / f"search-{args.messages}-none", "--force")[0]
    month = render(archive, "month", args.work / f"search-{args.messages}-month", "--force")
    largest = max(month[1:], key=lambda p: p.stat().st_size)
    split = {"--split month, index page": month[0], "--split month, largest part": largest}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            bench = Bench(browser, args)
            text = bench.measure("whole page", whole)
            for label, path in split.items():
                bench.measure(label, path)
            if not args.no_home:
                for how in ("none", "month"):
                    bench.measure(f"home page, the space {how}", render_home(archive, how))
            browser.close()
    except PlaywrightError as error:
        sys.exit(f"search_bench: {error.message.splitlines()[0]}")
    for label, pages in (("whole page", [whole]), ("--split month", month)):
        size = sum(f.stat().st_size for f in search_files(pages))
        print(
            f"search files, {label}: {size / 1e6:.2f} MB = {size / text:.2f}x the page's text "
            f"({text / 1e6:.2f} MB), {size / whole.stat().st_size:.3f}x the page's bytes"
        )


if __name__ == "__main__":
    main()

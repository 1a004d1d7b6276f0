"""How fast a rendered archive opens in a real browser (Debian's chromium via Playwright).

    python benchmarks/browser_bench.py [--messages 100000] [--runs 5] [--work DIR]

Renders one generated space (synced once into --work, as render_bench.py does) whole, with
--split year and with --split month, then opens the whole page, the largest part of each split
and the month index page in headless chromium, each --runs times, and prints one table: page
size, median time to DOMContentLoaded and to first contentful paint, and the baseline measured
in the same run.

The baseline ("parse only") is the same file with its style sheet replaced by
`main { display: none }` and its script removed: the browser still parses every byte and builds
every element of every message, but styles, lays out and paints none of them. That is the floor
for this markup; the ratio column is DOMContentLoaded over it. (A page of plain paragraphs of the
same size is no floor: with nothing contained, Chromium lays out the growing body at each frame
while it parses, and a 51 MB one did not reach DOMContentLoaded in 30 s.)
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_bench import CLI, archive_for  # a sibling script

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
TIMING = """() => new Promise(done => {
  // A small page can be loaded before its first paint: wait for that (up to 10 s).
  const nav = performance.getEntriesByType("navigation")[0];
  const give = paint => done([nav.domContentLoadedEventEnd, paint ? paint.startTime : NaN]);
  new PerformanceObserver(list => {
    const paint = list.getEntriesByName("first-contentful-paint")[0];
    if (paint) give(paint);
  }).observe({ type: "paint", buffered: true });
  setTimeout(give, 10000);
})"""


def measure(browser, page_path: Path, runs: int) -> tuple[float, float]:
    loaded, painted = [], []
    for _ in range(runs):
        context = browser.new_context()
        page = context.new_page()
        page.goto(page_path.as_uri(), wait_until="load", timeout=300_000)
        dcl, fcp = page.evaluate(TIMING)
        loaded.append(dcl)
        painted.append(fcp)
        context.close()
    return statistics.median(loaded), statistics.median(painted)


def parse_only(page: Path, target: Path) -> Path:
    """The baseline: the same page, every message parsed into the DOM but none rendered."""
    html = page.read_text(encoding="utf-8")
    # The <style> keeps its nonce, so the page's Content-Security-Policy still lets it apply.
    html, styles = re.subn(
        r"(<style[^>]*>).*?(</style>)", r"\1main { display: none; }\2", html, count=1, flags=re.S
    )
    html, scripts = re.subn(r"(<script[^>]*>).*?(</script>)", r"\1\2", html, count=1, flags=re.S)
    assert styles == scripts == 1, "the page has no inline <style> or <script> any more"
    target.write_text(html, encoding="utf-8")
    return target


def render(archive: Path, split: str, out: Path, *options: str) -> list[Path]:
    written = subprocess.run(
        [*CLI, "--archive", str(archive), "render", "Project Atlas", "--split", split,
         *options, "--output", str(out)], capture_output=True, text=True, check=True,
    ).stdout.split("\n")  # fmt: skip
    return [Path(p) for p in written if p]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    archive = archive_for(args.messages, args.work)
    largest = lambda paths: max(paths, key=lambda p: p.stat().st_size)  # noqa: E731
    pages: dict[str, Path] = {}
    for split in ("none", "year", "month"):
        written = render(archive, split, args.work / f"browser-{args.messages}-{split}")
        if split == "none":
            pages["whole page"] = written[0]
        else:
            pages[f"--split {split}, largest part"] = largest(written)
    pages["--split month, index page"] = written[0]  # the index is written first
    print(
        f"{'page':<30} {'MB':>6} {'DOMContentLoaded ms':>20} {'first paint ms':>15} "
        f"{'parse only ms':>14} {'ratio':>6}"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for number, (label, path) in enumerate(pages.items()):
            floor_path = parse_only(path, args.work / f"parse-only-{number}.html")
            dcl, fcp = measure(browser, path, args.runs)
            floor, _ = measure(browser, floor_path, args.runs)
            print(
                f"{label:<30} {path.stat().st_size / 1e6:>6.1f} {dcl:>20.0f} {fcp:>15.0f} "
                f"{floor:>14.0f} {dcl / floor:>6.2f}",
                flush=True,
            )
        browser.close()


if __name__ == "__main__":
    main()

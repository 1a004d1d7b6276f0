"""How fast a rendered archive opens in a real browser (Debian's chromium via Playwright).

    python benchmarks/browser_bench.py [--messages 100000] [--work DIR]

Renders one generated space (synced once into --work, as render_bench.py does) whole and with
--split year, then opens each page in headless chromium five times and prints the median time
to DOMContentLoaded and to first contentful paint, and the page size. The baseline, measured
in the same run, is a static page of the same byte size made of plain paragraphs: what the
browser needs merely to parse that much HTML.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_bench import CLI, archive_for  # a sibling script

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return [nav.domContentLoadedEventEnd, paint ? paint.startTime : NaN];
}"""


def measure(browser, page_path: Path, runs: int = 5) -> tuple[float, float]:
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


def plain_page(size: int, target: Path) -> Path:
    """The baseline: as many bytes of trivial HTML as the archive page has."""
    line = "<p>The build is green again, please review the draft before Friday.</p>\n"
    target.write_text(
        "<!DOCTYPE html><html><body>\n" + line * (size // len(line)) + "</body></html>\n"
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    archive = archive_for(args.messages, args.work)
    pages = {}
    for split in ("none", "year"):
        out = args.work / f"browser-{args.messages}-{split}"
        written = subprocess.run(
            [*CLI, "--archive", str(archive), "render", "Project Atlas", "--split", split,
             "--output", str(out)], capture_output=True, text=True, check=True,
        ).stdout.split("\n")  # fmt: skip
        biggest = max((Path(p) for p in written if p), key=lambda p: p.stat().st_size)
        pages["whole page" if split == "none" else "--split year, largest part"] = biggest
    whole = next(iter(pages.values()))
    pages["baseline: plain HTML, same size"] = plain_page(
        whole.stat().st_size, args.work / "plain.html"
    )
    print(f"{'page':<34} {'MB':>6} {'DOMContentLoaded ms':>20} {'first paint ms':>15}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for label, path in pages.items():
            dcl, fcp = measure(browser, path)
            print(
                f"{label:<34} {path.stat().st_size / 1e6:>6.1f} {dcl:>20.0f} {fcp:>15.0f}",
                flush=True,
            )
        browser.close()


if __name__ == "__main__":
    main()

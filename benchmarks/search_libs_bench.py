"""The plain scan of the pages' search against MiniSearch, FlexSearch and lunr (issue 18).

    npm install --prefix /tmp/searchlibs minisearch flexsearch lunr   # not into the project
    python benchmarks/search_libs_bench.py [--messages 100000] [--runs 3] [--work DIR]
                                           [--libs /tmp/searchlibs/node_modules] [--timeout 300]

Renders one generated space whole (synced once into --work, as render_bench.py does) and takes
its search file (render/search_index.py): the same 100,000 messages' text for every contender.
A page under a Content-Security-Policy without ``'unsafe-eval'`` (nonces only, as the archive's
pages) loads, from file:// and as classic scripts, the library and search_libs.js, then the
search file (load, base64, inflate, fold, cut into lines: what search.js does). Then, in
headless chromium, each --runs times in a fresh tab (the fastest run is printed):

- scan: nothing to build; its "index" is the folded lines;
- each library: the time to build its index from the lines, to serialize it (and its size,
  raw and gzipped), then, in another fresh tab, the time to load that serialized index from a
  classic script and make it searchable again;
- the time of one search, first call, for one word, two words, a rare word and a prefix (the
  count of messages found beside it: the libraries tokenize and the scan matches substrings);
- the JS heap (Chrome DevTools Protocol ``Performance.getMetrics``): used and allocated right
  after the build (allocated: about the peak, as V8 does not give memory back at once), and
  used after a forced garbage collection (what the index keeps), less the page's own before.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_bench import ARGS, render  # a sibling script
from render_bench import archive_for

HERE = Path(__file__).resolve().parent
# Each library's browser build: a classic script that sets a global (MiniSearch, FlexSearch,
# lunr), with the licence its package declares.
LIBS = {
    "minisearch": "minisearch/dist/umd/index.js",
    "flexsearch": "flexsearch/dist/flexsearch.bundle.min.js",
    "lunr": "lunr/lunr.js",
}
QUERIES = ["deploy", "pricing roadmap", "417", "depl"]
NONCE = "bench"
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-{NONCE}'">
<title>search libraries</title>
{{library}}<script nonce="{NONCE}" src="search_libs.js"></script>
</head><body><p>search libraries</p></body></html>
"""


def harness(work: Path, libs: Path, search_file: Path) -> Path:
    """The folder the pages load from: one page per contender, the scripts, the search file."""
    folder = work / "search-libs"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "search_libs.js", folder / "search_libs.js")
    shutil.copy(search_file, folder / "words.search.js")
    (folder / "scan.html").write_text(PAGE.format(library=""), encoding="utf-8")
    for name, path in LIBS.items():
        shutil.copy(libs / path, folder / f"{name}.js")
        tag = f'<script nonce="{NONCE}" src="{name}.js"></script>\n'
        (folder / f"{name}.html").write_text(PAGE.format(library=tag), encoding="utf-8")
    return folder


class Tab:
    """A fresh tab on one contender's page, its errors collected (a CSP refusal among them)."""

    def __init__(self, browser, page_path: Path, timeout: float) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout * 1000)
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Performance.enable")
        self.page.goto(page_path.as_uri(), wait_until="load")
        # The library runs under the CSP only if the page's own code may not eval.
        assert self.run("evalRefused"), "the page's CSP lets code eval: it proves nothing"

    def heap(self, collect: bool) -> tuple[int, int]:
        """JS heap bytes used and allocated (after a garbage collection if ``collect``)."""
        if collect:
            self.cdp.send("HeapProfiler.collectGarbage")
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        metrics = {m["name"]: m["value"] for m in metrics}
        return int(metrics["JSHeapUsedSize"]), int(metrics["JSHeapTotalSize"])

    def run(self, call: str, *args):
        return self.page.evaluate(f"args => window.bench.{call}(...args)", list(args))

    def close(self) -> None:
        assert not self.problems, f"errors in the page: {self.problems}"
        self.context.close()


def contender(browser, folder: Path, lib: str, timeout: float) -> dict:
    """One run: load the words, build (a library), serialize, ask; then load the built index
    in a fresh tab and ask again."""
    tab = Tab(browser, folder / f"{lib}.html", timeout)
    base = tab.heap(collect=True)[0]
    figures = {"load words": tab.run("loadScan", "words.search.js")["ms"]}
    if lib != "scan":
        figures |= tab.run("build", lib)
        used, total = tab.heap(collect=False)
        figures |= {"heap used": used - base, "heap allocated": total - base}
        serialized = tab.page.evaluate("() => window.benchSerialized")
        prebuilt = folder / f"{lib}.prebuilt.js"
        prebuilt.write_text(f"window.benchPrebuilt = {json.dumps(serialized)};\n", "ascii")
        figures["file bytes"] = prebuilt.stat().st_size
    figures["heap kept"] = tab.heap(collect=True)[0] - base
    figures["queries"] = tab.run("queries", lib, QUERIES)
    tab.close()
    if lib != "scan":
        tab = Tab(browser, folder / f"{lib}.html", timeout)
        figures["load index"] = tab.run("load", lib, f"{lib}.prebuilt.js")["ms"]
        figures["queries after load"] = tab.run("queries", lib, QUERIES)
        tab.close()
    return figures


def fastest(runs: list[dict]) -> dict:
    """Each timing the fastest of the runs (the machine is shared); sizes as measured."""
    best = dict(runs[0])
    for key, value in runs[0].items():
        if key.startswith("queries"):
            best[key] = [[min(r[key][k][0] for r in runs), value[k][1]] for k in range(len(value))]
        elif key in ("build", "serialize", "load words", "load index"):
            best[key] = min(r[key] for r in runs)
    return best


def report(lib: str, best: dict, search_bytes: int) -> None:
    mb = 1e6
    print(f"{lib}:")
    print(f"  search file loaded, inflated and folded: {best['load words']:.0f} ms")
    if "build" in best:
        print(f"  build {best['build']:.0f} ms, serialize {best['serialize']:.0f} ms")
        print(
            f"  serialized {best['bytes'] / mb:.1f} MB, gzipped {best['gzip'] / mb:.2f} MB "
            f"({best['gzip'] / search_bytes:.1f}x the search file's {search_bytes / mb:.2f} MB)"
        )
        print(f"  prebuilt index loaded from a script: {best['load index']:.0f} ms "
              f"({best['file bytes'] / mb:.1f} MB file)")  # fmt: skip
        print(f"  heap after build: used {best['heap used'] / mb:.0f} MB, "
              f"allocated {best['heap allocated'] / mb:.0f} MB")  # fmt: skip
    print(f"  heap kept (after GC, words and index): {best['heap kept'] / mb:.0f} MB")
    for query, (took, found) in zip(QUERIES, best["queries"], strict=True):
        print(f"  search {query!r}: {took:.1f} ms, {found:,} found", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    parser.add_argument("--libs", type=Path, default=Path("/tmp/searchlibs/node_modules"))
    parser.add_argument("--only", default="scan,minisearch,flexsearch,lunr")
    parser.add_argument("--timeout", type=float, default=300, help="seconds, for each wait")
    args = parser.parse_args()
    missing = [name for name, path in LIBS.items() if not (args.libs / path).is_file()]
    if missing:
        sys.exit(f"search_libs_bench: {', '.join(missing)} not in {args.libs}: "
                 f"npm install --prefix {args.libs.parent} minisearch flexsearch lunr")  # fmt: skip
    args.work.mkdir(parents=True, exist_ok=True)
    archive = archive_for(args.messages, args.work)
    page = render(archive, "none", args.work / f"search-{args.messages}-none", "--force")[0]
    search_file = page.with_name(page.stem + ".search.js")
    folder = harness(args.work, args.libs, search_file)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for lib in args.only.split(","):
                runs = [contender(browser, folder, lib, args.timeout) for _ in range(args.runs)]
                report(lib, fastest(runs), search_file.stat().st_size)
            browser.close()
    except PlaywrightError as error:
        sys.exit(f"search_libs_bench: {error.message.splitlines()[0]}")


if __name__ == "__main__":
    main()

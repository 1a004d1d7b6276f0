"""The benchmarks still run: each on a tiny data set, once, so that none rots unnoticed.

benchmarks/search_bench.py once waited for ever on a small data set (a query with no match
never listed a result, and the wait for one had no end); it now ends every wait within
``--timeout``. Here its queries with no match are the rare word and the phrase.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["whole page", "--split month, index page", "--split month, largest part",
         "home page, the space none", "home page, the space month"]  # fmt: skip
QUERIES = ["deploy", "pricing migration roadmap", "417", '"rollback looks safe"']


def test_search_bench_runs_on_a_tiny_data_set(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "benchmarks/search_bench.py", "--messages", "60", "--runs", "1",
         "--pairs", "1", "--work", str(tmp_path), "--timeout", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    labels = [re.sub(r" \([\d.]+ MB\)$|: .*", "", line) for line in lines if line[0] != " "]
    assert labels == [*PAGES, "search files, whole page", "search files, --split month"]
    for query in QUERIES:
        found = [line for line in lines if line.startswith(f"  first result for {query}: ")]
        assert len(found) == len(PAGES)
        assert all(re.search(r": \d+ ms \((1 of \d+|no match)\)$", line) for line in found)
    assert "(no match)" in result.stdout  # the wait that used to hang
    assert len([line for line in lines if line.startswith("  index ready ")]) == len(PAGES)
    sizes = [line for line in lines if line.startswith("search files, ")]
    assert all(re.search(r": [\d.]+ MB = [\d.]+x the page's text", line) for line in sizes)

"""Re-rendering a --split archive after a nightly sync's worth of new messages (issue 18).

    python benchmarks/incremental_bench.py [--messages 100000] [--new 1000] [--split month]
                                           [--work DIR] [--repeat N]

For each size: a synced one-space archive (render_bench.py's, kept in --work), copied; then,
each in a fresh process (`webex-archive render --all --split S`), timed:

- ``full``: the first rendering (every part written, digests recorded);
- ``unchanged``: the same again (no part written: the index and home pages only);
- ``+N new``: after N new messages were stored (through etl/store, as a sync stores them, in
  one page), which land in the newest month;
- ``--force``: every part written again, for comparison.

Prints one table: seconds, CPU seconds, peak RSS and the parts each rendering wrote. With
--repeat N each figure is the fastest of N runs (the first rendering and ``--force`` run once:
at a million messages each takes minutes); the ``+N new`` rounds each add N messages.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
from pathlib import Path

from render_bench import CLI, archive_for, timed  # beside this script

from etl import store


def add_messages(archive: Path, count: int, round_: int) -> None:
    """``count`` new messages after the newest one, stored as a sync stores a page."""
    db = store.open_archive(archive)
    try:
        (raw, created) = db.conn.execute(
            "SELECT raw, created FROM messages ORDER BY created DESC LIMIT 1"
        ).fetchone()
        template = json.loads(raw)
        day = created[:10]
        messages = [
            template | {"id": f"bench-{round_}-{n}", "text": f"new message {n}", "html": None,
                        "parentId": None, "files": None,
                        "created": f"{day}T23:{n // 60 % 60:02d}:{n % 60:02d}.{round_:03d}Z"}
            for n in range(count)
        ]  # fmt: skip
        with db.conn:
            store.save_messages(db, messages, f"{day}T23:59:59.999Z")
    finally:
        db.conn.close()


def render(archive: Path, split: str, *extra: str) -> tuple[float, float, int, int]:
    """(seconds, CPU seconds, peak KB, parts written) of one rendering in a fresh process."""
    out = archive / "render.out"
    command = [*CLI, "-q", "--archive", str(archive), "render", "--all", "--split", split]
    seconds, cpu, peak = timed(["sh", "-c", " ".join([*map(_quote, command), *extra]) +
                                f" > {_quote(str(out))}"])  # fmt: skip
    names = (Path(line).name for line in out.read_text().splitlines())
    written = [name for name in names if re.search(r"-\d{4}(-\d\d)?\.html$", name)]
    return seconds, cpu, peak, len(written)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def parts(archive: Path) -> int:
    return sum(1 for _ in archive.rglob("*-[0-9][0-9][0-9][0-9]*.html"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", default="100000")
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--split", choices=["year", "month"], default="month")
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{'messages':>9} {'rendering':<14} {'seconds':>8} {'CPU s':>7} {'peak MB':>8} "
          f"{'parts written':>14}")  # fmt: skip
    for messages in (int(m) for m in args.messages.split(",")):
        source = archive_for(messages, args.work, "no")
        archive = args.work / f"incremental-{messages}"
        shutil.rmtree(archive, ignore_errors=True)
        shutil.copytree(source, archive, ignore=shutil.ignore_patterns("*.html", ".*.json"))
        rounds = [("full", None), ("unchanged", None), (f"+{args.new:,} new", args.new),
                  ("--force", "--force")]  # fmt: skip
        for name, what in rounds:
            best = None
            for attempt in range(args.repeat if name not in ("full", "--force") else 1):
                if isinstance(what, int):
                    add_messages(archive, what, attempt)
                result = render(archive, args.split, *([what] if isinstance(what, str) else []))
                best = result if best is None or result[0] < best[0] else best
            seconds, cpu, peak, written = best
            total = parts(archive)
            print(f"{messages:>9} {name:<14} {seconds:>8.2f} {cpu:>7.2f} {peak / 1024:>8.0f} "
                  f"{written:>6} of {total:<6}")  # fmt: skip
        with sqlite3.connect(archive / "archive.db") as conn:
            (stored,) = conn.execute("SELECT count(*) FROM messages").fetchone()
        print(f"{'':>9} ({stored:,} messages stored at the end)")


if __name__ == "__main__":
    main()

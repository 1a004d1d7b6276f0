"""Render speed and memory on generated spaces, against the floor of reading the same rows.

    python benchmarks/render_bench.py [--messages 10000,100000] [--work DIR]

For each size: generate a one-space data set with the emulator, sync it (once; the archive is
kept in --work), then time `webex-archive render --format F` for html, json and txt in a
fresh process (seconds, messages/s, output bytes, peak RSS), and the baseline: `sqlite3 -json`
dumping the same columns of the same rows. Prints one table; the ratio column is render time
over the baseline time, measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from emulator import Emulator, generate

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "webex_archive"]


def archive_for(messages: int, work: Path) -> Path:
    """A synced archive of one generated space with ``messages`` messages (made once)."""
    archive = work / f"archive-{messages}"
    if (archive / "archive.db").exists():
        return archive
    dataset = generate(seed=1, spaces=1, messages=messages, hostile_rate=0)
    with Emulator(dataset) as emu:
        env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token}
        subprocess.run(
            [*CLI, "-q", "--archive", str(archive), "sync", "--all"], env=env, check=True
        )
    return archive


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak RSS (KB) of one child process (GNU time measures it)."""
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    return seconds, int(result.stderr.strip().splitlines()[-1])


def baseline(archive: Path, out: Path) -> float:
    sql = (
        "SELECT id, parent_id, person_email, text, html, files, created, updated "
        "FROM messages ORDER BY created"
    )
    started = time.perf_counter()
    with open(out, "w") as sink:
        subprocess.run(
            ["sqlite3", "-json", str(archive / "archive.db"), sql], stdout=sink, check=True
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", default="10000,100000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for tool in ("sqlite3", "/usr/bin/time"):
        if not shutil.which(tool):
            sys.exit(f"this benchmark needs {tool} (apt-get install sqlite3 time)")
    print(
        f"{'messages':>9} {'format':>6} {'seconds':>8} {'msg/s':>9} {'MB out':>8} "
        f"{'peak MB':>8} {'floor s':>8} {'ratio':>6}"
    )
    for size in (int(n) for n in args.messages.split(",")):
        archive = archive_for(size, args.work)
        floor = baseline(archive, args.work / "floor.json")
        total = size + max(5, size // 10)  # the group space and the direct one
        for fmt in ("html", "json", "txt"):
            out = args.work / f"out-{size}-{fmt}"
            shutil.rmtree(out, ignore_errors=True)
            seconds, peak = timed(
                [
                    *CLI,
                    "--archive",
                    str(archive),
                    "render",
                    "--all",
                    "--format",
                    fmt,
                    "--output",
                    str(out),
                ]
            )
            written = sum(f.stat().st_size for f in out.iterdir())
            print(
                f"{size:>9} {fmt:>6} {seconds:>8.2f} {total / seconds:>9,.0f} "
                f"{written / 1e6:>8.1f} {peak / 1024:>8.0f} {floor:>8.2f} "
                f"{seconds / floor:>6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

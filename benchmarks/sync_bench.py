"""Sync speed against the emulator, with a minimal sequential client as the baseline.

    python benchmarks/sync_bench.py [--messages 100000] [--latency 0,50] [--download no]
                                    [--workers N]

For each latency (ms added by the emulator to every request): the baseline — a minimal client
that follows the Link headers of /messages with max=400, one new connection per request, no
parallelism, storing nothing — then `webex-archive sync` in a fresh process into an empty
archive (full sync), again (no-op re-sync), and after the emulator adds 1,000 messages. Then the
write floor: SQLite alone copying the synced messages, a page of 1,000 per transaction with its
full-text rows, into an empty archive of the same schema and settings (a sync's page cache and
checkpoints) — what storing them costs before any HTTP, JSON or Python work, so no sync can
beat it with one writer. Prints one table: seconds, messages/s, requests (all, and
message-list pages), MB received (the bodies the emulator served), peak RSS, the sync process's
CPU seconds (user + system: what the run cost whatever else the machine was doing), and the
ratio to the baseline. ``--workers`` is passed to `webex-archive sync` (default: the
command's own default). ``--against CHECKOUT`` runs each sync a second time, in the same round,
by another checkout's code (the code before a change, say) into its own archive: the rows
marked "(other)" are its figures, for a same-minute comparison.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from etl.sync import SYNC_PRAGMAS
from webex_emulator import Emulator, Faults, generate

CLI = [sys.executable, "-m", "webex_archive"]
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schema.sql"


@dataclass
class Run:
    seconds: float
    requests: int
    pages: int  # message-list requests
    bytes: int  # response bodies served
    peak_kb: int = 0
    cpu: float = 0.0  # user + system seconds of the sync process (load on the machine aside)


def measured(emu: Emulator, seconds: float, peak_kb: int = 0, cpu: float = 0.0) -> Run:
    entries = emu.log.entries()
    pages = sum(1 for e in entries if e.path.startswith("/v1/messages?"))
    return Run(seconds, len(entries), pages, sum(e.bytes for e in entries), peak_kb, cpu)


def baseline(emu: Emulator, room_id: str) -> tuple[Run, int]:
    """The naive client's run and how many messages it got: a new connection per request."""
    emu.log.clear()
    url = f"{emu.api_url}/messages?roomId={room_id}&max=400"
    started, count, messages = time.perf_counter(), 0, 0
    while url:
        response = requests.get(
            url, headers={"Authorization": f"Bearer {emu.token}", "Connection": "close"}, timeout=60
        )
        response.raise_for_status()
        count += 1
        messages += len(response.json()["items"])
        url = response.links.get("next", {}).get("url")
    return measured(emu, time.perf_counter() - started), messages


def ours(
    emu: Emulator, archive: Path, download: str, workers: int | None, checkout: Path = ROOT
) -> Run:
    """One `webex-archive sync --all` process: its cost, with its peak RSS. ``python -m``
    imports the packages of its working folder: ``checkout`` says whose code runs."""
    emu.log.clear()
    env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token}
    extra = ["--workers", str(workers)] if workers else []
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", *CLI, "-q", "--archive", str(archive), "sync", "--all",
         "--download", download, *extra],
        env=env, capture_output=True, text=True, check=True, cwd=checkout,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak, user, system = result.stderr.strip().splitlines()[-1].split()
    return measured(emu, seconds, int(peak), float(user) + float(system))


def write_floor(archive: Path, page: int = 1000) -> tuple[float, int]:
    """Seconds for SQLite to copy the archive's messages into an empty archive of the same
    schema, ``page`` rows and their full-text entries per transaction, and how many rows."""
    target = archive.parent / "floor.db"
    conn = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", *SYNC_PRAGMAS):  # as a sync
        conn.execute(f"PRAGMA {pragma}")
    conn.executescript(SCHEMA.read_text())
    conn.execute("DROP TRIGGER messages_fts_insert")  # as a sync does: FTS rows per page
    conn.execute("ATTACH ? AS source", [str(archive / "archive.db")])
    rowids = [r for (r,) in conn.execute("SELECT rowid FROM source.messages ORDER BY rowid")]
    started = time.perf_counter()
    for first in range(0, len(rowids), page):
        low, high = rowids[first], rowids[min(first + page, len(rowids)) - 1]
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO main.messages SELECT * FROM source.messages WHERE rowid BETWEEN ? AND ?",
            [low, high],
        )
        conn.execute(
            "INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM main.messages "
            "WHERE rowid > (SELECT coalesce(max(id), 0) FROM messages_fts_docsize)"
        )
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, len(rowids)


def line(latency: float, label: str, run: Run, messages: int, ratio: str) -> str:
    rate = f"{messages / run.seconds:>9,.0f}" if messages else f"{'-':>9}"
    peak = f"{run.peak_kb / 1024:>8.0f}" if run.peak_kb else f"{'-':>8}"
    cpu = f"{run.cpu:>6.2f}" if run.peak_kb else f"{'-':>6}"
    return (
        f"{latency:>7g} {label:<30} {run.seconds:>8.2f} {rate} {run.requests:>9} "
        f"{run.pages:>6} {run.bytes / 1e6:>7.1f} {peak} {cpu} {ratio:>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--latency", default="0,50")
    parser.add_argument("--download", default="no", choices=["no", "info"])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--against", type=Path, help="another checkout to time in the same runs")
    args = parser.parse_args()
    codes = [("", ROOT)] + ([(" (other)", args.against.resolve())] if args.against else [])
    dataset = generate(seed=1, spaces=1, messages=args.messages, hostile_rate=0)
    room = next(r["id"] for r in dataset.rooms.values() if r["type"] == "group")
    total = len(dataset.messages)
    print(
        f"{'latency':>7} {'run':<30} {'seconds':>8} {'msg/s':>9} {'requests':>9} "
        f"{'pages':>6} {'MB recv':>7} {'peak MB':>8} {'CPU s':>6} {'vs base':>8}"
    )
    for latency in (float(x) for x in args.latency.split(",")):
        with (
            Emulator(dataset, Faults(latency_ms=latency)) as emu,
            tempfile.TemporaryDirectory() as work,
        ):
            base, base_m = baseline(emu, room)
            print(line(latency, "baseline (one space)", base, base_m, "1.0"), flush=True)
            archive = Path(work) / "archive"
            runs = [
                ("full sync (all spaces)", total),
                ("no-op re-sync", 0),
                ("+1,000 new messages", 1000),
            ]
            for label, messages in runs:
                if messages == 1000:
                    emu.add_messages(room, 1000, seed=7)
                for mark, checkout in codes:
                    into = archive.with_name(archive.name + mark.strip(" ()"))
                    run = ours(emu, into, args.download, args.workers, checkout)
                    speedup = base.seconds / run.seconds * total / base_m
                    ratio = f"{speedup:>7.1f}x" if messages == total else "-"
                    print(line(latency, label + mark, run, messages, ratio), flush=True)
            if latency == 0:  # the floor involves no request: once is enough
                seconds, rows = write_floor(archive)
                floor = Run(seconds, 0, 0, 0)
                speedup = base.seconds / seconds * rows / base_m
                print(line(latency, "SQLite write floor", floor, rows, f"{speedup:>7.1f}x"))


if __name__ == "__main__":
    main()

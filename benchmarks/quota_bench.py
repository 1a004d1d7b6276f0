"""Sync under Webex's quota and latency (issue 14), scaled down so that a run takes minutes.

    python benchmarks/quota_bench.py [--scale 10] [--messages 100000] [--spaces 500]
                                     [--active 50] [--against CHECKOUT] [--only first,noop,changed]
                                     [--max-rate N] [--remembered] [--no-page-limit]

The model: a quota of 300 requests a minute for the token (one budget, every path), each
answer 150 ms plus 0.3 ms per item it lists, and ``/messages`` pages above 500 items answering
504. ``--scale S`` multiplies the quota by S and divides both latencies by S, so the run is S
times shorter and the ratios stay the same (the quota window stays a minute). Three runs, each
`webex-archive sync --all` in a fresh process:

* **first**: an empty archive, a space of ``--messages`` messages (plus the 10 % direct space
  the generator adds) with its files (``--download info``, the default);
* **noop**: ``--spaces`` spaces whose history is a month old, ``--active`` of them with
  messages inside the 7-day look-back, synced once, then again with nothing changed;
* **changed**: the same, after new messages in ``--active`` spaces, an edit in 10 and a
  deletion in 10 of them (edits and deletions leave ``lastActivity`` as it was: the harder
  reading).

For each: seconds, the sync process's CPU seconds, requests, 429 answers, the quota floor
(requests / quota) and the ratio to it, messages archived, requests per message.
``--remembered`` runs the first sync again into a new archive holding only the pace the first
learnt (``meta.learnt_rate``, as an archive that had one run before would): "pace remembered".
``--no-page-limit`` serves every page (this checkout's runs too), to count requests against
the code before under identical conditions.

``--against CHECKOUT`` runs the same syncs by another checkout's code (the code before issue
14, say) in the same round, on the same emulator settings; the code before issue 14 does not
shrink pages on a 504 (it retries at the same size and gives up), so its first sync is also
run, and its runs over many spaces only, against an emulator without the page limit, to count
the requests it makes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from etl import store
from webex_emulator import DataSet, Emulator, Latency, Quirks, Quota, generate

CLI = [sys.executable, "-m", "webex_archive"]
ROOT = Path(__file__).resolve().parent.parent
QUOTA, FIXED, PER_ITEM, PAGE_LIMIT = 300, 0.150, 0.0003, 500


@dataclass
class Outcome:
    seconds: float
    cpu: float  # the sync process's user + system seconds
    requests: int
    limited: int  # 429 answers
    messages: int  # archived by the run (new ones)
    ok: bool
    error: str = ""


def settings(scale: float, limit: bool = True) -> dict:
    return {
        "quota": Quota(limits={"other": int(QUOTA * scale)}, window=60.0),
        "latency": Latency(
            fixed=FIXED / scale, per_item=PER_ITEM / scale, page_limit=PAGE_LIMIT if limit else None
        ),
        "quirks": Quirks(last_activity="stays"),
    }


def sync(emu: Emulator, archive: Path, checkout: Path, *extra: str) -> Outcome:
    """One `webex-archive sync --all` process by ``checkout``'s code."""
    emu.log.clear()
    env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token}
    started, before = time.perf_counter(), _children_cpu()
    result = subprocess.run(
        [*CLI, "--archive", str(archive), "sync", "--all", *extra],
        env=env, capture_output=True, text=True, cwd=checkout,
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - started, _children_cpu() - before
    entries = emu.log.entries()
    lines = result.stderr.strip().splitlines() or [""]
    last = next((x for x in reversed(lines) if x.startswith("synced ")), lines[-1])
    new = int(last.split(": ", 1)[1].split(" new")[0]) if " new," in last else 0
    return Outcome(
        seconds, cpu, len(entries), sum(e.status == 429 for e in entries), new,
        result.returncode == 0, "" if result.returncode == 0 else last[:150],
    )  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def line(label: str, outcome: Outcome, scale: float) -> str:
    floor = outcome.requests / (QUOTA * scale / 60.0)
    per = f"{outcome.requests / outcome.messages:.4f}" if outcome.messages else "-"
    state = "ok" if outcome.ok else f"FAILED: {outcome.error}"
    return (
        f"| {label} | {outcome.seconds:.1f} | {outcome.cpu:.1f} | {outcome.requests} | "
        f"{outcome.limited} | "
        f"{floor:.1f} | {outcome.seconds / floor:.2f} | {outcome.messages} | {per} | {state} |"
    )


def month_old_spaces(spaces: int, active: int) -> tuple[DataSet, list[str]]:
    """``spaces`` spaces whose newest message is a month old; ``active`` of them get ten
    messages now (inside the look-back window)."""
    end = datetime.now(timezone.utc) - timedelta(days=30)
    ds = generate(seed=2, spaces=spaces, messages=100, end=end, span_days=300, hostile_rate=0)
    rooms = sorted(r["id"] for r in ds.rooms.values() if r["type"] == "group")[:active]
    return ds, rooms


def ours_only(args: argparse.Namespace, mark: str) -> list[str]:
    """--max-rate for this checkout's syncs (the other checkout may not know the option)."""
    return ["--max-rate", str(args.max_rate)] if args.max_rate and not mark else []


def run_first(args: argparse.Namespace, codes: list[tuple[str, Path]], work: Path) -> None:
    ds = generate(seed=1, spaces=1, messages=args.messages, hostile_rate=0)
    for mark, checkout in codes:
        with Emulator(ds, **settings(args.scale, limit=args.page_limit)) as emu:
            outcome = sync(emu, work / f"first{mark}", checkout, *ours_only(args, mark))
        print(line(f"first sync{mark}", outcome, args.scale), flush=True)
        if args.remembered and not mark:  # a new emulator: the quota's window empty
            with Emulator(ds, **settings(args.scale, limit=args.page_limit)) as emu:
                again = remembered(work / "first", work / "first-again")
                repeat = sync(emu, work / "first-again", checkout)
            label = f"first sync, pace remembered ({again})"
            print(line(label, repeat, args.scale), flush=True)
        if mark and not outcome.ok:  # the code before issue 14: its requests, without a limit
            with Emulator(ds, **settings(args.scale, limit=False)) as emu:
                outcome = sync(emu, work / f"first-nolimit{mark}", checkout)
            print(line(f"first sync{mark}, no page limit", outcome, args.scale), flush=True)


def remembered(learnt: Path, fresh: Path) -> str:
    """A new archive holding only the pace the archive ``learnt`` learnt (its meta rows);
    says which."""
    source = sqlite3.connect(learnt / "archive.db")
    rows = source.execute("SELECT key, value FROM meta WHERE key LIKE 'learnt_rate%'").fetchall()
    source.close()
    target = store.open_archive(fresh)
    with store.transaction(target):
        for key, value in rows:
            store.set_meta(target, key, value)
    target.conn.close()
    rate = dict(rows).get("learnt_rate")
    return f"{float(rate):.0f}/min" if rate else "none learnt"


def run_noop_and_changed(
    args: argparse.Namespace, codes: list[tuple[str, Path]], work: Path
) -> None:
    for mark, checkout in codes:
        ds, active = month_old_spaces(args.spaces, args.active)
        if mark or not args.page_limit:  # the code before issue 14 retries a 504 at the
            mark += ", no page limit"  # same size, then gives up
        with Emulator(ds, **settings(args.scale, limit=args.page_limit and not mark)) as emu:
            for room in active:
                emu.add_messages(room, 10, seed=3)
            archive = work / f"spaces{mark}"
            extra = ours_only(args, mark)
            first = sync(emu, archive, checkout, *extra)
            print(line(f"{args.spaces} spaces, first sync{mark}", first, args.scale), flush=True)
            if "noop" in args.only:
                noop = sync(emu, archive, checkout, *extra)
                print(line(f"{args.spaces} spaces, no-op{mark}", noop, args.scale), flush=True)
            if "changed" in args.only:
                change(emu, ds, active)
                changed = sync(emu, archive, checkout, *extra)
                label = f"{args.spaces} spaces, changed{mark}"
                print(line(label, changed, args.scale), flush=True)


def change(emu: Emulator, ds: DataSet, active: list[str]) -> None:
    """New messages in every active space, an edit in ten, a deletion in ten others."""
    for index, room in enumerate(active):
        newest = sorted(
            (m for m in ds.messages.values() if m["roomId"] == room),
            key=lambda m: m["created"], reverse=True,
        )  # fmt: skip
        if index < 10:
            emu.edit_message(newest[1]["id"], text="edited")
        elif index < 20:
            emu.delete_message(newest[2]["id"])
        emu.add_messages(room, 5, seed=index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--spaces", type=int, default=500)
    parser.add_argument("--active", type=int, default=50)
    parser.add_argument("--against", type=Path, help="another checkout to run in the same round")
    parser.add_argument("--only", default="first,noop,changed")
    parser.add_argument(
        "--max-rate", type=int, help="pass --max-rate N to this checkout's syncs (the quota known)"
    )
    parser.add_argument(
        "--remembered", action="store_true",
        help="the first sync again, into an archive holding only the pace the first learnt",
    )  # fmt: skip
    parser.add_argument(
        "--no-page-limit", dest="page_limit", action="store_false",
        help="no 504 for large pages, for this checkout's runs too",
    )  # fmt: skip
    args = parser.parse_args()
    codes = [("", ROOT)] + ([(" (other)", args.against.resolve())] if args.against else [])
    print(
        f"quota {QUOTA * args.scale:g}/min, {FIXED / args.scale * 1000:g} ms + "
        f"{PER_ITEM / args.scale * 1000:g} ms/item, "
        f"{f'504 above {PAGE_LIMIT} items' if args.page_limit else 'no page limit'} "
        f"(scale {args.scale:g}), load {os.getloadavg()[0]:.1f}\n"
    )
    print("| run | seconds | CPU s | requests | 429s | quota floor s | vs floor | messages | "
          "requests/message | outcome |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as work:
        if "first" in args.only:
            run_first(args, codes, Path(work))
        if "noop" in args.only or "changed" in args.only:
            run_noop_and_changed(args, codes, Path(work))


if __name__ == "__main__":
    main()

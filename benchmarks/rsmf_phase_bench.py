"""RSMF's write of each space, timed: wall seconds, the rendering process's CPU, its sinks'.

    python benchmarks/rsmf_phase_bench.py ARCHIVE [--against CHECKOUT] [--rounds N]

Each round runs ``webex-archive render --all --format rsmf`` of ARCHIVE in a fresh process
(this checkout's code, then CHECKOUT's), with render/rsmf.py's ``write_rsmf`` wrapped: for
each space, the wall seconds of its write, the CPU seconds of the rendering process during
it, and those of the sinks it forked (reaped before it returns). render_bench.py times the
whole command; this says which process the files wait for. Each render writes into a fresh
folder under /tmp, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run with the checkout as the working folder: ``-c`` puts it first on sys.path.
CHILD = """
import json, os, runpy, sys, time
import render
from render import rsmf
archive, out = sys.argv[1], sys.argv[2]
write = rsmf.write_rsmf

def timed(page, *args, **kwargs):
    wall, cpu, before = time.perf_counter(), time.process_time(), os.times()
    try:
        return write(page, *args, **kwargs)
    finally:
        after = os.times()
        sinks = sum(after[n] - before[n] for n in (2, 3))  # children's user and system
        print(json.dumps([page.stats.get("in_window", 0), time.perf_counter() - wall,
                          time.process_time() - cpu, sinks]), file=sys.stderr)

# render_spaces finds the writer in render/rsmf.py when it is asked for (render/__init__.py's
# WRITERS); code before that looked it up in render: both are wrapped.
render.write_rsmf = rsmf.write_rsmf = timed
sys.argv = ["webex-archive", "-q", "--archive", archive, "render", "--all", "--format", "rsmf",
            "--output", out]
try:
    runpy.run_module("webex_archive", run_name="__main__")
except SystemExit as end:
    assert not end.code, end.code
"""


def phases(checkout: Path, archive: Path) -> list[list[float]]:
    """[messages, wall s, CPU s, sinks' CPU s] of each space's write, by ``checkout``'s code."""
    out = Path(tempfile.mkdtemp(prefix="rsmf-phase-"))
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(archive), str(out / "rsmf")],
                              cwd=checkout, capture_output=True, text=True, check=True)  # fmt: skip
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return [json.loads(line) for line in done.stderr.splitlines() if line.startswith("[")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--against", type=Path, help="another checkout, timed in the same rounds")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    checkouts = [ROOT, *([args.against.resolve()] if args.against else [])]
    print(f"{'code':>24} {'messages':>9} {'wall s':>7} {'cpu s':>6} {'sinks s':>8}")
    for _ in range(args.rounds):
        for checkout in checkouts:
            for messages, wall, cpu, sinks in phases(checkout, args.archive.resolve()):
                print(f"{str(checkout)[-24:]:>24} {messages:>9,} {wall:>7.2f} {cpu:>6.2f} "
                      f"{sinks:>8.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Render speed and memory on generated spaces, against the floor of reading the same rows.

    python benchmarks/render_bench.py [--messages 10000,100000] [--work DIR] [--repeat N]
                                      [--formats html,json,txt] [--download info|no]
                                      [--against CHECKOUT]

For each size: generate a one-space data set with the emulator, sync it (once; the archive is
kept in --work and reused by later runs, its schema brought up to date), then time
`webex-archive render --format F` for html, json and txt in a fresh process (seconds, CPU
seconds, messages/s, output bytes, peak RSS), and the baseline: `sqlite3 -json` dumping the
same columns of the same rows. Any render format can be timed (``--formats
eml,eml-zip,mbox,slack,seed-json``), and ``parquet`` times ``webex-archive export --all --parquet``.
Prints one table; the ratio column is render time over the
baseline time, measured in the same run. After an ``eml`` row, a ``files`` row times merely
creating as many files of the mean size (os.open/os.write/os.close, one process): the floor
the file system sets for a folder of mails. With --repeat N each figure is the fastest of N runs
(the machine is shared: the fastest run is the one least disturbed). The renders run with
their modules' bytecode cached, as an installed tool runs (see ``CHILD_ENV``).

``--against CHECKOUT`` also times the same render by another checkout of the project (the code
before a change, say), run for run in the same rounds, and adds its seconds and the ratio
ours/theirs, and its CPU seconds and peak MB: a change is "unchanged within noise" when that
ratio stays near 1.

A 1,000,000-message archive takes a while to sync (the emulator generates the data, then the
sync pages through it; with ``--download info`` a HEAD request per attachment adds most of
the time), so build it once with ``--download no`` and keep it::

    python benchmarks/render_bench.py --messages 1000000 --download no --work /tmp/render-1m
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sqlite_utils import Database

from etl import store
from webex_emulator import Emulator, generate

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "webex_archive"]


def archive_for(messages: int, work: Path, download: str = "info") -> Path:
    """A synced archive of one generated space with ``messages`` messages (made once; a kept
    one gets the current schema's indexes, as the next sync would give it)."""
    archive = work / f"archive-{messages}"
    if (archive / "archive.db").exists():
        store.open_archive(archive).conn.close()
        return archive
    dataset = generate(seed=1, spaces=1, messages=messages, hostile_rate=0)
    with Emulator(dataset) as emu:
        env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token}
        command = [*CLI, "-q", "--archive", str(archive), "sync", "--all", "--download", download]
        subprocess.run(command, env=env, check=True)
    return archive


def grown_archive(messages: int, source: Path, work: Path) -> Path:
    """An archive of ``messages`` messages made from the synced archive ``source`` by storing
    copies of its messages, each three years earlier (made once, kept in ``work``)."""
    archive = work / f"archive-{messages}"
    if (archive / "archive.db").exists():
        store.open_archive(archive).conn.close()
        return archive
    archive.mkdir(parents=True)
    temp = archive / "archive.db.grow"
    shutil.copyfile(source / "archive.db", temp)
    temp.rename(archive / "archive.db")  # a partial copy is never taken for an archive
    db = store.open_archive(archive)
    try:
        originals = db.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        total = messages + max(5, messages // 10)  # as archive_for's: the direct space too
        for copy in range(1, total // originals):
            _store_copy(db, copy)
    finally:
        db.conn.close()
    store.open_archive(archive).conn.close()  # puts back the full-text trigger
    return archive


def _store_copy(db: Database, copy: int) -> None:
    """Every original message again, ``3 * copy`` years earlier, 1,000 per page."""
    rows = db.conn.execute("SELECT raw FROM messages WHERE id NOT LIKE '%-%' ORDER BY rowid")
    page: list[dict] = []
    for (raw,) in rows.fetchall():
        message = json.loads(raw)
        message["id"] = f"{message['id']}-{copy}"
        if message.get("parentId"):
            message["parentId"] = f"{message['parentId']}-{copy}"
        for key in ("created", "updated"):
            if message.get(key):
                year = int(message[key][:4]) - 3 * copy
                message[key] = f"{year:04d}{message[key][4:]}".replace("-02-29T", "-02-28T")
        page.append(message)
        if len(page) == 1000:
            _save(db, page)
    _save(db, page)


def _save(db: Database, page: list[dict]) -> None:
    if page:
        with db.conn:
            store.save_messages(db, page, page[0]["created"], index_new=True)
        page.clear()


# The renders run as an installed tool runs: with its modules' bytecode cached (pip compiles
# it at install time). A machine that forbids writing it (PYTHONDONTWRITEBYTECODE, as this
# project's development machine does) would otherwise time 0.05-0.1 s of compiling the
# modules from source in every run, for this code and the other alike: they get a cache
# of their own under --work (PYTHONPYCACHEPREFIX), filled before the first timed run.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PACKAGES = ("etl", "render", "webex_archive", "webex_layout", "webex_emulator")


def compiled(work: Path, checkouts: list[Path]) -> None:
    """Each checkout's modules compiled into the benchmark's own bytecode cache."""
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    for checkout in checkouts:
        subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=checkout,
                       env=CHILD_ENV, check=True, stdout=subprocess.DEVNULL)  # fmt: skip


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and the peak RSS (KB) of one child process
    (GNU time measures the last two)."""
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%U %S %M", *command],
        cwd=cwd,
        env=CHILD_ENV,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seconds = time.perf_counter() - started
    user, system, peak = result.stderr.strip().splitlines()[-1].split()
    return seconds, float(user) + float(system), int(peak)


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


_CREATE = """
import os, sys
folder, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.mkdir(folder)
data = b"x" * size
for n in range(count):
    fd = os.open(os.path.join(folder, f"{n:08d}.eml"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data)
    os.close(fd)
"""


def file_floor(out: Path, work: Path) -> tuple[float, float, int]:
    """(seconds, CPU seconds, files) of merely creating as many files of the mean size as
    the rendering in ``out`` wrote, with os.open/os.write/os.close in one process: what an
    EML folder costs the file system before any mail is made."""
    files = [f for f in out.rglob("*.eml") if f.is_file()]
    size = sum(f.stat().st_size for f in files) // max(len(files), 1)
    folder = work / "file-floor"
    shutil.rmtree(folder, ignore_errors=True)
    seconds, cpu, _ = timed([sys.executable, "-c", _CREATE, str(folder), str(len(files)),
                             str(size)])  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    return seconds, cpu, len(files)


def render(
    archive: Path, fmt: str, out: Path, checkout: Path = ROOT
) -> tuple[float, float, int, int]:
    """Seconds, CPU seconds, peak RSS (KB) and bytes written of one render in a fresh process,
    by the code of ``checkout`` (``python -m`` imports the packages of its working folder)."""
    shutil.rmtree(out, ignore_errors=True)
    if fmt == "parquet":
        command = [*CLI, "--archive", str(archive), "export", "--all", "--parquet", str(out)]
    else:
        command = [*CLI, "--archive", str(archive), "render", "--all", "--format", fmt]
        command += ["--output", str(out)]
    seconds, cpu, peak = timed(command, cwd=checkout)
    return seconds, cpu, peak, sum(f.stat().st_size for f in out.rglob("*") if f.is_file())


def knows(checkout: Path, fmt: str) -> bool:
    """Whether the code of ``checkout`` renders ``fmt`` (an older one may not know a new
    format): its own list of formats, asked in a process of its own."""
    if fmt == "parquet":
        return True
    asked = subprocess.run([sys.executable, "-c", "from render import FORMATS; print(*FORMATS)"],
                           cwd=checkout, env=CHILD_ENV, capture_output=True, text=True,
                           check=True)  # fmt: skip
    return fmt in asked.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", default="10000,100000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/webex-render-bench"))
    parser.add_argument("--formats", default="html,json,txt")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--download", default="info", choices=("info", "no"))
    parser.add_argument("--against", type=Path, help="another checkout to time in the same runs")
    parser.add_argument("--grow-from", type=int, help="grow each size from this synced one")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for tool in ("sqlite3", "/usr/bin/time"):
        if not shutil.which(tool):
            sys.exit(f"this benchmark needs {tool} (apt-get install sqlite3 time)")
    compiled(args.work, [ROOT, *([args.against.resolve()] if args.against else [])])
    print(
        f"{'messages':>9} {'format':>6} {'seconds':>8} {'cpu s':>7} {'msg/s':>9} {'MB out':>8} "
        f"{'peak MB':>8} {'floor s':>8} {'ratio':>6}"
        + (f" {'other s':>8} {'vs other':>8} {'other cpu':>9} {'peak':>5}" if args.against else "")
    )
    for size in (int(n) for n in args.messages.split(",")):
        if args.grow_from and size > args.grow_from:
            source = archive_for(args.grow_from, args.work, args.download)
            archive = grown_archive(size, source, args.work)
        else:
            archive = archive_for(size, args.work, args.download)
        total = size + max(5, size // 10)  # the group space and the direct one
        for fmt in args.formats.split(","):
            runs, others = [], []
            out = args.work / f"out-{size}-{fmt}"
            against = args.against.resolve() if args.against else None
            if against and not knows(against, fmt):
                against = None  # this code's figures alone
            for _ in range(args.repeat):  # the floor and the other code in the same round
                floor = baseline(archive, args.work / "floor.json")
                runs.append((*render(archive, fmt, out), floor))
                if against:
                    others.append(render(archive, fmt, out, against)[:3])
            seconds, cpu, peak, written = min(r[:4] for r in runs)
            floor = min(r[4] for r in runs)
            other = f" {'n/a':>8} {'n/a':>8} {'n/a':>9} {'n/a':>5}" if args.against else ""
            if others:  # its fastest run, that run's CPU seconds, its peak MB
                theirs, their_cpu, their_peak = min(others)
                other = (f" {theirs:>8.2f} {seconds / theirs:>8.2f} {their_cpu:>9.2f} "
                         f"{their_peak / 1024:>5.0f}")  # fmt: skip
            print(
                f"{size:>9} {fmt:>6} {seconds:>8.2f} {cpu:>7.2f} {total / seconds:>9,.0f} "
                f"{written / 1e6:>8.1f} {peak / 1024:>8.0f} {floor:>8.2f} "
                f"{seconds / floor:>6.1f}{other}",
                flush=True,
            )
            if fmt == "eml":  # the file system's own floor, measured now
                create, create_cpu, files = file_floor(out, args.work)
                print(
                    f"{'':>9} {'files':>6} {create:>8.2f} {create_cpu:>7.2f}  creating "
                    f"{files:,} files alone; eml / that: {seconds / create:.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

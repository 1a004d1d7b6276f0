"""A compliance officer's nightly run over an organisation of many spaces, against the emulator.

    python benchmarks/officer_bench.py [--spaces 500] [--messages 20] [--latency 0]

One organisation of ``--spaces`` group spaces (the token owner in each, as custodian). Timed,
each a `webex-archive sync` in a fresh process: the officer's first collection
(``--org --custodian OWNER``), then a no-op nightly run of the same command, then a night
with a day's activity (a message in 10 spaces, an edit and a deletion in 5 others); and, for
comparison, a user token's ``sync --all`` no-op run over the same spaces, which must ask
every space (``GET /rooms/{id}``) whether it changed. Prints seconds, requests (all, event
pages, room requests) and the spaces visited.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from webex_emulator import Emulator, Faults, generate

CLI = [sys.executable, "-m", "webex_archive"]
ROOT = Path(__file__).resolve().parent.parent


def run(emu: Emulator, token: str, archive: Path, *args: str) -> tuple[float, list]:
    emu.log.clear()
    env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": token}
    started = time.monotonic()
    done = subprocess.run(
        [*CLI, "--archive", str(archive), "-q", "sync", *args, "--download", "no"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return seconds, emu.log.entries()


def row(label: str, seconds: float, log: list) -> str:
    events = sum(e.path.startswith("/v1/events") for e in log)
    rooms = sum(e.path.startswith("/v1/rooms") for e in log)
    spaces = len({e.path.split("?")[0] for e in log if e.path.startswith("/v1/rooms/")})
    return f"| {label} | {seconds:.1f} | {len(log)} | {events} | {rooms} | {spaces} |"


def day_of_activity(emu: Emulator) -> None:
    rooms = [r for r in emu.dataset.rooms.values() if r["type"] == "group"]
    for room in rooms[:10]:
        emu.post_message(room["id"], text="a new message overnight")
    for room in rooms[10:15]:
        mine = [m for m in emu.dataset.messages.values() if m["roomId"] == room["id"]]
        emu.edit_message(mine[0]["id"], text="edited overnight")
        emu.delete_message(mine[1]["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", type=int, default=500)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--latency", type=int, default=0, help="ms added to every request")
    args = parser.parse_args()
    ds = generate(seed=3, spaces=args.spaces, messages=args.messages, hostile_rate=0)
    with Emulator(ds, Faults(latency_ms=args.latency)) as emu, tempfile.TemporaryDirectory() as tmp:
        officer = emu.officer_token()
        owner = ds.people[ds.tokens[emu.token]]["emails"][0]
        chosen = ("--org", "--custodian", owner)
        lines = [
            f"{args.spaces} group spaces of {args.messages} messages (+1 direct), "
            f"{args.latency} ms a request",
            "",
            "| run | s | requests | event pages | room requests | spaces visited |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        lines.append(row("officer: first collection", *run(emu, officer, Path(tmp, "o"), *chosen)))
        lines.append(row("officer: no-op night", *run(emu, officer, Path(tmp, "o"), *chosen)))
        day_of_activity(emu)
        lines.append(row("officer: a day's activity", *run(emu, officer, Path(tmp, "o"), *chosen)))
        run(emu, emu.token, Path(tmp, "u"), "--all")
        lines.append(
            row("user token: `--all` no-op", *run(emu, emu.token, Path(tmp, "u"), "--all"))
        )
        print("\n".join(lines))


if __name__ == "__main__":
    main()

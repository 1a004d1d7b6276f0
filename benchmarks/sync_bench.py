"""Sync speed against the emulator, with a minimal sequential client as the baseline.

    python benchmarks/sync_bench.py [--messages 100000] [--latency 0,50] [--download no]

For each latency (ms added by the emulator to every request): the baseline — a minimal client
that follows the Link headers of /messages with max=400, one new connection per request, no
parallelism, storing nothing — then `webex-archive sync` in a fresh process into an empty
archive (full sync), again (no-op re-sync), and after the emulator adds 1,000 messages. Prints
one table: seconds, messages/s, requests, peak RSS, and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from emulator import Emulator, Faults, generate

CLI = [sys.executable, "-m", "webex_archive"]


def baseline(emu: Emulator, room_id: str) -> tuple[float, int, int]:
    """(seconds, requests, messages) for the naive client: a new connection per request."""
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
    return time.perf_counter() - started, count, messages


def ours(emu: Emulator, archive: Path, download: str) -> tuple[float, int, int]:
    """(seconds, requests, peak RSS KB) of one `webex-archive sync --all` process."""
    emu.log.clear()
    env = {**os.environ, "WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token}
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *CLI, "-q", "--archive", str(archive), "sync", "--all",
         "--download", download],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return seconds, len(emu.log.entries()), int(result.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--latency", default="0,50")
    parser.add_argument("--download", default="no", choices=["no", "info"])
    args = parser.parse_args()
    dataset = generate(seed=1, spaces=1, messages=args.messages, hostile_rate=0)
    room = next(r["id"] for r in dataset.rooms.values() if r["type"] == "group")
    total = len(dataset.messages)
    print(
        f"{'latency':>7} {'run':<22} {'seconds':>8} {'msg/s':>9} {'requests':>9} "
        f"{'peak MB':>8} {'vs base':>8}"
    )
    for latency in (float(x) for x in args.latency.split(",")):
        with (
            Emulator(dataset, Faults(latency_ms=latency)) as emu,
            tempfile.TemporaryDirectory() as work,
        ):
            base_s, base_n, base_m = baseline(emu, room)
            print(
                f"{latency:>7g} {'baseline (one space)':<22} {base_s:>8.2f} "
                f"{base_m / base_s:>9,.0f} {base_n:>9} {'-':>8} {'1.0':>8}",
                flush=True,
            )
            archive = Path(work) / "archive"
            runs = [
                ("full sync (all spaces)", total),
                ("no-op re-sync", 0),
                ("+1,000 new messages", 1000),
            ]
            for label, messages in runs:
                if messages == 1000:
                    emu.add_messages(room, 1000, seed=7)
                seconds, count, peak = ours(emu, archive, args.download)
                rate = f"{messages / seconds:>9,.0f}" if messages else f"{'-':>9}"
                ratio = (
                    f"{base_s / seconds * total / base_m:>7.1f}x"
                    if messages == total
                    else f"{'-':>8}"
                )
                print(
                    f"{latency:>7g} {label:<22} {seconds:>8.2f} {rate} {count:>9} "
                    f"{peak / 1024:>8.0f} {ratio}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

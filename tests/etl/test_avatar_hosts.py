"""Avatars are best effort (issue 13, item 10): a host that cannot be reached costs one short
try per run, not the API's minute of backoff per avatar, and the sync says so in one line."""

from __future__ import annotations

import socket
import sqlite3
import time

from tests.conftest import make_dataset
from tests.test_cli import run
from webex_emulator import Emulator


def closed_ports(count: int) -> list[int]:
    """Ports nothing listens on (bound, then closed): a connection there is refused."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_unreachable_avatar_hosts_cost_one_try_each(tmp_path):
    dataset = make_dataset(messages=60, spaces=2)
    ports = closed_ports(4)
    people = sorted(p for p in dataset.people if "avatar" in dataset.people[p])
    for index, person_id in enumerate(people):
        port = ports[index % len(ports)]
        dataset.people[person_id]["avatar"] = f"http://127.0.0.1:{port}/avatar/{index}~1600"
    archive = tmp_path / "archive"
    with Emulator(dataset) as emu:
        started = time.monotonic()
        result = run("--archive", str(archive), "--api-url", emu.api_url, "--token", emu.token,
                     "sync", "--all", "--avatars", "download")  # fmt: skip
        seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert seconds < 20, seconds  # the old client retried each avatar for ~30 s
    [line] = [line for line in result.stderr.splitlines() if line.startswith("avatars:")]
    assert line.startswith("avatars: ") and " not downloaded; could not reach " in line
    for port in ports:
        assert f"http://127.0.0.1:{port} (the connection failed)" in line
    assert line.endswith("tried once in this run, the next sync tries again")
    with sqlite3.connect(archive / "archive.db") as db:
        assert db.execute("SELECT count(*) FROM avatars").fetchone() == (0,)
    assert "retry" not in result.stderr  # no backoff notices: one try, no retries

"""A killed command leaves nothing running (issue 19).

``render`` of a space large enough for the bodies worker (render/bodies.py: a chunk of rows or
more) is killed with SIGKILL at random moments (seeded) while its worker lives, as a
timeout in cron or systemd would kill it; ``demo`` is killed during its sync and while it
serves. Each command runs in a session of its own, so its process group holds it and every
process it started, orphaned or not: one second after the kill, none of them may run.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from render.bodies import CHUNK
from tests.reliability.processes import children, in_group, wait_until
from tests.render.conftest import SEEN, SPACE_ID, build_archive

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to find the processes"
)
SEED = 20261206
KILLS = 4
CLI = [sys.executable, "-m", "webex_archive"]
BULK = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO messages (id, space_id, room_type, person_id, person_email, text, html, created,
                      raw, first_seen_at, last_seen_at)
SELECT printf('bulk-%06d', i), :space, 'group', 'p-alice', 'alice@example.com',
       'Line ' || i || ' of the bulk, with a link',
       '<p>Line <b>' || i || '</b> of the bulk, with <a href="https://example.com/' || i
       || '">a link</a></p><ul><li>one</li><li>two</li></ul>',
       strftime('%Y-%m-%dT%H:%M:%S.000Z', '2024-05-01', '+' || i || ' minutes'),
       '{}', :seen, :seen
FROM n
"""


def large_archive(folder: Path) -> Path:
    """The render tests' archive with ten chunks of messages more: render forks a worker."""
    build_archive(folder)
    with sqlite3.connect(folder / "archive.db") as conn:
        conn.execute(BULK, {"count": 10 * CHUNK, "space": SPACE_ID, "seen": SEEN})
    conn.close()
    return folder


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: the command and all it started
    )


def kill_and_check(command: subprocess.Popen[str], stopped: int | None = None) -> None:
    """SIGKILL the command (then let its ``stopped`` process go on); one second later
    nothing of its process group may run."""
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=10)
    if stopped is not None:
        os.kill(stopped, signal.SIGCONT)
    command.stdout.close()
    left = [] if wait_until(lambda: not in_group(command.pid), 1.0) else in_group(command.pid)
    for pid in left:  # not to leave them to the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after the kill of {command.pid}: {left}"


def kill_render(archive: Path, out: Path, delay: float) -> None:
    """Render, stop its worker as it forks, SIGKILL the render ``delay`` seconds later, let
    the worker go on, and check what is left. The worker is stopped so that the render
    cannot end before the kill however fast the machine (a faster sanitiser once made it
    end first); in the meantime the render reads and writes until it waits for the worker,
    so ``delay`` picks where the kill finds it."""
    render = start("--archive", str(archive), "render", "--all", "--format", "html",
                   "--output", str(out))  # fmt: skip
    worker = None
    try:
        assert wait_until(lambda: children(render.pid), timeout=30), "no worker forked"
        (worker,) = children(render.pid)
        os.kill(worker, signal.SIGSTOP)
        time.sleep(delay)
        assert render.poll() is None, "the render ended with its worker stopped"
    finally:
        kill_and_check(render, worker)


def test_a_killed_render_leaves_no_worker(tmp_path):
    archive = large_archive(tmp_path / "archive")
    rng = random.Random(SEED)
    for kill in range(KILLS):
        kill_render(archive, tmp_path / f"out-{kill}", rng.uniform(0, 0.4))


def refused(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_a_killed_demo_leaves_no_emulator(tmp_path):
    """The emulator runs in threads of the demo's own process (webex_emulator/server.py):
    while it serves, the demo's process group is the demo alone, and the kill ends it."""
    rng = random.Random(SEED)
    archive = tmp_path / "during-sync"
    demo = start("demo", "--archive", str(archive), "--messages", "400")
    try:
        assert wait_until((archive / "archive.db").exists, timeout=30), "the sync never began"
        time.sleep(rng.uniform(0, 0.5))  # syncing from the emulator
        assert demo.poll() is None, "the demo ended before the kill: give it more messages"
    finally:
        kill_and_check(demo)
    demo = start("demo", "--archive", str(tmp_path / "serving"), "--messages", "20", "--serve")
    try:
        lines = iter(demo.stdout.readline, "")
        url = next(line.split()[-1] for line in lines if "emulator serving" in line)
        assert not refused(url)
        assert in_group(demo.pid) == [demo.pid]
    finally:
        kill_and_check(demo)
    assert refused(url)

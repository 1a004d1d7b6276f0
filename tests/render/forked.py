"""For tests of the paths where render forks a worker or a sink: forking is only safe in a
one-thread process (render/worker.py's ``can_fork``), and the suite's own process has threads
(emulator, browser), so those tests render in a fresh ``python -c`` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FORKS = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not hasattr(os, "fork") or sys.platform == "darwin",
    reason="one core, no fork or macOS: render never forks here",
)


def fresh(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``script`` run by ``python -c`` with ``args``, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=timeout
    )


KILLED = """
import os, signal, sys
from pathlib import Path
from render import mail, {module}
from tests.render.{test} import {render}
archive, out, forked = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "forked"
mail.BATCH = 2
{module}.FORK_FROM = 1 if forked else 10**9
render_pid, seen = os.getpid(), []
def write_all(fd, data):  # the {nth}th write of {marker!r}: half of it, then all are killed
    if data.startswith({marker!r}):
        seen.append(1)
        if len(seen) == {nth}:
            os.write(fd, data[: len(data) // 2])
            os.kill(render_pid, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)  # a sink: at once, not at its parent's death
    mail.write_all(fd, data)
{module}.write_all = write_all
{render}(archive, {fmt!r}, out)
"""


def killed(
    archive: Path, out: Path, forked: bool, **script: object
) -> subprocess.CompletedProcess[str]:
    """``KILLED`` run in a fresh process, in-process or forked: the render is killed by
    SIGKILL half-way through the ``nth`` write that starts with ``marker``. ``script``: the
    writer's ``module``, the ``test`` module and its ``render`` function, the ``fmt``, the
    ``marker`` and ``nth``."""
    return fresh(KILLED.format(**script), str(archive), str(out), "forked" if forked else "alone")

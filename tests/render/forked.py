"""For tests of the paths where render forks a worker or a sink: forking is only safe in a
one-thread process (render/worker.py's ``can_fork``), and the suite's own process has threads
(emulator, browser), so those tests render in a fresh ``python -c`` process."""

from __future__ import annotations

import os
import subprocess
import sys

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

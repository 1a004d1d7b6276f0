"""Which processes are still running, read from /proc (Linux): no third-party process library.

A process that has exited but was not reaped yet (a zombie, state Z or X) holds no memory and
runs nothing: it counts as ended. An orphan's zombie waits for whatever reaps orphans here,
which in a container may be slow or never.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

ENDED = {"Z", "X"}


def stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of ``pid``, or None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    return fields[0], int(fields[1]), int(fields[2])


def running(pid: int) -> bool:
    found = stat(pid)
    return found is not None and found[0] not in ENDED


def in_group(pgid: int) -> list[int]:
    """The running processes of process group ``pgid`` (a command started in a new session
    is its group's leader: its group holds it and everything it started, orphaned or not)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            found = stat(int(name))
            if found is not None and found[2] == pgid and found[0] not in ENDED:
                pids.append(int(name))
    return sorted(pids)


def children(pid: int) -> list[int]:
    """The running processes whose parent is ``pid``."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            found = stat(int(name))
            if found is not None and found[1] == pid and found[0] not in ENDED:
                pids.append(int(name))
    return sorted(pids)


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Whether ``condition()`` became true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())

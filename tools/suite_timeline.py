"""Where the suite's time goes: a pytest plugin that records every test on every xdist worker,
and a report of what it recorded.

``--durations`` gives each test's wall time, but not when it ran, on which worker, what CPU it
used in the worker or in the processes it started, nor how long the workers took to start and
how far apart they ended. Record a run, then read it:

    SUITE_TIMELINE=/tmp/run.jsonl PYTHONPATH=tools .venv/bin/python -m pytest -p suite_timeline
    python tools/suite_timeline.py /tmp/run.jsonl

A test's subprocesses are counted when it waits for them (``os.times``' children); Chromium's
are counted at the end of the module that launched it, when Playwright's driver exits.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest


def _write(config: pytest.Config, **record: object) -> None:
    worker = getattr(config, "workerinput", {}).get("workerid", "controller")
    with open(os.environ["SUITE_TIMELINE"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"worker": worker, **record}) + "\n")


def _children() -> float:
    times = os.times()
    return times.children_user + times.children_system


def pytest_configure(config: pytest.Config) -> None:
    _write(config, event="start", at=time.time())


def pytest_collection_finish(session: pytest.Session) -> None:
    _write(session.config, event="collected", at=time.time())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    start, cpu, children = time.time(), time.process_time(), _children()
    yield
    _write(item.config, event="test", id=item.nodeid, start=start, end=time.time(),
           cpu=time.process_time() - cpu, children=_children() - children)  # fmt: skip


def pytest_sessionfinish(session: pytest.Session) -> None:
    times = os.times()
    _write(session.config, event="end", at=time.time(), cpu=times.user + times.system,
           children=_children())  # fmt: skip


def report(records: list[dict], top: int = 25) -> None:
    """Per worker: its start, first test, last end, CPU; then the tests that cost the most."""
    zero = min(r.get("at", r.get("start", float("inf"))) for r in records)
    by_worker: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_worker[record["worker"]].append(record)
    for worker, mine in sorted(by_worker.items()):
        tests = [r for r in mine if r["event"] == "test"]
        end = next((r for r in mine if r["event"] == "end"), {})
        cpu, children = end.get("cpu", 0.0), end.get("children", 0.0)
        line = f"{worker}: CPU {cpu:.1f} s, its subprocesses {children:.1f} s"
        if tests:
            first = min(r["start"] for r in tests) - zero
            last = max(r["end"] for r in tests) - zero
            line += f", tests from {first:.1f} s to {last:.1f} s ({len(tests)})"
        print(line)
    tests = [r for r in records if r["event"] == "test"]
    print(f"\nthe {top} tests of most CPU (in the worker + its subprocesses; wall):")
    for r in sorted(tests, key=lambda r: -(r["cpu"] + r["children"]))[:top]:
        wall = r["end"] - r["start"]
        print(f"{r['cpu']:6.1f} + {r['children']:5.1f} s {wall:6.1f} s  {r['worker']}  {r['id']}")


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as lines:
        report([json.loads(line) for line in lines])

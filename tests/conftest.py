"""Shared fixtures: a real emulator on 127.0.0.1 over a small, reproducible data set."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import requests

from webex_emulator import DataSet, Emulator, generate

# A fixed "now" for generated data, so that a failing test can be replayed exactly.
END = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
# A bytecode cache made for this run alone (removed at its end), where the environment forbids
# writing bytecode and pytest has no cache folder to keep one in.
BYTECODE = pytest.StashKey[str]()


def make_dataset(messages: int = 120, spaces: int = 3, seed: int = 7, **options) -> DataSet:
    return generate(seed=seed, spaces=spaces, messages=messages, end=END, **options)


@pytest.fixture
def dataset() -> DataSet:
    return make_dataset()


@pytest.fixture
def emu(dataset: DataSet) -> Iterator[Emulator]:
    with Emulator(dataset) as emulator:
        yield emulator


@pytest.fixture
def http(emu: Emulator) -> Iterator[requests.Session]:
    """A plain requests session carrying the owner's token (not the etl client)."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {emu.token}"
        yield session


def group_room(ds: DataSet, index: int = 0) -> dict:
    return [r for r in ds.rooms.values() if r["type"] == "group"][index]


def expected_ids(ds: DataSet, room_id: str) -> list[str]:
    """A room's message ids newest first, computed from the data set independently."""
    room_messages = [m for m in ds.messages.values() if m["roomId"] == room_id]
    return [m["id"] for m in sorted(room_messages, key=lambda m: m["created"], reverse=True)]


def follow(session: requests.Session, url: str, **params) -> tuple[list[dict], list[str]]:
    """Every item behind ``url``, following Link headers exactly as given; also the links."""
    items, links = [], []
    response = session.get(url, params=params or None, timeout=10)
    while True:
        response.raise_for_status()
        items.extend(response.json()["items"])
        if "Link" not in response.headers:
            return items, links
        links.append(response.headers["Link"])
        response = session.get(response.links["next"]["url"], timeout=10)


@pytest.fixture(autouse=True, scope="session")
def _no_real_keyring() -> None:
    """No test reaches the OS keyring: a command run without WEBEX_ARCHIVE_CREDENTIALS looks
    there first (auto), and subprocesses inherit this. The null backend keeps nothing, so such
    a command finds no keyring and looks in the credentials file (reading only)."""
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers per core. Many tests wait on something real (an emulator's
    latency, a quota window, a subprocess starting, Chromium): with one worker per core
    those waits leave the core idle (on two cores the suite used 7 CPU minutes in 5.7
    wall minutes); a second worker per core fills them (4.8 wall minutes)."""
    return 2 * (os.cpu_count() or 1)


def pytest_configure(config: pytest.Config) -> None:
    """Where Python is told not to write bytecode (``PYTHONDONTWRITEBYTECODE``, as some
    sandboxes and CI images set), every process the suite starts compiles every module it
    imports from source: some 0.2 s of CPU per ``python -m webex_archive`` and per worker,
    paid by hundreds of subprocesses. The run gives its processes (the xdist workers and the
    commands the tests start, which inherit the environment) one bytecode cache outside the
    source tree, so the tree stays as clean as the setting asked: pytest's own cache folder
    (``.pytest_cache/d/bytecode``, already ignored and cleared by ``--cache-clear``), kept
    from run to run, or without pytest's cache (``-p no:cacheprovider``) a temporary folder
    removed at the end. A fresh cache costs each of the four workers about 7 s of CPU before
    its first test (the standard library, the dependencies and the tests compiled four times
    over, side by side: 14 s of the run's wall time before any test ran); a kept one, 2-3 s.
    Measured back to back on tests/test_cli.py, test_login.py, test_credentials.py and
    reliability/test_kill.py: 76 CPU s without any cache, 63 with one per run. Set only in the
    first process of the run (the controller, or the only one)."""
    if not sys.flags.dont_write_bytecode or hasattr(config, "workerinput"):
        return
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        return  # the user's own cache folder: bytecode is not written there either
    cache = getattr(config, "cache", None)
    if cache is not None:
        folder = str(cache.mkdir("bytecode"))
    else:
        folder = tempfile.mkdtemp(prefix="webex-archive-bytecode-")
        config.stash[BYTECODE] = folder
    os.environ["PYTHONPYCACHEPREFIX"] = folder
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(BYTECODE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """xdist's default scheduling (``load``) with the long tests handed out first, one to
    each worker (``tests/scheduling.py``); any ``--dist`` asked for is xdist's own."""
    if config.getvalue("dist") != "load":
        return None
    from tests.scheduling import HeavyFirst

    return HeavyFirst(config, log)

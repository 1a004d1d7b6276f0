"""Fixtures shared by the etl tests: a fast-retrying client whose waits are recorded, and an
archive database in a temporary folder."""

from __future__ import annotations

import pytest

from etl.api import RetryPolicy, WebexClient
from etl.store import open_archive

FAST = RetryPolicy(tries=3, backoff=0.01, backoff_cap=0.05)


@pytest.fixture
def sleeps():
    """Every wait the client asks for, recorded instead of slept (the emulator is real)."""
    return []


@pytest.fixture
def client(emu, sleeps):
    with WebexClient(emu.token, emu.api_url, retry=FAST, sleep=sleeps.append) as webex:
        yield webex


@pytest.fixture
def db(tmp_path):
    archive = open_archive(tmp_path)
    yield archive
    archive.conn.close()

"""Feedback a person acts on: one consistent word per situation, never silence.

Each test covers a class from issue 13 item 10: every command that opens the archive gives
the same advice for a schema version it cannot read; a render whose filters choose nothing
says so; ``demo --open`` without a browser says that no browser was opened.
"""

from __future__ import annotations

import sqlite3

import pytest

from etl import store
from tests.test_cli import assert_one_line_error, run


@pytest.fixture
def newer(tmp_path, emu):
    """An archive whose schema comes from a newer webex-archive."""
    archive = tmp_path / "archive"
    store.open_archive(archive).conn.close()
    with sqlite3.connect(archive / "archive.db") as conn:
        conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    conn.close()
    return {
        "WEBEX_ARCHIVE_DIR": str(archive),
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
    }


READERS = [["sync", "--all"], ["render", "--all"], ["search", "budget"], ["status"],
           ["forget", "atlas", "--yes"]]  # fmt: skip


@pytest.mark.parametrize("command", READERS)
def test_every_command_says_upgrade_the_tool_for_a_newer_archive(newer, command):
    result = run(*command, env=newer)
    assert_one_line_error(
        result, "written by a newer webex-archive (schema version 7", "upgrade webex-archive"
    )
    assert "webex-archive sync" not in result.stderr


@pytest.fixture
def synced(tmp_path, emu):
    env = {"WEBEX_ARCHIVE_DIR": str(tmp_path / "archive"), "WEBEX_API_URL": emu.api_url,
           "WEBEX_ARCHIVE_TOKEN": emu.token}  # fmt: skip
    assert run("sync", "--all", env=env).returncode == 0
    return env


def test_a_render_whose_filters_choose_nothing_says_so(synced):
    one = run("render", "atlas", "--since", "2099-01-01", env=synced)
    assert one.returncode == 0
    assert one.stderr == (
        "no message matches since 2099-01-01 in 'Project Atlas': written with none\n"
    )
    page, home = one.stdout.splitlines()
    assert page.endswith("Project Atlas.html") and home.endswith("index.html")
    every = run("render", "--all", "--days", "0.0001", env=synced)
    assert every.returncode == 0 and len(every.stdout.splitlines()) == 4 + 1  # and home
    assert every.stderr.startswith("no message matches the last 0.0001 days in 4 of 4 spaces (")
    assert every.stderr.endswith(" and 1 more): written with none\n")
    quiet = run("--quiet", "render", "atlas", "--since", "2099-01-01", env=synced)
    assert (quiet.returncode, quiet.stderr) == (0, "")
    some = run("render", "atlas", "--last", "1", env=synced)
    assert (some.returncode, some.stderr) == (0, "")


@pytest.mark.parametrize(
    ("display", "why"),
    [
        ({}, "no display"),
        ({"DISPLAY": ":97", "BROWSER": "/bin/false"}, "no browser could be started"),
    ],
)
def test_demo_open_says_when_no_browser_was_opened(tmp_path, display, why):
    """Without a display nothing is tried; with one, a browser that fails to start (the only
    one on an empty PATH) is reported the same way."""
    archive = tmp_path / "demo"
    (tmp_path / "bin").mkdir()
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "BROWSER": "", "PATH": str(tmp_path / "bin")}
    env |= display
    result = run("demo", "--messages", "5", "--archive", str(archive), "--open", env=env)
    assert result.returncode == 0, result.stderr
    page = archive / "index.html"  # the home page, which --open opens
    assert f"with the home page {page}:" in result.stdout
    assert result.stderr == f"no browser was opened ({why}): open {page} yourself\n"

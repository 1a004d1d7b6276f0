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


@pytest.mark.parametrize(
    "command",
    [["sync", "--all"], ["render", "--all"], ["search", "budget"], ["status"],
     ["forget", "atlas", "--yes"]],  # fmt: skip
)
def test_every_command_says_upgrade_the_tool_for_a_newer_archive(newer, command):
    result = run(*command, env=newer)
    assert_one_line_error(
        result, "written by a newer webex-archive (schema version 7", "upgrade webex-archive"
    )
    assert "webex-archive sync" not in result.stderr

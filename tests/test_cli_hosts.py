"""The command line around hosts and URLs (issue 13, item 10): global options accepted after
the command, and an --api-url without /v1 told what to add."""

from __future__ import annotations

import click
import pytest

from tests.conftest import group_room
from tests.test_cli import assert_one_line_error, run
from webex_archive.cli import main


def test_global_options_after_the_command_work(emu, dataset, tmp_path):
    archive = tmp_path / "archive"
    room = group_room(dataset)
    result = run("sync", room["id"], "--token", emu.token, f"--api-url={emu.api_url}",
                 "--archive", str(archive), "-q")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # -q after the command is -q too
    assert (archive / "archive.db").is_file()
    status = run("status", "--archive", str(archive))
    assert status.returncode == 0 and room["title"] in status.stdout


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        (["sync", "X", "--token", "T", "-v"], ["--token", "T", "-v", "sync", "X"]),
        (["--archive", "a", "sync", "--archive=b"], ["--archive", "a", "--archive=b", "sync"]),
        (["demo", "--archive", "d", "--token", "T"], ["--token", "T", "demo", "--archive", "d"]),
        (["search", "--", "--token", "x"], ["search", "--", "--token", "x"]),
        (["sync", "--token"], ["sync", "--token"]),  # no value: click says so, in place
        (["--token", "sync", "status"], ["--token", "sync", "status"]),  # "sync" is the value
        (["sync", "--help"], ["sync", "--help"]),  # the command's help, not the group's
    ],
)
def test_where_global_options_are_moved(typed, parsed):
    assert main._globals_first(click.Context(main), typed) == parsed


def test_a_missing_value_after_the_command_is_one_line(tmp_path):
    assert_one_line_error(run("sync", "--token"), "--token", code=2)


def test_api_url_without_v1_says_what_to_add(emu, tmp_path):
    result = run("--api-url", emu.url, "--token", emu.token, "--archive", str(tmp_path / "a"),
                 "sync", "--all")  # fmt: skip
    assert_one_line_error(result, "Webex does not know /rooms (404)", f"did you mean {emu.url}/v1?")


@pytest.mark.parametrize("api_url", ["http://user@127.0.0.1:1/v1", "http://127.0.0.1:1\\@x/v1"])
def test_an_ambiguous_api_url_is_refused_before_any_request(api_url, tmp_path):
    result = run("--api-url", api_url, "--token", "T", "--archive", str(tmp_path / "a"), "spaces")
    assert_one_line_error(result, f"--api-url {api_url!r} is not a plain http(s) URL")

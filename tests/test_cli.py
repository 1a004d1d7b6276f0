"""The archive commands as a user runs them: one-line errors, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import group_room
from webex_archive.cli import main
from webex_emulator import Rule

CLI = [sys.executable, "-m", "webex_archive"]


def run(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    full_env.update(env or {})
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=full_env, timeout=120, cwd=cwd
    )


@pytest.fixture
def env(emu, tmp_path):
    return {
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
        "WEBEX_ARCHIVE_DIR": str(tmp_path / "archive"),
    }


def assert_one_line_error(result, *fragments: str, code: int = 1) -> None:
    assert result.returncode == code, result
    lines = result.stderr.strip().splitlines()
    if code == 2:  # usage errors: click's usage hint, then the one-line error
        assert lines[0].startswith("Usage: "), result.stderr
        lines = lines[-1:]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_spaces_lists_group_and_direct_apart(env, dataset):
    result = run("spaces", env=env)
    assert result.returncode == 0, result.stderr
    group, direct = result.stdout.split("direct spaces")
    assert group.startswith("group spaces (3):") and direct.startswith(" (1):")
    as_json = json.loads(run("spaces", "--json", env=env).stdout)
    assert sorted(r["id"] for r in as_json) == sorted(dataset.rooms)
    only = json.loads(run("spaces", "design", "--json", env=env).stdout)
    assert [r["title"] for r in only] == ["Design reviews"]


def test_sync_by_title_then_status(env, dataset):
    result = run("sync", "project atlas", env=env)
    assert result.returncode == 0, result.stderr
    room = group_room(dataset)
    count = sum(m["roomId"] == room["id"] for m in dataset.messages.values())
    assert result.stderr.startswith(f"synced 1 space: {count} new, 0 edited, 0 deleted, ")
    status = json.loads(run("status", "--json", env=env).stdout)
    assert [(s["title"], s["messages"], s["last_status"]) for s in status] == [
        ("Project Atlas", count, "ok")
    ]
    assert status[0]["history"].startswith("complete, ")
    again = run("--quiet", "sync", room["id"], env=env)
    assert again.returncode == 0 and again.stderr == ""


def test_sync_all(env, dataset):
    result = run("sync", "--all", env=env)
    assert result.returncode == 0, result.stderr
    header, *rows, last, warning = result.stderr.strip().splitlines()
    assert header.split() == ["space", "new", "edited", "deleted", "files", "outcome"]
    assert sorted(row.split()[-1] for row in rows) == ["ok"] * 4
    assert last.startswith("synced 4 spaces: ")
    assert warning.startswith("warning: the token given (--token, WEBEX_ARCHIVE_TOKEN or an ")
    again = run("sync", "--all", "--type", "group", "--exclude", "design", env=env)
    lines = again.stderr.strip().splitlines()[:-1]  # the warning last (stdin is no terminal)
    assert [line.split()[-1] for line in lines[1:-1]] == ["unchanged", "unchanged"]
    assert lines[-1].startswith("synced 2 spaces: 0 new, 0 edited, 0 deleted, ")
    recent = run("sync", "--all", "--active-since", "90d", env=env)
    assert recent.stderr.strip().splitlines()[-2].startswith("synced 4 spaces")
    none = run("sync", "--all", "--active-since", "2099-01-01", env=env)
    assert none.stderr.strip().startswith("synced 0 spaces") and none.returncode == 0
    assert_one_line_error(run("sync", "atlas", "--type", "group", env=env), "go with --all", code=2)


def test_sync_all_with_a_failing_space_exits_1(env, emu, dataset):
    room = group_room(dataset, 1)["id"]
    emu.add_fault(Rule("status", 403, rate=1.0, path=f"/v1/messages?roomId={room}"))
    result = run("sync", "--all", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert any(
        "Design reviews" in line and "failed: Webex refused access" in line for line in lines
    )
    assert lines[-1].startswith("synced 3 spaces (1 failed): ")


def invoke(*args: str, env: dict) -> subprocess.CompletedProcess:
    """The command in this process (click's runner keeps stderr apart; a crash is raised, not
    hidden), answered as ``run`` answers: where what is tested is the message and the exit
    code, not the process, twelve starts of 0.35 s each are not worth paying."""
    result = CliRunner().invoke(
        main, list(args), env=env, prog_name="webex-archive", catch_exceptions=False
    )
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_bad_input_is_one_line(env, dataset, tmp_path):
    """Each in this process (``invoke``) but the first, which a shell runs: the process's own
    exit code and stderr (as in the other tests here)."""
    unknown = "Y2lzY29zcGFyazovL3VzL1JPT00vMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
    assert_one_line_error(run("sync", unknown, env=env), "no space with id", "webex-archive spaces")
    assert_one_line_error(invoke("sync", unknown, env=env), "no space with id")
    assert_one_line_error(invoke("sync", "no such title", env=env), "no space title contains")
    assert_one_line_error(invoke("sync", "e", env=env), "matches 4 spaces")
    assert_one_line_error(
        invoke("sync", "atlas", env={**env, "WEBEX_ARCHIVE_TOKEN": "expired"}),
        "rejected the token (401)",
        "or sign in once with `webex-archive login`",
    )
    assert_one_line_error(
        invoke("sync", "atlas", env={**env, "WEBEX_ARCHIVE_TOKEN": ""}), "no Webex token", code=2
    )
    assert_one_line_error(
        invoke("sync", "atlas", env={**env, "WEBEX_API_URL": "http://127.0.0.1:9/v1"}),
        "cannot reach Webex at 127.0.0.1:9",
    )
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_one_line_error(
        invoke("sync", "atlas", env={**env, "WEBEX_ARCHIVE_DIR": str(blocker / "a")})
    )
    assert_one_line_error(invoke("sync", env=env), "name at least one SPACE", code=2)
    assert_one_line_error(invoke("sync", "atlas", "--days", "0", env=env), "--days", code=2)
    assert_one_line_error(
        invoke("sync", "atlas", "--since", "last tuesday", env=env), "is not a date", code=2
    )
    assert_one_line_error(invoke("status", env={**env, "WEBEX_ARCHIVE_DIR": str(tmp_path / "no")}))


def test_verbose_shows_the_traceback(env):
    result = run("-v", "sync", "no such title", env=env)
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_demo_syncs_the_emulator(tmp_path):
    result = run("demo", "--archive", str(tmp_path / "demo"), "--messages", "40")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("synced 4 spaces, ")
    assert (tmp_path / "demo" / "archive.db").exists()
    home = tmp_path / "demo" / "index.html"
    assert f"rendered 4 spaces, with the home page {home}:" in result.stdout
    assert 'href="Project%20Atlas/Project%20Atlas.html"' in home.read_text()
    for fmt in ("html", "json", "txt"):
        path = tmp_path / "demo" / "Project Atlas" / f"Project Atlas.{fmt}"
        assert f"  {path}" in result.stdout.splitlines() and path.stat().st_size > 5_000


def test_render_writes_every_format_where_the_files_are(env, dataset, tmp_path):
    assert run("sync", "atlas", env=env).returncode == 0
    result = run(
        "render",
        "atlas",
        "--format",
        "html,json,txt",
        "--tz",
        "Europe/Amsterdam",
        "--last",
        "20",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "archive" / "Project Atlas"
    assert result.stdout.splitlines() == [
        *(str(folder / f"Project Atlas.{f}") for f in ("html", "json", "txt")),
        str(tmp_path / "archive" / "index.html"),  # the archive's home page
    ]
    document = json.loads((folder / "Project Atlas.json").read_text())
    assert document["statistics"]["in_window"] == 20
    other = run(
        "render",
        "atlas",
        "--output",
        str(tmp_path / "out" / "page.html"),
        "--since",
        "2025-01-01",
        "--until",
        "31122025",
        "--sort",
        "newest",
        env=env,
    )
    assert other.stdout.strip() == str(tmp_path / "out" / "page.html")


def test_render_errors_are_one_line(env, tmp_path):
    assert_one_line_error(run("render", "atlas", env=env), "no archive at", "webex-archive sync")
    assert run("sync", "atlas", env=env).returncode == 0
    assert_one_line_error(run("render", "nothing", env=env), "matches no space in the archive")
    assert_one_line_error(
        run("render", "atlas", "--tz", "Mars/Base", env=env), "unknown time zone", code=2
    )
    assert_one_line_error(
        run("render", "atlas", "--format", "pdf", env=env), "choose from html, json, txt", code=2
    )
    assert_one_line_error(
        run("render", "atlas", "--since", "2025-02-01", "--until", "2025-01-01", env=env),
        "earlier than --until",
        code=2,
    )
    assert_one_line_error(run("render", env=env), "name at least one SPACE", code=2)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "archive.db").write_bytes(b"not a database" * 100)
    assert_one_line_error(
        run("render", "--all", env={**env, "WEBEX_ARCHIVE_DIR": str(garbage)}),
        "is not a webex-archive database",
    )


def test_render_all_goes_on_past_a_failing_space(env, tmp_path):
    assert run("sync", "--all", env=env).returncode == 0  # no downloads: no folders yet
    (tmp_path / "archive" / "Design reviews").write_text("a file where a folder should be")
    result = run("render", "--all", env=env)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 3  # the other three spaces were rendered
    assert_one_line_error(result, "1 of 4 spaces failed: 'Design reviews'")


def test_render_split_writes_changed_parts_and_force_writes_all(env, tmp_path):
    """A second `render --split month` writes the index and the home page only (nothing
    changed); `--force` writes every part again."""
    assert run("sync", "atlas", env=env).returncode == 0
    command = ["render", "atlas", "--split", "month", "--tz", "UTC"]
    first = run(*command, env=env)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "archive" / "Project Atlas"
    home = str(tmp_path / "archive" / "index.html")
    lines = first.stdout.splitlines()
    assert lines[0] == str(folder / "Project Atlas.html") and lines[-1] == home
    assert len(lines) > 4
    again = run(*command, env=env)
    assert again.stdout.splitlines() == [str(folder / "Project Atlas.html"), home]
    assert run(*command, "--force", env=env).stdout.splitlines() == lines

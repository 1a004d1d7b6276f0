"""Every option of every command, given values it cannot take.

A value that can never work must be refused while the command line is parsed, the way click
refuses a bad choice: a usage error ("Usage: …", "Try …", "Error: …") that names the option,
exit code 2, and no traceback. Never a crash, never exit code 1 (which says that the archive or
Webex failed), never a silent correction, and never after the archive was opened or Webex was
called (the environment points at an address where nothing listens, so a value that slips
through shows up as a "cannot reach Webex" failure instead).

The table is checked against the commands themselves: a new option without a row here fails
``test_every_option_has_a_case``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from webex_archive.cli import main
from webex_archive.options import MAX_DAYS, parse_date

from .test_cli import assert_one_line_error, run

# Paths in the table are relative to the test's own folder, where FILE is an ordinary file.
FILE = "a-file"

# (the command line, the option whose name the error must carry). A row may name a path below
# FILE: it is created before each run.
CASES: list[tuple[list[str], str]] = [
    # ----- global options
    (["--archive", FILE, "status"], "--archive"),
    (["--archive", "", "status"], "--archive"),
    (["--api-url", "notaurl", "spaces"], "--api-url"),
    (["--api-url", "ftp://example.com/v1", "spaces"], "--api-url"),
    (["--api-url", "http://", "spaces"], "--api-url"),
    (["--api-url", "http://127.0.0.1:99999/v1", "spaces"], "--api-url"),
    (["--token", "", "spaces"], "--token"),
    (["--token", "   ", "sync", "atlas"], "--token"),
    # ----- sync
    (["sync", "atlas", "--since", "yesterday"], "--since"),
    (["sync", "atlas", "--since", "2024-13-01"], "--since"),
    (["sync", "atlas", "--since", "32012024"], "--since"),
    (["sync", "atlas", "--since", ""], "--since"),
    (["sync", "atlas", "--since", "2024-03-01T25:00"], "--since"),
    (["sync", "atlas", "--since", "0001-01-01"], "--since"),
    (["sync", "atlas", "--since", "9999-12-31T23:00:00-05:00"], "--since"),
    (["sync", "atlas", "--since", "2024-01-01", "--days", "3"], "--since"),
    (["sync", "atlas", "--days", "-1"], "--days"),
    (["sync", "atlas", "--days", "0"], "--days"),
    (["sync", "atlas", "--days", "abc"], "--days"),
    (["sync", "atlas", "--days", "nan"], "--days"),
    (["sync", "atlas", "--days", "inf"], "--days"),
    (["sync", "atlas", "--days", "1e9"], "--days"),
    (["sync", "atlas", "--last", "0"], "--last"),
    (["sync", "atlas", "--last", "-5"], "--last"),
    (["sync", "atlas", "--last", "ten"], "--last"),
    (["sync", "atlas", "--last", "1.5"], "--last"),
    (["sync", "atlas", "--last", str(2**64)], "--last"),
    (["sync", "atlas", "--rescan", "-1"], "--rescan"),
    (["sync", "atlas", "--rescan", "nan"], "--rescan"),
    (["sync", "atlas", "--rescan", "week"], "--rescan"),
    (["sync", "atlas", "--rescan", str(MAX_DAYS + 1)], "--rescan"),
    (["sync", "atlas", "--workers", "0"], "--workers"),
    (["sync", "atlas", "--workers", "-3"], "--workers"),
    (["sync", "atlas", "--workers", "many"], "--workers"),
    (["sync", "atlas", "--workers", "100000"], "--workers"),
    (["sync", "atlas", "--download", "maybe"], "--download"),
    (["sync", "atlas", "--download", ""], "--download"),
    (["sync", "atlas", "--avatars", "many"], "--avatars"),
    (["sync", "--all", "--type", "team"], "--type"),
    (["sync", "--custodian", "not-an-email"], "--custodian"),
    (["sync", "--custodians", "missing.txt"], "--custodians"),
    (["sync", "--custodians", FILE], "--custodians"),
    (["sync", "--org", "--events-retention", "0"], "--events-retention"),
    (["sync", "--org", "--events-retention", "a year"], "--events-retention"),
    (["sync", "--all", "--active-since", "nonsense"], "--active-since"),
    (["sync", "--all", "--active-since", "-90d"], "--active-since"),
    (["sync", "--all", "--active-since", "99999999999d"], "--active-since"),
    (["sync", "--all", "--active-since", "2024-02-30"], "--active-since"),
    (["sync", "--all", "--exclude", ""], "--exclude"),
    (["sync", "atlas", "--active-since", "90d"], "--active-since"),
    # ----- render
    (["render", "atlas", "--last", "0"], "--last"),
    (["render", "atlas", "--last", "ten"], "--last"),
    (["render", "atlas", "--last", str(2**63)], "--last"),
    (["render", "atlas", "--days", "-1"], "--days"),
    (["render", "atlas", "--days", "nan"], "--days"),
    (["render", "atlas", "--days", "abc"], "--days"),
    (["render", "atlas", "--since", "yesterday"], "--since"),
    (["render", "atlas", "--since", "32012024"], "--since"),
    (["render", "atlas", "--until", "32012024"], "--until"),
    (["render", "atlas", "--until", "2024-13-01"], "--until"),
    (["render", "atlas", "--until", "9999-12-31"], "--until"),
    (["render", "atlas", "--since", "2025-02-01", "--until", "2025-01-01"], "--until"),
    (["render", "atlas", "--days", "3", "--until", "2001-01-01"], "--until"),
    (["render", "atlas", "--sort", "sideways"], "--sort"),
    (["render", "atlas", "--format", "pdf"], "--format"),
    (["render", "atlas", "--format", ""], "--format"),
    (["render", "atlas", "--format", "html,,xml"], "--format"),
    (["render", "atlas", "--format", "html,,json"], "--format"),
    (["render", "atlas", "--format", "html,"], "--format"),
    (["render", "atlas", "--tz", "Mars/Base"], "--tz"),
    (["render", "atlas", "--tz", ""], "--tz"),
    (["render", "atlas", "--tz", "Europe"], "--tz"),
    (["render", "atlas", "--tz", "../../etc/passwd"], "--tz"),
    (["render", "atlas", "--tz", "/etc/localtime"], "--tz"),
    (["render", "atlas", "--tz", "Europe/Amsterdam/.."], "--tz"),
    (["render", "atlas", "--avatars", "many"], "--avatars"),
    (["render", "atlas", "--theme", "neon"], "--theme"),
    (["render", "atlas", "--split", "week"], "--split"),
    (["render", "atlas", "--output", FILE], "--output"),
    (["render", "atlas", "--output", f"{FILE}/page.html"], "--output"),
    (["render", "atlas", "--output", f"{FILE}/folder"], "--output"),
    (["render", "atlas", "--output", f"{FILE}/deeper/page.html"], "--output"),
    (["render", "atlas", "--output", "a-folder.html"], "--output"),
    (["render", "--all", "--output", "page.html"], "--output"),
    (["render", "atlas", "design", "--output", "page.html"], "--output"),
    # ----- search
    (["search", "roadmap", "--since", "yesterday"], "--since"),
    (["search", "roadmap", "--until", "32012024"], "--until"),
    (["search", "roadmap", "--limit", "0"], "--limit"),
    (["search", "roadmap", "--limit", "ten"], "--limit"),
    (["search", "roadmap", "--limit", str(2**64)], "--limit"),
    # ----- demo
    (["demo", "--archive", FILE], "--archive"),
    (["demo", "--archive", ""], "--archive"),
    (["demo", "--messages", "-1"], "--messages"),
    (["demo", "--messages", "abc"], "--messages"),
    (["demo", "--messages", str(10**9)], "--messages"),
    (["demo", "--seed", "abc"], "--seed"),
    # ----- emulator (values that slip through would serve forever: --dump makes it exit)
    (["emulator", "--data", "missing.json"], "--data"),
    (["emulator", "--data", FILE], "--data"),
    (["emulator", "--data", "."], "--data"),
    (["emulator", "--dump", f"{FILE}/d.json"], "--dump"),
    (["emulator", "--dump", "."], "--dump"),
    (["emulator", "--port", "99999"], "--port"),
    (["emulator", "--port", "-1"], "--port"),
    (["emulator", "--port", "http"], "--port"),
    (["emulator", "--host", "no-such-host.invalid", "--port", "0"], "--host"),
    (["emulator", "--seed", "abc", "--dump", "d.json"], "--seed"),
    (["emulator", "--spaces", "-1", "--dump", "d.json"], "--spaces"),
    (["emulator", "--messages", "-5", "--dump", "d.json"], "--messages"),
    (["emulator", "--people", "0", "--dump", "d.json"], "--people"),
    (["emulator", "--people", "3", "--dump", "d.json"], "--people"),
    (["emulator", "--span-days", "0", "--dump", "d.json"], "--span-days"),
    (["emulator", "--span-days", "-3", "--dump", "d.json"], "--span-days"),
    (["emulator", "--span-days", "nan", "--dump", "d.json"], "--span-days"),
    (["emulator", "--span-days", "1e6", "--dump", "d.json"], "--span-days"),
    (["emulator", "--latency-ms", "-5", "--dump", "d.json"], "--latency-ms"),
    (["emulator", "--latency-ms", "inf", "--dump", "d.json"], "--latency-ms"),
    (["emulator", "--fail-429", "2", "--dump", "d.json"], "--fail-429"),
    (["emulator", "--fail-429", "-0.1", "--dump", "d.json"], "--fail-429"),
    (["emulator", "--fail-429", "nan", "--dump", "d.json"], "--fail-429"),
    (["emulator", "--fail-5xx", "1.5", "--dump", "d.json"], "--fail-5xx"),
    (["emulator", "--drop-rate", "often", "--dump", "d.json"], "--drop-rate"),
    (["emulator", "--retry-after", "-1", "--dump", "d.json"], "--retry-after"),
    (["emulator", "--fail-status", "418", "--dump", "d.json"], "--fail-status"),
    (["emulator", "--fail-at", "x", "--dump", "d.json"], "--fail-at"),
    (["emulator", "--fail-at", "0=drop", "--dump", "d.json"], "--fail-at"),
    (["emulator", "--fail-at", "3=999", "--dump", "d.json"], "--fail-at"),
    (["emulator", "--fail-at", "3=200", "--dump", "d.json"], "--fail-at"),
    (["emulator", "--fail-at", "3=explode", "--dump", "d.json"], "--fail-at"),
    (["emulator", "--fault-path", "v1/messages", "--dump", "d.json"], "--fault-path"),
    (["emulator", "--lock-files", "-1", "--dump", "d.json"], "--lock-files"),
    (["emulator", "--expire-token-after", "-1", "--dump", "d.json"], "--expire-token-after"),
    (["emulator", "--fault-seed", "x", "--dump", "d.json"], "--fault-seed"),
]

# Options any value of which is valid (searches and free text): nothing to refuse.
ANY_VALUE = {
    ("search", "--space"): "part of a title or an id: any text is a search",
    ("search", "--from"): "part of a name or an email: any text is a search",
}

# Where nothing listens: a bad value that is not caught while parsing reaches "cannot reach".
UNREACHABLE = "http://127.0.0.1:9/v1"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's working folder, holding FILE (a plain file) and a-folder.html (a folder)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / FILE).write_text("not a folder")
    (tmp_path / "a-folder.html").mkdir()
    return tmp_path


def invoke(args: list[str], folder: Path) -> Result:
    """The CLI in-process (click's runner keeps stderr apart); a crash is raised, not hidden."""
    env = {"WEBEX_ARCHIVE_TOKEN": "token", "WEBEX_API_URL": UNREACHABLE,
           "WEBEX_ARCHIVE_DIR": str(folder / "archive")}  # fmt: skip
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def assert_usage_error(result: Result, option: str) -> None:
    """click's usage-error form, exit code 2, one error line naming ``option``."""
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert_one_line_error(
        SimpleNamespace(returncode=result.exit_code, stderr=result.stderr), option, code=2
    )


def case_id(case: tuple[list[str], str]) -> str:
    return " ".join(repr(a) if not a or " " in a else a for a in case[0])


@pytest.mark.parametrize(("args", "option"), CASES, ids=[case_id(c) for c in CASES])
def test_a_bad_value_is_a_usage_error_naming_the_option(
    args: list[str], option: str, folder: Path
) -> None:
    assert_usage_error(invoke(args, folder), option)
    assert not (folder / "archive").exists(), "the archive was touched before the value was checked"


def _options(command: click.Command, name: str) -> list[tuple[str, str]]:
    """(command, long option name) of each option that takes a value."""
    return [
        (name, max(param.opts, key=len))
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag and not param.hidden
    ]


def test_every_option_has_a_case() -> None:
    every = _options(main, "(global)")
    for name, command in main.commands.items():
        every += _options(command, name)
    covered = set(ANY_VALUE)
    for args, option in CASES:
        command = next((a for a in args if a in main.commands), "(global)")
        at = args.index(option) if option in args else -1
        before_command = command == "(global)" or at < args.index(command)
        covered.add(("(global)" if before_command else command, option))
    missing = [option for option in every if option not in covered]
    assert not missing, f"options without a bad-value case in CASES: {missing}"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["sync", "atlas", "--since", "32012024"], "--since"),
        (["sync", "atlas", "--workers", "0"], "--workers"),
        (["render", "atlas", "--tz", "Europe"], "--tz"),
        (["render", "atlas", "--format", "html,,xml"], "--format"),
        (["render", "atlas", "--output", f"{FILE}/page.html"], "--output"),
        (["emulator", "--port", "99999"], "--port"),
    ],
    ids=case_id,
)
def test_as_a_user_sees_it(args: list[str], option: str, folder: Path) -> None:
    """The same in a real process (python -m webex_archive): stderr, exit code, no traceback."""
    env = {"WEBEX_ARCHIVE_TOKEN": "token", "WEBEX_API_URL": UNREACHABLE,
           "WEBEX_ARCHIVE_DIR": str(folder / "archive")}  # fmt: skip
    assert_one_line_error(run(*args, env=env, cwd=folder), option, code=2)


def test_good_values_still_pass(folder: Path) -> None:
    """The checks refuse only what cannot work: the edges of each range are accepted, and the
    command then fails only where it meets the world, with exit code 1 (no archive yet, then
    nothing listening at the API URL)."""
    archive = folder / "archive"
    for args in (
        ["render", "atlas", "--format", "JSON, txt", "--tz", "UTC", "--until", "9999-12-30"],
        ["render", "atlas", "--output", "out/page.html", "--since", "2024-03-01T09:30"],
        ["render", "atlas", "--output", "a-folder.html/page.html", "--days", "0.001"],
        ["render", "--all", "--output", "pages.2024"],  # a folder, dot or not
    ):
        result = invoke(args, folder)
        assert result.exit_code == 1 and f"no archive at {archive}" in result.stderr, result.stderr
    for args in (
        ["sync", "atlas", "--days", "0.5", "--last", "1", "--rescan", "0", "--workers", "64"],
        ["sync", "atlas", "--since", "01032024", "--download", "none"],
        ["sync", "--all", "--active-since", "12w", "--exclude", "design"],
        ["sync", "--all", "--active-since", "2024-03-01T09:30+01:00"],
    ):
        result = invoke(args, folder)
        assert result.exit_code == 1 and "cannot reach Webex" in result.stderr, result.stderr


DATE_LIKE = (
    r"[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{1,2}(:[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]{1,9})?)?)?)?"
    r"(Z|[+-][0-9]{1,2}(:?[0-9]{2})?)?"
)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=40)
    | st.from_regex(DATE_LIKE, fullmatch=True)
    | st.from_regex(r"\d{8}", fullmatch=True)
)
def test_parse_date_refuses_or_returns_a_date(text: str) -> None:
    """Any text at all: a date, or the usage error (never ValueError, OverflowError…)."""
    try:
        moment = parse_date(text)
    except click.BadParameter:
        return
    assert moment.tzinfo is not None and moment.year >= 1000

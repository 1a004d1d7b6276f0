"""`login`, `auth status`, `logout` and the stored sign-in as a user runs them: subprocesses
against the emulator's integration, credentials in a temporary folder. A sync outlives
several access tokens; an expired refresh token is one line; two processes renewing at once
both succeed; and no token or secret is ever in an output, a file or the database."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import socket
import sqlite3
import subprocess
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import group_room
from tests.signin_helpers import (
    CLI,
    approve,
    cli,
    login_pasting,
    rewrite,
    signin_env,
    stored,
)
from webex_emulator import OAuthSettings, Rule
from webex_emulator.integrations import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET


@pytest.fixture
def env(emu, tmp_path):
    return signin_env(emu, tmp_path)


def secrets_of(emu) -> set[str]:
    """Every code and token the emulator has issued so far, and the client secret."""
    grants = emu.oauth.grants
    with grants.lock:
        return {*grants.codes, *grants.access, *grants.refresh, DEFAULT_CLIENT_SECRET}


def assert_never_shown(emu, outputs: list[str], archive: Path, seen: set[str]) -> None:
    """No token, code or secret in any output, in any file of the archive or its database."""
    everything = seen | secrets_of(emu)
    assert len(everything) > 3
    files = [p for p in archive.rglob("*") if p.is_file()] if archive.exists() else []
    blobs = [text.encode() for text in outputs] + [p.read_bytes() for p in files]
    for secret in everything:
        assert not any(secret.encode() in blob for blob in blobs), "a secret was shown"


def test_login_without_a_browser_then_status_whoami_and_logout(emu, env, tmp_path):
    done, url = login_pasting(env)
    assert done.returncode == 0, done.stderr
    config = tmp_path / "config"
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        f"signed in to {emu.api_url} as Ada Lovelace (ada.lovelace@example.com); "
        f"kept in {config / 'credentials.json'}"
    )
    assert "code_challenge_method=S256" in url and "state=" in url
    assert (config / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert config.stat().st_mode & 0o777 == 0o700
    [signin] = stored(env).values()
    assert signin["client_id"] == DEFAULT_CLIENT_ID and signin["lifetime"] == 14 * 86400
    seen = secrets_of(emu)

    status = cli("auth", "status", env=env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[:3] == [
        f"signed in to {emu.api_url} as Ada Lovelace (ada.lovelace@example.com)",
        f"  token: integration sign-in (client id {DEFAULT_CLIENT_ID[:12]}…), kept in "
        f"{config / 'credentials.json'}",
        "  scopes: spark:rooms_read spark:messages_read spark:memberships_read spark:people_read",
    ]
    assert re.fullmatch(
        r"  access token: expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 14 days\), "
        r"renewed as needed",
        lines[3],
    )
    assert re.fullmatch(r"  refresh token: expires .* UTC \(in 90 days\), renewed on use", lines[4])
    whoami = cli("whoami", "--json", env=env)
    assert whoami.returncode == 0 and '"kind": "integration"' in whoami.stdout

    out = cli("logout", env=env)
    assert out.returncode == 0 and out.stderr.startswith(f"signed out of {emu.api_url}: ")
    assert stored(env) == {}
    again = cli("logout", env=env)
    assert again.stderr == f"not signed in to {emu.api_url}: nothing to remove\n"
    after = cli("sync", "--all", env=env)
    assert after.returncode == 2
    assert after.stderr.splitlines()[-1] == (
        f"Error: no Webex token: run `webex-archive login` to sign in to {emu.api_url}, or "
        "pass --token or set WEBEX_ARCHIVE_TOKEN (a personal access token from "
        "developer.webex.com)"
    )
    outputs = [done.stdout, done.stderr, status.stdout, status.stderr, whoami.stdout, out.stderr]
    assert_never_shown(emu, outputs, tmp_path / "archive", seen)


@pytest.mark.parametrize(
    ("decision", "edit", "message"),
    [
        ("approve", lambda u: re.sub(r"state=[^&]+", "state=forged", u),
         "the browser came back with another sign-in's state (an old tab, or a forged link): "
         "run `webex-archive login` again"),
        ("deny", lambda u: u,
         "the sign-in was denied in the browser: run `webex-archive login` to try again"),
        ("approve", lambda u: re.sub(r"code=[^&]+", "code=made-up", u),
         "the Webex sign-in has expired or was revoked (invalid_grant): "
         "run `webex-archive login` again"),
    ],
)  # fmt: skip
def test_a_login_that_fails_says_why_in_one_line_and_keeps_nothing(env, decision, edit, message):
    done, _ = login_pasting(env, decision=decision, edit=edit)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"Error: {message}"
    assert "Traceback" not in done.stderr
    assert not (Path(env["WEBEX_ARCHIVE_CONFIG_DIR"]) / "credentials.json").exists()


def test_login_without_a_client_id_on_a_pipe_is_a_usage_error(env):
    del env["WEBEX_ARCHIVE_CLIENT_ID"]
    result = cli("login", "--no-browser", env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: no Client ID: pass --client-id or set WEBEX_ARCHIVE_CLIENT_ID"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_listener_times_out_in_one_line_and_a_busy_port_is_said(env):
    env["BROWSER"] = "true"  # a "browser" that opens nothing
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    waited = cli("login", "--redirect-uri", redirect, "--timeout", "1", env=env)
    assert waited.returncode == 1
    assert waited.stderr.splitlines()[-1] == (
        "Error: no answer from the browser within 1 s: run `webex-archive login` again "
        "(or with --no-browser)"
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = f"http://localhost:{busy.getsockname()[1]}/callback"
        refused = cli("login", "--redirect-uri", taken, env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"Error: cannot listen on {taken} (Address already in use)")
    remote = cli("login", "--redirect-uri", "https://example.com/cb", env=env)
    assert remote.returncode == 2 and "is not http://localhost:PORT/…" in remote.stderr


def test_a_sync_outlives_several_access_tokens(emu, env, dataset, tmp_path):
    emu.dataset.oauth = OAuthSettings(access_token_seconds=1)
    assert login_pasting(env)[0].returncode == 0
    for path in ("/v1/rooms", "/v1/messages", "/v1/people", "/v1/memberships"):
        emu.add_fault(Rule("delay", rate=1.0, seconds=0.4, path=path))
    emu.log.clear()
    result = cli("sync", "--all", "--workers", "1", env=env)  # 6 s or more: 5 lifetimes
    assert result.returncode == 0, result.stderr
    header, *rows, last = result.stderr.splitlines()
    assert header.split() == ["space", "new", "edited", "deleted", "files", "outcome"]
    assert [row.split()[-1] for row in rows] == ["ok"] * 4
    assert last.startswith(f"synced 4 spaces: {len(dataset.messages)} new, 0 edited, 0 deleted, ")
    log = emu.log.entries()
    renewals = [e for e in log if e.path == "/v1/access_token"]
    assert len(renewals) >= 3 and {e.status for e in renewals} == {200}
    with sqlite3.connect(tmp_path / "archive" / "archive.db") as db:
        ids = {row[0] for row in db.execute("SELECT id FROM messages")}
    assert ids == set(dataset.messages)
    status = cli("auth", "status", env=env)  # the last rotated refresh token still works
    assert status.returncode == 0, status.stderr
    outputs = [result.stdout, result.stderr, status.stdout]
    assert_never_shown(emu, outputs, tmp_path / "archive", set())


def test_an_expired_refresh_token_is_one_line_and_exit_1(emu, env, tmp_path):
    """Both tokens past their lifetimes: the emulator's clock moved beyond the refresh
    token's, and the stored access token (the client's clock) expired: it renews and is
    refused."""
    emu.dataset.oauth = OAuthSettings(access_token_seconds=60, refresh_token_seconds=120)
    assert login_pasting(env)[0].returncode == 0
    emu.clock.advance(121)
    rewrite(env, expires_at=time.time() - 5)
    expected = (
        "Error: the Webex sign-in has expired or was revoked (invalid_grant): "
        "run `webex-archive login` again"
    )
    for args in (["sync", "--all"], ["auth", "status"], ["spaces"]):
        result = cli(*args, env=env)
        assert (result.returncode, result.stderr.strip()) == (1, expected), args


def test_a_signin_revoked_mid_sync_stops_it_in_one_line_keeping_what_was_fetched(
    emu, env, tmp_path
):
    assert login_pasting(env)[0].returncode == 0
    emu.add_fault(Rule("delay", rate=1.0, seconds=0.3, path="/v1/messages"))
    emu.log.clear()
    sync = [*CLI, "sync", "--all", "--workers", "1"]
    process = subprocess.Popen(sync, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while sum(e.path.startswith("/v1/messages") for e in emu.log.entries()) < 3:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    emu.revoke_grants(DEFAULT_CLIENT_ID)  # as a user removing the integration does
    stderr = process.communicate(timeout=60)[1].decode()
    message = (
        "the Webex sign-in has expired or was revoked (invalid_grant): "
        "run `webex-archive login` again"
    )
    assert (process.returncode, stderr) == (1, f"Error: {message}\n")
    with sqlite3.connect(tmp_path / "archive" / "archive.db") as db:
        kept = db.execute("SELECT count(*) FROM messages").fetchone()[0]
        runs = db.execute("SELECT status, error FROM sync_runs").fetchall()
    assert kept >= 120 and runs == [("failed", message)]


def test_two_processes_renewing_at_once_both_succeed_and_the_token_survives(emu, env):
    assert login_pasting(env)[0].returncode == 0
    rewrite(env, expires_at=time.time() - 5)  # both processes find it expired
    emu.add_fault(Rule("delay", rate=1.0, seconds=1.5, path="/v1/access_token", times=1))
    emu.log.clear()
    processes = [
        subprocess.Popen([*CLI, "whoami", "--json"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    results = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results
    assert all('"displayName": "Ada Lovelace"' in out for out, _ in results)
    renewals = [e for e in emu.log.entries() if e.path == "/v1/access_token"]
    assert [e.status for e in renewals] == [200]  # the second used the first's token
    rewrite(env, expires_at=time.time() - 5)
    again = cli("whoami", env=env)  # the stored, rotated refresh token is the live one
    assert again.returncode == 0, again.stderr
    assert [e.status for e in emu.log.entries() if e.path == "/v1/access_token"] == [200, 200]


def test_a_personal_token_on_a_schedule_is_warned_about_and_a_bot_is_not(emu, dataset, env):
    env["WEBEX_ARCHIVE_TOKEN"] = emu.token
    result = cli("sync", "--all", env=env)  # stdin is not a terminal: as under cron
    assert result.returncode == 0, result.stderr
    *_, summary, warning = result.stderr.splitlines()  # last: the sync's own lines first
    assert summary.startswith("synced 4 spaces: ")
    assert warning == (
        "warning: the token given (--token, WEBEX_ARCHIVE_TOKEN or an .ini's mytoken) is a "
        "person's, and a personal access token lasts 12 hours: sign in once with "
        "`webex-archive login` for unattended runs (docs/signin.md)"
    )
    quiet = cli("-q", "sync", "--all", env=env)
    assert (quiet.returncode, quiet.stderr) == (0, "")
    listing = cli("spaces", env=env)  # not a scheduled command
    assert listing.returncode == 0 and "warning" not in listing.stderr
    env["WEBEX_ARCHIVE_TOKEN"] = dataset.bot_token()
    bot = cli("sync", "--all", "--type", "direct", env=env)
    assert bot.returncode == 0 and bot.stderr.startswith("synced 0 spaces: "), bot.stderr
    assert "warning" not in bot.stderr
    status = cli("auth", "status", env=env)
    assert status.stdout.splitlines()[1].startswith(
        "  token: a bot's, from --token or WEBEX_ARCHIVE_TOKEN: it does not expire"
    )


def test_run_with_an_ini_without_a_token_uses_the_signin(emu, dataset, env, tmp_path):
    ini = tmp_path / "webexspacearchive-config.ini"
    ini.write_text(f"[Archive Settings]\nmyspaceid = {group_room(dataset)['id']}\n")
    del env["WEBEX_ARCHIVE_DIR"]
    refused = cli("run", str(ini), env=env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        f"Error: {ini.name}: no token (set mytoken or WEBEX_ARCHIVE_TOKEN, or run "
        "`webex-archive login`)"
    )
    assert login_pasting(env)[0].returncode == 0
    result = cli("run", str(ini), env=env)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # a sign-in is no personal token
    assert (tmp_path / "Project Atlas" / "Project Atlas.html").is_file()


def test_on_a_terminal_login_asks_for_the_client_and_never_echoes_the_secret(env):
    """A real pseudo-terminal, made the process's controlling terminal as a login shell's is:
    the secret is read without echo (getpass), the redirect URL at a prompt."""
    for name in ("WEBEX_ARCHIVE_CLIENT_ID", "WEBEX_ARCHIVE_CLIENT_SECRET"):
        del env[name]
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [*CLI, "login", "--no-browser"], stdin=slave, stdout=slave, stderr=slave, env=env,
        start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )  # fmt: skip
    os.close(slave)
    seen = b""

    def until(text: str) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while text.encode() not in seen:
            assert time.monotonic() < deadline and process.poll() is None, seen
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 65536)

    until("Client ID: ")
    os.write(master, DEFAULT_CLIENT_ID.encode() + b"\n")
    until("Client Secret: ")
    os.write(master, DEFAULT_CLIENT_SECRET.encode() + b"\n")
    until("Redirected URL: ")
    url = re.search(rb"\n  (http\S+)", seen).group(1).decode()
    os.write(master, approve(url).encode() + b"\n")
    until("; kept in ")
    assert process.wait(timeout=30) == 0
    os.close(master)
    assert DEFAULT_CLIENT_SECRET.encode() not in seen
    assert DEFAULT_CLIENT_ID.encode() in seen  # the id is echoed as typed
    assert stored(env)[env["WEBEX_API_URL"]]["client_secret"] == DEFAULT_CLIENT_SECRET

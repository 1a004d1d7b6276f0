"""`webex-archive login` as a test runs it: in a subprocess, with its credentials in a
temporary folder (never the real keyring or home), the consent page approved over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from webex_emulator import Emulator
from webex_emulator.integrations import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

CLI = [sys.executable, "-m", "webex_archive"]


def signin_env(emu: Emulator, tmp_path: Path) -> dict[str, str]:
    """The environment of a user of the emulator's integration, with no token of their own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    env.update(
        WEBEX_API_URL=emu.api_url,
        WEBEX_ARCHIVE_DIR=str(tmp_path / "archive"),
        WEBEX_ARCHIVE_CONFIG_DIR=str(tmp_path / "config"),
        WEBEX_ARCHIVE_CREDENTIALS="file",
        WEBEX_ARCHIVE_CLIENT_ID=DEFAULT_CLIENT_ID,
        WEBEX_ARCHIVE_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
    )
    return env


def cli(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def approve(authorize_url: str, decision: str = "approve") -> str:
    """The consent page answered over HTTP; the redirect URL the browser would be sent to."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    consent = re.search(r'name="consent" value="([^"]+)"', page.text).group(1)
    base = authorize_url.split("?")[0]
    answer = requests.post(
        base, data={"consent": consent, "decision": decision}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def printed_url(stderr_line: str) -> str:
    url = stderr_line.strip()
    assert url.startswith("http"), stderr_line
    return url


def login_pasting(
    env: dict[str, str], *args: str, decision: str = "approve", edit=lambda url: url
) -> tuple[subprocess.CompletedProcess, str]:
    """`login --no-browser`: the printed URL approved, the redirect pasted (``edit`` may
    change it first). The finished process and the URL it printed."""
    process = subprocess.Popen(
        [*CLI, "login", "--no-browser", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    first = process.stderr.readline()
    assert first.startswith("Open this URL in a browser"), first
    url = printed_url(process.stderr.readline())
    stdout, stderr = process.communicate(edit(approve(url, decision)) + "\n", timeout=60)
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done, url


def stored(env: dict[str, str]) -> dict:
    """The credentials file's sign-ins, read as the test's own JSON."""
    path = Path(env["WEBEX_ARCHIVE_CONFIG_DIR"]) / "credentials.json"
    return json.loads(path.read_text())["signins"]


def rewrite(env: dict[str, str], **changes: object) -> None:
    """Change the stored sign-in of the emulator (e.g. make its access token look expired)."""
    path = Path(env["WEBEX_ARCHIVE_CONFIG_DIR"]) / "credentials.json"
    data = json.loads(path.read_text())
    data["signins"][env["WEBEX_API_URL"]].update(changes)
    path.write_text(json.dumps(data))
    path.chmod(0o600)

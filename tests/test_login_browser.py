"""The whole sign-in as a person does it: `login` opens "the browser" (a BROWSER script that
hands the URL to Chromium, driven by Playwright), the emulator's consent page is approved,
login's own listener takes the redirect and shows its page, then `sync` and `render` run on
the stored sign-in. No token, code or secret in any output, page or database."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.render.test_browser import ARGS, CHROMIUM
from tests.signin_helpers import CLI, cli, signin_env
from tests.test_login import assert_never_shown
from tests.webex_emulator.oauth_helpers import SCOPE
from webex_emulator.integrations import Integration


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def recording_browser(folder: Path) -> tuple[str, Path]:
    """A BROWSER command that writes the URL it is given to a file, as a browser opens it."""
    script, url = folder / "browser.sh", folder / "opened-url"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{url}.part" && mv "{url}.part" "{url}"\n')
    script.chmod(0o700)
    return str(script), url


def wait_for(path: Path, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return path.read_text()


def test_login_in_chromium_then_sync_and_render(emu, browser, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        redirect = f"http://127.0.0.1:{probe.getsockname()[1]}/callback"
    emu.add_integration(Integration("Cnightly", "s-nightly", [redirect], name="Nightly archive"))
    browser_command, opened = recording_browser(tmp_path)
    env = signin_env(emu, tmp_path) | {
        "WEBEX_ARCHIVE_CLIENT_ID": "Cnightly",
        "WEBEX_ARCHIVE_CLIENT_SECRET": "s-nightly",
        "BROWSER": browser_command,
    }
    command = [*CLI, "login", "--redirect-uri", redirect, "--scope", SCOPE]
    login = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    url = wait_for(opened, login)
    problems: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(url)
    assert page.locator("h1").inner_text() == (
        "Nightly archive would like to access your Webex account"
    )
    assert page.locator("#scopes li").all_inner_texts() == SCOPE.split()
    page.click("#approve")
    page.wait_for_url(f"{redirect}?*")
    assert page.locator("h1").inner_text() == "Signed in"
    assert page.locator("p").inner_text() == ("You can close this tab and go back to the terminal.")
    page.close()
    stdout, stderr = login.communicate(timeout=60)
    assert login.returncode == 0, stderr
    assert stderr.startswith("Opened your browser to sign in to Webex. If it did not open, visit:")
    assert stderr.splitlines()[-1].startswith(f"signed in to {emu.api_url} as Ada Lovelace")
    assert problems == []

    synced = cli("sync", "--all", env=env)
    assert synced.returncode == 0, synced.stderr
    assert synced.stderr.splitlines()[-1].startswith("synced 4 spaces: ")
    rendered = cli("render", "--all", env=env)
    assert rendered.returncode == 0, rendered.stderr
    pages = [Path(line) for line in rendered.stdout.splitlines()]
    assert len(pages) == 5 and all(p.is_file() for p in pages)  # and the home page, last
    assert pages[-1].name == "index.html"
    outputs = [stdout, stderr, synced.stdout, synced.stderr, rendered.stdout, rendered.stderr]
    assert_never_shown(emu, outputs, tmp_path / "archive", {"s-nightly"})

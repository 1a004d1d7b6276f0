"""End to end: a sync with every download never shows the token to another host (issue 13).

The emulator's data points message files, avatars, a redirect and a next-page link at two
other local servers, one plain HTTP and one HTTPS (a throwaway certificate the sync is told to
trust), which record every request and its ``Authorization`` header. The sync runs as the
user runs it: ``webex-archive sync --all --download files --avatars download`` in a process.
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import group_room, make_dataset
from webex_emulator import Emulator, Rule

BODY = b"bytes from elsewhere\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


class Recorder(ThreadingHTTPServer):
    """Answers anything (a file, an avatar, an empty message page) and records each request's
    method, path and Authorization header."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, str | None]] = []
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if context else "http"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gives up mid-handshake is not the test's concern


class _Handler(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        kind, body = "text/plain", BODY
        if self.path.startswith("/avatar"):
            kind, body = "image/png", PNG
        elif self.path.startswith("/v1/"):
            kind, body = "application/json", b'{"items": []}'
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Disposition", 'attachment; filename="elsewhere.txt"')
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def certificate(tmp_path) -> Path:
    """A self-signed certificate for 127.0.0.1, in one PEM file with its key."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert


@pytest.fixture
def servers(certificate, tmp_path) -> Iterator[tuple[Recorder, Recorder]]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, tmp_path / "key.pem")
    plain, tls = Recorder(), Recorder(context)
    yield plain, tls
    for server in (plain, tls):
        server.shutdown()
        server.server_close()


def test_no_token_reaches_another_host(servers, certificate, tmp_path):
    plain, tls = servers
    dataset = make_dataset(messages=40, spaces=2)
    first, second = group_room(dataset, 0), group_room(dataset, 1)
    with Emulator(dataset) as emu:
        emu_host = emu.url.removeprefix("http://")
        hostile = [
            f"{plain.url}/v1/contents/plain",  # another host, said plainly
            f"{tls.url}\\@files.webex.com/v1/contents/backslash",  # the reported trick
            f"https://files.webex.com\\@{tls.url.removeprefix('https://')}/v1/contents/b2",
            f"http://user@{emu_host}/v1/contents/userinfo",
            f"{tls.url}/v1/contents/tls",
        ]
        redirected = emu.post_message(
            first["id"], "redirected", files=[{"filename": "r.txt", "data": b"r"}]
        )
        emu.post_message(first["id"], "hostile files", files=[{"url": u} for u in hostile])
        content_path = f"/v1/contents/{redirected['files'][0]}"
        emu.add_fault(
            Rule("redirect", path=content_path, rate=1.0, location=f"{plain.url}/redirected")
        )
        emu.add_fault(
            Rule("redirect", path="/avatars/", rate=1.0, location=f"{tls.url}/avatar/redirected")
        )
        emu.add_fault(
            Rule("next_link", path=f"/v1/messages?roomId={second['id']}", rate=1.0,
                 location=f"{plain.url}/v1/messages?roomId={second['id']}")
        )  # fmt: skip
        people = sorted(dataset.people)
        for index, person_id in enumerate(people[: len(people) // 2]):
            server = (plain, tls)[index % 2]
            dataset.people[person_id]["avatar"] = f"{server.url}/avatar/{index}"

        result = run_sync(emu, tmp_path / "archive", certificate)
        emu_api_url = emu.api_url

    seen = plain.seen + tls.seen
    assert [auth for _, _, auth in seen if auth] == []  # the point of the test
    paths = {path for _, path, _ in seen}
    assert "/redirected" in paths and "/avatar/redirected" in paths  # the hops were made
    assert any(p.startswith("/avatar/") and p != "/avatar/redirected" for p in paths)
    assert not any("/v1/" in p for p in paths)  # neither the hostile files nor the next link
    assert result.returncode == 1, result.stderr  # the space with the foreign next link fails
    assert f"Webex sent a next-page link to another host ({plain.url})" in result.stderr
    with sqlite3.connect(tmp_path / "archive" / "archive.db") as db:
        rows = dict(db.execute("SELECT url, status FROM files WHERE url LIKE '%/contents/%'"))
        errors = dict(db.execute("SELECT url, error FROM files WHERE status = 'failed'"))
    assert {url: rows[url] for url in hostile} == dict.fromkeys(hostile, "failed")
    assert all("not sent the token" in errors[url] for url in hostile)
    assert (
        rows[emu_api_url + content_path.removeprefix("/v1")] == "downloaded"
    )  # from the redirect, without the token
    assert BODY in [p.read_bytes() for p in (tmp_path / "archive").rglob("*.txt")]


def run_sync(emu: Emulator, archive: Path, certificate: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    env |= {"REQUESTS_CA_BUNDLE": str(certificate), "NO_PROXY": "*"}
    command = [sys.executable, "-m", "webex_archive", "--archive", str(archive), "--api-url",
               emu.api_url, "--token", emu.token, "sync", "--all", "--download", "files",
               "--avatars", "download"]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_the_recorder_does_see_a_token_when_one_is_sent(servers, certificate):
    """The test above is not vacuous: both servers record the header when it comes."""
    import requests

    plain, tls = servers
    for server in (plain, tls):
        headers = {"Authorization": "Bearer x"}
        requests.get(f"{server.url}/f", headers=headers, timeout=10, verify=str(certificate))
        assert server.seen[-1] == ("GET", "/f", "Bearer x")

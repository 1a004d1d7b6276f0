"""``webex-archive run`` with the old tool's .ini files, and ``init-config``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import group_room

CLI = [sys.executable, "-m", "webex_archive"]


def run(*args: str, cwd, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, env={**clean, **env}, timeout=120
    )


def write_ini(path, **values) -> None:
    lines = ["[Archive Settings]"] + [f"{key} = {value}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")


def test_run_syncs_and_renders_beside_the_ini(emu, dataset, tmp_path):
    room = group_room(dataset)
    write_ini(
        tmp_path / "webexspacearchive-config.ini",
        mytoken=emu.token,
        myspaceid=room["id"],
        download="files ; keep everything",
        useravatar="download",
        maxtotalmessages="50",
        outputfilename="atlas.html",
        sortoldnew="no",
        outputjson="both",
        blurring="yes",
        dst_start="L,7,3  ; (last Sunday of March)",
        dst_stop="L,7,10",
    )
    result = run("run", cwd=tmp_path, env={"WEBEX_API_URL": emu.api_url})
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "Project Atlas"
    assert result.stdout.splitlines() == [  # relative, like the .ini's own path
        *(f"Project Atlas/atlas.{f}" for f in ("html", "json", "txt")),
        "blurred/index.html",  # the home page of blurred renderings
    ]
    assert "dst_start" in result.stderr  # reported as unnecessary
    assert (tmp_path / "archive.db").exists()
    document = json.loads((folder / "atlas.json").read_text())
    assert document["statistics"]["in_window"] == 50
    assert document["filters"]["sort"] == "newest"
    html = (folder / "atlas.html").read_text()
    assert "Grace Hopper" not in html and "Person " in html
    downloaded = [p for sub in ("files", "images") for p in (folder / sub).glob("*")]
    assert downloaded and (folder / "avatars").is_dir()


def test_several_ini_files_one_failing(emu, dataset, tmp_path):
    room = group_room(dataset)
    write_ini(
        tmp_path / "good.ini", mytoken=emu.token, myspaceid=room["id"], maxtotalmessages="20d"
    )
    write_ini(
        tmp_path / "bad.ini",
        mytoken=emu.token,
        myspaceid="Y2lzY29zcGFyazovL3VzL1JPT00veA",
        download="sometimes",
    )
    result = run("run", "good.ini", "bad.ini", cwd=tmp_path, env={"WEBEX_API_URL": emu.api_url})
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["Project Atlas/Project Atlas.html", "index.html"]
    assert "Error: bad.ini: download = 'sometimes' is not one of: " in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "1 of 2 configurations failed"


def test_the_env_token_wins_and_a_space_argument_overrides(emu, dataset, tmp_path):
    other = group_room(dataset, 1)
    write_ini(
        tmp_path / "x.ini", mytoken="__YOUR_TOKEN_HERE__", myspaceid="", maxtotalmessages="10"
    )
    result = run(
        "run",
        "x.ini",
        other["title"],
        cwd=tmp_path,
        env={"WEBEX_API_URL": emu.api_url, "WEBEX_ARCHIVE_TOKEN": emu.token},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Design reviews/Design reviews.html", "index.html"]


def test_missing_ini_and_init_config(tmp_path):
    missing = run("run", cwd=tmp_path, env={})
    assert missing.returncode == 1
    assert (
        missing.stderr.strip().startswith("Error: ")
        and "webexspacearchive-config.ini" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    first = run("init-config", cwd=tmp_path, env={})
    assert first.returncode == 0 and (tmp_path / "webexspacearchive-config.ini").exists()
    again = run("init-config", cwd=tmp_path, env={})
    assert again.returncode == 1 and "not overwritten" in again.stderr

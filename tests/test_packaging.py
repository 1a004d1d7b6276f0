"""The wheel works on its own: built, installed into a fresh venv, run from another folder."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from render.version import VERSION

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_runs_the_demo_elsewhere(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("webex_space_archive-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "etl/store/schema.sql",
        "render/templates/page.html.j2",
        "render/templates/style.css",
        "render/templates/script.js",
    ):
        assert shipped in names
    assert not any(name.startswith("tests/") for name in names)
    venv = tmp_path / "venv"
    # A venv without pip of its own, filled by this pip (--python): installing pip into it
    # cost some 5 s of CPU; compiling what it installs, more (the venv is used once).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = ["install", "-q", "--no-compile", str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), *install],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tool = venv / "bin" / "webex-archive"
    # 40 messages a space, as tests/test_cli.py's demo: what is tested is that the installed
    # tool finds its schema and templates; the default data set cost 3.5 CPU s more.
    demo = subprocess.run(
        [tool, "demo", "--messages", "40"], cwd=elsewhere, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert (elsewhere / "webex-archive-demo" / "Project Atlas" / "Project Atlas.html").exists()
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout == f"webex-archive, version {VERSION}\n"  # the one source: pyproject's
    assert wheel.name.startswith(f"webex_space_archive-{VERSION}-")  # version is read from it
    metadata = subprocess.run(
        [tool, "datasette-metadata"], capture_output=True, text=True, check=True, cwd=elsewhere
    )
    assert "messages" in json.loads(metadata.stdout)["databases"]["archive"]["tables"]

"""Every rendered page is valid HTML5, as the Nu Html Checker (vnu.jar) judges it.

An archive is read for years, by browsers not yet written: valid markup is what they are
guaranteed to parse the same way. Hostile bodies are the hard case (blocks inside inline
elements, stray list items, nesting past the browsers' depth limit, odd URLs), so every page
of the hostile archive is checked (plain, --blur, --split month parts and indexes, the
archive's home page) and zero errors are required.

vnu.jar comes from npm (``tools/vnu``: ``npm ci --ignore-scripts``) and runs on the machine's
Java (``apt-get install default-jre-headless``); ``VNU_JAR`` may point at another copy. All
pages go to one JVM: starting it costs seconds, checking a page milliseconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.security.conftest import Hostile

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = Path(
    os.environ.get("VNU_JAR") or ROOT / "tools/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
)
INSTALL = (
    "install the checker: `apt-get install -y default-jre-headless` and "
    "`cd tools/vnu && npm ci --ignore-scripts` (or set VNU_JAR to a vnu.jar)"
)


def vnu(pages: list[Path]) -> list[dict]:
    """Error messages of the Nu Html Checker for ``pages`` (one JVM for all of them)."""
    java = shutil.which("java")
    if java is None:
        pytest.fail(f"no java on PATH: {INSTALL}")
    if not VNU_JAR.is_file():
        pytest.fail(f"{VNU_JAR} is missing: {INSTALL}")
    # C1 alone (TieredStopAtLevel=1) halves the checker's CPU time: the run is too short for
    # C2's optimising to pay off. C1's frames are deeper, so the schema's recursion needs more
    # than the default thread stack (vnu asks for at least 512k; 4m leaves room). The serial
    # collector: G1's threads cost some 0.8 s of system CPU a run here (a variant's pages: 6.0-7.6
    # CPU s against 7.3-9.6, 2026-12-07), and a run this short needs no concurrent collection.
    command = [java, "-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    command += ["-jar", str(VNU_JAR)]
    command += ["--errors-only", "--format", "json"]
    result = subprocess.run(
        [*command, *map(str, pages)], capture_output=True, text=True, timeout=300
    )
    try:
        report = json.loads(result.stderr)
    except ValueError:
        pytest.fail(f"vnu did not answer in JSON (exit {result.returncode}): {result.stderr[:500]}")
    return report["messages"]


@pytest.mark.parametrize("variant", ["page", "blur", "split"])
def test_every_rendered_page_is_valid_html5(hostile_archive: Hostile, variant: str) -> None:
    """One checker run per variant, so that xdist runs the three side by side (one run for
    all of them held a worker 70-90 s on a loaded machine: the catalogue pages are large)."""
    pages = hostile_archive.html(variant)
    assert len(pages) >= 11  # every one of the eleven spaces, at least a page each
    if variant == "page":
        pages.append(hostile_archive.archive / "index.html")  # the home page, hostile titles
    errors = [
        f"{Path(m.get('url', '?')).name}:{m.get('lastLine')}: {m['message']} "
        f"[{m.get('extract', '')[:80]!r}]"
        for m in vnu(pages)
    ]
    assert errors == []


def test_the_checker_finds_what_it_is_trusted_to_find(tmp_path: Path) -> None:
    """A zero from the checker means something only if it reports the mistakes fixed here."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><title>x</title><b><p>block in inline</p></b>'
        '<ul>text</ul><time datetime="2024-05-28T12:54:37.466000+02:00">t</time>'
        '<a href="a b.html">space</a><img alt="">',
        encoding="utf-8",
    )
    messages = " | ".join(m["message"] for m in vnu([page]))
    for expected in (
        "Element “p” not allowed as child of element “b”",
        "Text not allowed in element “ul”",
        "A fraction of a second must be one, two, or three digits",
        "Space is not allowed",
        "Element “img” is missing one or more of the following attributes",
    ):
        assert expected in messages

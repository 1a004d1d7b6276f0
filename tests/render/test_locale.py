"""An archive is the same bytes whatever the machine's locale: English month and day names.

A program that embeds the renderer may switch the process to the user's locale (Python itself
leaves LC_TIME alone), and then ``strftime("%B")`` says "März". The render runs in a child
process that does exactly that under ``de_DE.UTF-8``, and its output is compared with a
render under the C locale, byte for byte but for the nonce and the generation time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# An embedding program: the user's locale for everything, then the command line in-process.
CHILD = """
import locale, runpy, sys
from datetime import date
locale.setlocale(locale.LC_ALL, "")
if date(2024, 3, 1).strftime("%B %a") != "März Fr":
    sys.exit("the German locale is not in effect")
sys.argv = ["webex-archive", *sys.argv[1:]]
runpy.run_module("webex_archive", run_name="__main__", alter_sys=True)
"""
GERMAN = {"LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8", "LC_TIME": "de_DE.UTF-8"}
RUN_PARTS = [  # what differs between two renders of the same archive
    (re.compile(r"nonce-[\w-]+|nonce=\"[\w-]+\""), "nonce"),
    (re.compile(r"<dt>Generated</dt><dd>[^<]*</dd>"), "generated"),
    (re.compile(r"Generated at: .*"), "generated"),
    (re.compile(r'"generated_at": "[^"]*"'), "generated"),
]


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a German child process: an installed de_DE.UTF-8, else one that
    localedef compiles into a temporary folder from glibc's locale sources."""
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False)
    if re.search(r"^de_DE\.utf-?8$", listed.stdout, re.I | re.M):
        return GERMAN
    folder = tmp_path_factory.mktemp("locales")
    try:
        subprocess.run(
            ["localedef", "-i", "de_DE", "-f", "UTF-8", str(folder / "de_DE.UTF-8")],
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.fail(
            f"no de_DE.UTF-8 locale and localedef could not make one ({error}); install "
            "glibc's locale sources (Debian/Ubuntu: apt-get install locales)"
        )
    return GERMAN | {"LOCPATH": str(folder)}


def render(archive: Path, out: Path, env: dict[str, str], child: bool) -> dict[str, str]:
    """Render every format of the small archive into ``out``; return the files' texts with
    the per-run parts replaced."""
    command = ["-c", CHILD] if child else ["-m", "webex_archive"]
    result = subprocess.run(
        [sys.executable, *command, "--archive", str(archive), "render", "--all", "--format",
         "html,json,txt", "--tz", "Europe/Amsterdam", "--output", str(out)],
        env={**os.environ, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    texts = {}
    for path in sorted(out.iterdir()):
        text = path.read_text(encoding="utf-8")
        for pattern, stand_in in RUN_PARTS:
            text = pattern.sub(stand_in, text)
        texts[path.suffix] = text
    return texts


def test_month_names_are_english_under_a_german_locale(
    small_archive: Path, tmp_path: Path, german: dict[str, str]
) -> None:
    german_texts = render(small_archive, tmp_path / "de", german, child=True)
    html, txt = german_texts[".html"], german_texts[".txt"]
    assert re.findall(r'<li><a href="#m-([\d-]+)">(\w+)</a>', html) == [
        ("2024-02", "February"),
        ("2024-03", "March"),
        ("2024-04", "April"),
    ]
    assert re.findall(r'<section class="month" id="m-[\d-]+" aria-label="([^"]+)">', html) == [
        "February 2024",
        "March 2024",
        "April 2024",
    ]
    assert re.findall(r"^-{10} (.+) -{10}$", txt, re.M) == [
        "February 2024",
        "March 2024",
        "April 2024",
    ]
    assert "Sun 31 Mar 2024 03:30" in html and "Sun 2024-03-31 03:30" in txt
    plain = render(small_archive, tmp_path / "c", {"LC_ALL": "C", "LANG": "C"}, child=False)
    assert german_texts == plain

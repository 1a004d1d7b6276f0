"""A killed or a concurrent ``render`` never leaves a page that is not whole.

Issue 13, items 5 and 6. The real command renders a biggish space (HTML, JSON and TXT) in a
subprocess. Killed with SIGKILL at random moments (seeded), each output file must still be a
complete page from the last good render, and the next render must leave no temporary file.
Five renders of every space at once must all succeed, and each page must be one render's
whole page (one CSP nonce; the page's own script is blocked by a second one).

A killed render's worker process (render/bodies.py) must end too: it used to wait forever.

Two renders of the same archive differ only in the CSP nonce and the time of generation;
``normal`` removes both, so "whole" is checked as "equal to a complete reference render".
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from render.custody import custody_path
from render.manifest import manifest_path
from render.search_index import index_path
from tests.conftest import make_dataset
from tests.reliability.helpers import run_sync
from webex_emulator import Emulator
from webex_layout import DB_NAME, HOME_PAGE, TEMP_PREFIX, TEMP_SUFFIX

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261206
KILLS = 10
RENDERERS = 5
ORPHAN_SECONDS = 5.0
FORMATS = ("html", "json", "txt")
NONCE = re.compile(r"nonce(?:-|=\")([A-Za-z0-9_-]+)")
# Each test runs the command a dozen times: beyond pytest's 120 s on a loaded machine.
pytestmark = pytest.mark.timeout(600)


def render(archive: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "webex_archive", "--archive", str(archive), "-q"]
    return subprocess.Popen(
        [*argv, "render", "--all", "--format", ",".join(FORMATS)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its group: the render and any worker it forked
    )


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the render alone, as the OOM killer or ``kill -9 PID`` does; whatever it
    started must end on its own within seconds (then the pipes close)."""
    process.send_signal(signal.SIGKILL)  # a no-op if it has just completed
    process.wait()
    deadline = time.monotonic() + ORPHAN_SECONDS
    while alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("a process of the killed render lived on")
    process.communicate()


def alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def finish(process: subprocess.Popen) -> list[Path]:
    """Wait for a render; it must succeed. Returns the files it wrote."""
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode()
    return [Path(line) for line in stdout.decode().splitlines()]


def normal(path: Path) -> object:
    """The file's content without what differs between two renders (nonce, generation time)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document = json.loads(text)  # a cut document does not parse
        document.pop("generated_at")
        return document
    if path.suffix == ".html":
        assert len(set(NONCE.findall(text))) == 1, f"{path}: not one render's page"
        text = NONCE.sub("nonce", text)
        return re.sub(r"<dt>Generated</dt><dd>[^<]*</dd>", "", text)
    return re.sub(r"(?m)^Generated at: .*$", "", text)


def leftovers(archive: Path) -> list[Path]:
    return sorted(archive.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"))


@pytest.fixture
def archive(tmp_path) -> Path:
    """A group space of 2,000 messages and a direct space, synced."""
    dataset = make_dataset(messages=2000, spaces=1, hostile_rate=0)
    with Emulator(dataset) as emu:
        _, db = run_sync(emu, tmp_path / "archive", list(dataset.rooms))
        db.close()
    return tmp_path / "archive"


def test_a_killed_render_leaves_the_last_whole_page(archive):
    started = time.monotonic()
    written = finish(render(archive))
    duration = time.monotonic() - started
    pages = [p for p in written if p != archive / HOME_PAGE]  # and the home page, last
    assert written[-1] == archive / HOME_PAGE
    assert sorted(p.suffix for p in pages) == sorted([f".{fmt}" for fmt in FORMATS] * 2)
    searches = [index_path(p) for p in pages if p.suffix == ".html"]  # each page's search file
    reference = {path: normal(path) for path in [*written, *searches]}
    rng, cut_short = random.Random(SEED), 0
    for _ in range(KILLS):
        process = render(archive)
        time.sleep(rng.uniform(0.2, duration))
        kill(process)
        cut_short += bool(leftovers(archive))
        for path, content in reference.items():
            assert normal(path) == content, f"{path} is not whole after a kill"
    assert cut_short, "no kill landed while a file was being written: kill later"
    assert sorted(finish(render(archive))) == sorted(written)
    assert leftovers(archive) == []
    assert {path: normal(path) for path in [*written, *searches]} == reference
    names = {p.relative_to(archive) for p in archive.rglob("*") if p.is_file()}
    manifests = {manifest_path(p).relative_to(archive) for p in pages}  # what was written
    manifests |= {custody_path(p).relative_to(archive) for p in pages}  # and from what
    assert names - {Path(DB_NAME + s) for s in ("-wal", "-shm")} == {
        Path(DB_NAME),
        *(p.relative_to(archive) for p in [*written, *searches]),
        *manifests,
    }


def test_concurrent_renders_each_write_whole_pages(archive):
    written = finish(render(archive))
    reference = {path: normal(path) for path in written}
    processes = [render(archive) for _ in range(RENDERERS)]
    for process in processes:
        assert sorted(finish(process)) == sorted(written)
    assert {path: normal(path) for path in written} == reference
    assert leftovers(archive) == []

"""The bodies worker (render/bodies.py) must not change a byte: the same pages with the worker
forced on (chunks of two rows, so the small test space takes many) and forced off."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from render import bodies, query
from render.html import write_html
from render.json import write_json
from render.page import RenderOptions, build_page
from tests.render.conftest import SPACE_ID
from tests.render.test_text_json import AMSTERDAM, GENERATED

WRITERS = {"json": write_json, "html": write_html}


def rendered(archive: Path, fmt: str, out: Path, **options: object) -> bytes:
    """The page of the test space as ``fmt``, with a fixed generation time (and nonce)."""
    conn = query.connect(archive)
    try:
        space = query.find_spaces(conn, [SPACE_ID], False)[0]
        chosen = RenderOptions(zone=AMSTERDAM, output=out, **options)  # type: ignore[arg-type]
        page = build_page(conn, archive, space, chosen, fmt, query.meta(conn))
        page.generated_at = GENERATED
        WRITERS[fmt](page)
        return page.path.read_bytes()
    finally:
        conn.close()


@pytest.mark.parametrize("fmt", ["json", "html"])
@pytest.mark.parametrize("blur", [False, True])
def test_worker_gives_the_same_bytes(small_archive, tmp_path, monkeypatch, fmt, blur):
    monkeypatch.setattr(bodies, "CHUNK", 2)
    # The suite's process has threads (emulator, browser), where the worker is never forked:
    # a spawned one runs the same code, so the worker path is tested whatever runs beside it.
    monkeypatch.setattr(bodies, "_fork_context", lambda: multiprocessing.get_context("spawn"))
    monkeypatch.setattr("render.html.secrets.token_urlsafe", lambda size: "fixed-nonce")
    pools: list[int] = []

    class Counted(bodies.ProcessPoolExecutor):
        def submit(self, *args: object, **kwargs: object):  # type: ignore[override]
            pools.append(1)
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(bodies, "ProcessPoolExecutor", Counted)
    calls: list[int] = []
    original = bodies._chunk_bodies

    def counted(*args: object) -> bodies.Bodies:
        calls.append(1)
        return original(*args)  # type: ignore[arg-type]

    worker = rendered(small_archive, fmt, tmp_path / "worker", blur=blur)
    assert len(pools) > 2  # many chunks went to the worker
    monkeypatch.setattr(bodies, "_fork_context", lambda: None)
    monkeypatch.setattr(bodies, "_chunk_bodies", counted)
    alone = rendered(small_archive, fmt, tmp_path / "alone", blur=blur)
    assert not calls  # in-process: no chunks handed out
    assert worker == alone
    assert len(worker) > 1000


def test_rows_keep_their_order_and_bodies():
    rows = [(f"<p>{n}</p>" if n % 3 else None, f"text {n}") for n in range(23)]
    expected = [(row, bodies.body(row[0], row[1], None, True, True)) for row in rows]
    assert len(rows) < bodies.CHUNK  # a small window stays in-process
    assert list(bodies.with_bodies(iter(rows), (0, 1), None, True, True)) == expected


ORDER = """
import sys
from render import bodies
bodies.CHUNK = 4
assert bodies._fork_context() is not None, "a one-thread process on 2+ cores forks a worker"
rows = [(f"<b>{n}</b>" if n % 2 else None, f"line {n}\\nnext") for n in range(41)]
expected = [(row, bodies.body(row[0], row[1], None, True, False)) for row in rows]
assert list(bodies.with_bodies(iter(rows), (0, 1), None, True, False)) == expected
print("ok")
"""


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods(),
    reason="one core or no fork: render never starts the worker here",
)
def test_a_forked_worker_keeps_order_in_a_fresh_process():
    """As `webex-archive render` runs it: one thread, so the worker is forked."""
    result = subprocess.run(
        [sys.executable, "-c", ORDER], capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")

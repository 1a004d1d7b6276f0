"""The bodies worker (render/bodies.py) must not change a byte: the same pages with the worker
on (chunks of two rows, so the small test space takes many) and off."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from render import bodies, query
from render.html import write_html
from render.json import write_json
from render.page import RenderOptions, build_page
from tests.render.conftest import SPACE_ID
from tests.render.forked import FORKS, fresh
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


SAME_BYTES = """
import sys
from pathlib import Path
from render import bodies, worker
from tests.render.test_bodies import rendered
import render.html
archive, out = Path(sys.argv[1]), Path(sys.argv[2])
render.html.secrets.token_urlsafe = lambda size: "fixed-nonce"
bodies.CHUNK = 2
tasks = []
submit = worker.Worker.submit
worker.Worker.submit = lambda self, *task: (tasks.append(1), submit(self, *task))[1]
for fmt in ("json", "html"):
    for blur in (False, True):
        bodies.can_fork = worker.can_fork
        before = len(tasks)
        forked = rendered(archive, fmt, out / f"worker-{fmt}-{blur}", blur=blur)
        handed_out = len(tasks) - before
        bodies.can_fork = lambda: False
        alone = rendered(archive, fmt, out / f"alone-{fmt}-{blur}", blur=blur)
        assert len(tasks) == before + handed_out, "in-process: no chunks handed out"
        assert forked == alone, (fmt, blur)
        print(fmt, blur, handed_out > 2, len(forked) > 1000)
"""


@FORKS
def test_worker_gives_the_same_bytes(small_archive, tmp_path):
    """Chunks of two rows, so the small test space takes many, in a fresh process: the
    suite's own has threads (emulator, browser), where the worker is never forked."""
    result = fresh(SAME_BYTES, str(small_archive), str(tmp_path), timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"{fmt} {blur} True True" for fmt in ("json", "html") for blur in (False, True)
    ]


def test_rows_keep_their_order_and_bodies():
    rows = [(f"<p>{n}</p>" if n % 3 else None, f"text {n}") for n in range(23)]
    expected = [(row, bodies.body(row[0], row[1], None, True, True)) for row in rows]
    assert len(rows) < bodies.CHUNK  # a small window stays in-process
    assert list(bodies.with_bodies(iter(rows), (0, 1), None, True, True)) == expected


ORDER = """
import sys
from render import bodies
bodies.CHUNK = 4
assert bodies.can_fork(), "a one-thread process on 2+ cores forks a worker"
rows = [(f"<b>{n}</b>" if n % 2 else None, f"line {n}\\nnext") for n in range(41)]
expected = [(row, bodies.body(row[0], row[1], None, True, False)) for row in rows]
assert list(bodies.with_bodies(iter(rows), (0, 1), None, True, False)) == expected
print("ok")
"""


@FORKS
def test_a_forked_worker_keeps_order_in_a_fresh_process():
    """As `webex-archive render` runs it: one thread, so the worker is forked."""
    result = fresh(ORDER, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


def _made(html: str | None, text: str | None, want_plain: bool) -> object:
    """``body``'s (html, plain) of a message for a writer without HTML, or what it raised."""
    try:
        return bodies.body(html, text, None, False, want_plain)
    except Exception as error:
        return type(error)


_SOURCES = st.one_of(st.none(), st.just(""), st.text(), st.text().map(lambda s: f"<p>{s}</p>"))


@given(st.lists(st.tuples(_SOURCES, _SOURCES), max_size=8))
def test_plain_bodies_are_bodys_answers(sources):
    """A writer of plain text alone without --blur (RSMF, TXT, Slack) takes a row's text as
    its plain body and asks ``body`` only where there is none: the answers are ``body``'s
    for any html and text, None, empty, surrogates, markup or long, row for row."""
    rows = [(html, text, n) for n, (html, text) in enumerate(sources)]
    try:
        fast = [(row, made) for row, made in bodies.with_bodies(rows, (0, 1), None, False, True)]
    except Exception as error:  # body raised for a row: it must for the general path too
        assert type(error) in [_made(html, text, True) for html, text, _ in rows]
        return
    assert fast == [(row, _made(row[0], row[1], True)) for row in rows]


def test_plain_bodies_of_long_texts_and_html_alone():
    long = "word " * 200_000
    rows = [(None, long), ("<b>bold</b> and <i>more</i>", None), ("<p>x</p>", "x"), (None, None)]
    made = [plain for _, (_, plain) in bodies.with_bodies(rows, (0, 1), None, False, True)]
    assert made == [long, "bold and more", "x", ""]
    assert made == [bodies.body(html, text, None, False, True)[1] for html, text in rows]

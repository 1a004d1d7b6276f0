"""The bytes of the .rsmf files (render/rsmf_zip.py): the same made by the forked sink as in
this process, with the zips in memory or spilled to a nameless file, and a failed write
fails the rendering in one line, leaving no temporary file and the other files whole."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from render import RenderOptions, render_spaces, rsmf_zip
from render.output import begin_binary
from render.page import build_page
from render.query import RenderError, connect, meta
from render.rsmf import write_rsmf
from render.rsmf_message import _folded, base64_lines, field
from render.window import Window
from tests.render.conftest import SPACE_ID
from tests.render.forked import FORKS, fresh
from tests.render.test_rsmf import AMSTERDAM, falcon, read_all  # noqa: F401 (a fixture)
from webex_layout import UnsafePath


def written_bytes(archive: Path, limit: int, blur: bool = False) -> dict[str, bytes]:
    """Every .rsmf of the test space, at most ``limit`` events each (so that files split
    and a thread's first message is repeated), by name."""
    conn = connect(archive)
    try:
        space = dict(conn.execute("SELECT * FROM spaces WHERE id = ?", [SPACE_ID]).fetchone())
        options = RenderOptions(formats=("rsmf",), zone=AMSTERDAM, blur=blur)
        window = Window(conn, SPACE_ID, options.filters)
        page = build_page(conn, archive, space, options, "rsmf", meta(conn), window)
        paths = write_rsmf(page, limit)
        window.close()
        return {path.name: path.read_bytes() for path in paths}
    finally:
        conn.close()


SAME_BYTES = """
import sys
from pathlib import Path
from render import rsmf, rsmf_zip, worker
from tests.render.test_rsmf_zip import written_bytes, leftovers
archive = Path(sys.argv[1])
forks = []
start = worker.Sink.__init__
worker.Sink.__init__ = lambda self, function: (forks.append(1), start(self, function))[1]
assert worker.can_fork(), "a one-thread process on 2+ cores forks"
for blur in (False, True):
    rsmf.FORK_FROM, rsmf.BATCH, rsmf_zip.SPOOL = 1, 2, 64  # many batches; zips spill to files
    forked = written_bytes(archive, 2, blur)
    assert len(forks) == rsmf.SINKS == 2, forks
    rsmf.FORK_FROM, rsmf.BATCH, rsmf_zip.SPOOL = 10**9, 200, 1 << 20
    alone = written_bytes(archive, 2, blur)
    assert len(forks) == 2, "in-process: no sink"
    assert forked == alone
    forks.clear()
    print(blur, len(forked), sum(map(len, forked.values())) > 10_000)
assert leftovers(archive) == []
"""


def leftovers(archive: Path) -> list[str]:
    """What the writers' temporary files left in the space's folder."""
    return [p.name for p in (archive / "Project Falcon").iterdir() if p.name.startswith(".webex")]


@FORKS
def test_the_sink_writes_the_bytes_this_process_writes(falcon):  # noqa: F811 (the fixture)
    """In a fresh process (the suite's own has threads, where no sink is forked): two
    events a file, two a batch, zips of more than 64 bytes on nameless files; --blur too."""
    result = fresh(SAME_BYTES, str(falcon), timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["False 16 True", "True 16 True"]


def test_spilled_zips_give_the_same_bytes(falcon, monkeypatch):  # noqa: F811 (the fixture)
    """A zip beyond SPOOL bytes goes on to a file without a name: the same .rsmf bytes."""
    held = written_bytes(falcon, 2)
    monkeypatch.setattr(rsmf_zip, "SPOOL", 64)
    assert written_bytes(falcon, 2) == held and len(held) == 16
    assert read_all([falcon / "Project Falcon" / name for name in held])
    assert leftovers(falcon) == []


def break_one_day(archive: Path) -> tuple[Path, list[Path]]:
    """Render once; then a folder where one day's file goes, so that its rename fails."""
    render = render_spaces(archive, [SPACE_ID], False, RenderOptions(formats=("rsmf",)))
    broken = render[3]
    broken.unlink()
    broken.mkdir()
    return broken, render


def check_failed(archive: Path, broken: Path, before: list[Path]) -> None:
    """The others are whole, none is missing, no temporary file is left."""
    assert broken.is_dir() and all(p.is_file() for p in before if p != broken)
    assert read_all([p for p in before if p != broken])
    assert leftovers(archive) == []


def test_a_file_that_cannot_be_written_fails_the_render(falcon):  # noqa: F811 (the fixture)
    broken, before = break_one_day(falcon)
    with pytest.raises(IsADirectoryError):  # the writer's own error, not a later step's
        written_bytes(falcon, 10_000)
    check_failed(falcon, broken, before)
    with pytest.raises(RenderError, match=r"1 of 1 spaces failed: .*Is a directory"):
        render_spaces(falcon, [SPACE_ID], False, RenderOptions(formats=("rsmf",)))
    check_failed(falcon, broken, before)


FAILS = """
import sys
from pathlib import Path
from render import rsmf, worker
from tests.render.test_rsmf_zip import break_one_day, check_failed, written_bytes
archive = Path(sys.argv[1])
broken, before = break_one_day(archive)
forks = []
start = worker.Sink.__init__
worker.Sink.__init__ = lambda self, function: (forks.append(1), start(self, function))[1]
rsmf.FORK_FROM, rsmf.BATCH = 1, 1
try:
    written_bytes(archive, 10_000)
except IsADirectoryError as error:
    print(type(error).__name__, str(error.filename2) == str(broken))
assert forks == [1] * rsmf.SINKS, forks
check_failed(archive, broken, before)
"""


@FORKS
def test_a_file_the_sink_cannot_write_fails_the_render(falcon):  # noqa: F811 (the fixture)
    """The sink's error is raised here, as in-process: the same exception, the same file."""
    result = fresh(FAILS, str(falcon), timeout=60)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "IsADirectoryError True\n")


@given(st.binary(max_size=600))
def test_base64_lines_are_the_email_modules_lines(data):
    """``base64_lines`` cuts one encoding of the whole data where ``encodebytes`` encodes
    each 57-byte line on its own: the same bytes, CRLF for LF, any length (0, part of a
    line, whole lines)."""
    assert base64_lines(data) == base64.encodebytes(data).replace(b"\n", b"\r\n")


def test_base64_lines_of_a_whole_chunk():
    data = bytes(range(256)) * 300  # more than one read of write_message's, not 57-aligned
    assert base64_lines(data) == base64.encodebytes(data).replace(b"\n", b"\r\n")
    assert all(len(line) == 76 for line in base64_lines(data).split(b"\r\n")[:-2])


def _outcome(make, *args):
    """What ``make(*args)`` gives: its bytes, or the type of what it raised."""
    try:
        return make(*args)
    except Exception as error:
        return type(error)


@given(st.text(), st.integers(min_value=1, max_value=40))
def test_a_cached_field_is_the_field_made_anew(words, times):
    """Any value, surrogates and controls included, repeated into long ones: the field from
    the cache, asked twice, is what folding it anew gives (or raises the same error)."""
    value = " ".join([words] * times)
    fresh = (
        _outcome(_folded.__wrapped__, "To", value)
        if len(value) > 74 or not value.isascii()
        else None
    )
    assert _outcome(field, "To", value) == _outcome(field, "To", value)
    if fresh is not None:
        assert _outcome(field, "To", value) == fresh


def test_folded_headers_are_the_same_from_the_cache():
    """A long field is folded once and then taken from the cache: the same bytes as the
    first time, for ASCII (cut between words) and beyond (RFC 2047 words)."""
    for value in ("Ann Example <ann@example.com>, " * 12, "Zoë Ünal <z@example.com>, " * 9):
        first = field("To", value)
        assert field("To", value) == first and first.count(b"\r\n") > 2
        assert all(len(line) <= 78 for line in first.split(b"\r\n"))


def day_file(archive: Path) -> Path:
    """The path of the first day's file of the test space (rendered once)."""
    return render_spaces(archive, [SPACE_ID], False, RenderOptions(formats=("rsmf",)))[0]


def test_a_link_at_a_days_name_is_not_followed(falcon, tmp_path):  # noqa: F811 (the fixture)
    """A symbolic link where a day's file goes, leading out of the archive: the file is not
    written through it, the rendering says so in one line (the folder's own check passes:
    only the file's name is a link)."""
    first = day_file(falcon)
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    first.unlink()
    first.symlink_to(outside)
    with pytest.raises(RenderError, match=r"is not inside .* symbolic link"):
        render_spaces(falcon, [SPACE_ID], False, RenderOptions(formats=("rsmf",)))
    assert outside.read_text() == "untouched" and first.is_symlink()
    assert leftovers(falcon) == []


def test_a_folder_replaced_while_writing_is_checked_again(falcon, tmp_path):  # noqa: F811
    """The folder's check holds while it is the directory checked: one replaced by a link
    that leads out (after the rendering began) takes the full check, which refuses it."""
    first = day_file(falcon)
    folder = first.parent
    zips = rsmf_zip.Zips(falcon, folder, SPACE_ID)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder.rename(tmp_path / "moved")
    folder.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafePath, match="is not inside"):
        begin_binary(first, falcon, zips.place)
    assert list(elsewhere.iterdir()) == []
    folder.unlink()
    (tmp_path / "moved").rename(folder)
    out, temp = begin_binary(first, falcon, zips.place)  # the same directory again
    out.close()
    assert temp.parent == folder
    temp.unlink()

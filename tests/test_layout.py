"""webex_layout: the reserved names, the inside-the-archive check and atomic writing, alone.

The end-to-end classes are in tests/reliability/test_paths.py and test_render_writes.py; these
pin down the rules themselves, over generated titles too, and that the package stays free of
etl and render (both import it).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import store
from etl.files.names import folder_name
from webex_layout import (
    DB_NAME,
    ROOT_FILES,
    TEMP_PREFIX,
    UnsafePath,
    atomic_write,
    check_inside,
    is_reserved,
    new_temp,
    remove_leftovers,
    space_dir,
)

PACKAGE = Path(__file__).resolve().parent.parent / "webex_layout"
ROOM = "Y2lzY29zcGFyazovL3VzL1JPT00vZmFsY29u"


@pytest.mark.parametrize("name", ROOT_FILES)
def test_every_root_file_is_reserved_however_it_is_spelled(name):
    for spelling in (name, name.upper(), name.title(), f"{name}.", f"{name} ", f".{name}"):
        assert is_reserved(spelling), spelling


@pytest.mark.parametrize(
    "name", ["ARCHIV~1.DB", "archiv~2", "archive.db-mj0A1B2C3D", "con", "LPT1.txt", "a/b", "x:y"]
)
def test_names_that_mean_something_else_somewhere_are_reserved(name):
    assert is_reserved(name)


@pytest.mark.parametrize("name", ["Project Atlas", "archive", "archive.db2", "db", "index", "a~b"])
def test_ordinary_names_are_not_reserved(name):
    assert not is_reserved(name)


@given(st.text(max_size=120))
def test_no_title_makes_a_reserved_folder(title):
    name = folder_name(title)
    assert name and not is_reserved(name)


# No deadline: each example creates and migrates an archive on disk (fsyncs), which took 470 ms
# once on a loaded machine against Hypothesis's default 200 ms, failing a correct run.
@settings(deadline=None)
@given(
    title=st.sampled_from([*ROOT_FILES, "ARCHIV~1.DB", "Archive.Lock."]), spaces=st.integers(1, 4)
)
def test_assign_folder_never_stores_a_reserved_name(tmp_path_factory, title, spaces):
    db = store.open_archive(tmp_path_factory.mktemp("a"))
    for index in range(spaces):
        store.save_space(db, {"id": f"{ROOM}{index}", "title": title}, "2026-01-01T00:00:00.000Z")
        folder = store.assign_folder(db, f"{ROOM}{index}", folder_name(title))
        assert not is_reserved(folder)
    folders = [row[0].lower() for row in db.execute("SELECT folder FROM spaces")]
    assert len(set(folders)) == spaces


def test_a_reserved_folder_stored_by_an_older_version_is_replaced(tmp_path):
    db = store.open_archive(tmp_path)
    store.save_space(db, {"id": ROOM, "title": "archive.lock"}, "2026-01-01T00:00:00.000Z")
    db.execute("UPDATE spaces SET folder = 'archive.lock' WHERE id = ?", [ROOM])
    assert store.assign_folder(db, ROOM, folder_name("archive.lock")) == "_archive.lock"
    with pytest.raises(UnsafePath, match="keeps for itself"):
        space_dir(tmp_path, "archive.lock")


def test_a_path_through_a_link_is_not_inside(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "space").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(UnsafePath, match="is not inside"):
        check_inside(tmp_path / "archive" / "space" / "page.html", tmp_path / "archive")
    with pytest.raises(UnsafePath):
        check_inside(tmp_path / "archive" / ".." / "x", tmp_path / "archive")
    with (
        pytest.raises(UnsafePath),
        atomic_write(tmp_path / "archive" / "space" / "p", tmp_path / "archive"),
    ):
        pass
    assert list((tmp_path / "outside").iterdir()) == []


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    page = tmp_path / "space" / "page.html"
    with atomic_write(page, tmp_path) as out:
        out.write("first\r\n")
    assert page.read_bytes() == b"first\r\n"
    with pytest.raises(RuntimeError), atomic_write(page, tmp_path) as out:
        out.write("half of the sec")
        raise RuntimeError("killed")
    assert page.read_bytes() == b"first\r\n"
    assert [p.name for p in page.parent.iterdir()] == ["page.html"]
    with atomic_write(page, tmp_path, text=False) as raw:
        raw.write(b"\x00second")
    assert page.read_bytes() == b"\x00second"


def test_leftovers_go_but_a_live_writers_file_stays(tmp_path):
    live, live_path = new_temp(tmp_path)
    dead, dead_path = new_temp(tmp_path)
    dead.close()  # as if its process had been killed: nobody holds it
    (tmp_path / f"{TEMP_PREFIX}other.txt").write_text("not ours: another suffix")
    remove_leftovers(tmp_path)
    assert live_path.exists() and not dead_path.exists()
    assert (tmp_path / f"{TEMP_PREFIX}other.txt").exists()
    live.close()
    remove_leftovers(tmp_path)
    assert not live_path.exists()


def test_the_package_imports_only_the_standard_library():
    """etl and render both import webex_layout; it may import neither (nor anything else)."""
    for source in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names, f"{source.name}: {name}"


def test_the_database_name_is_the_layouts():
    assert store.DB_NAME == DB_NAME

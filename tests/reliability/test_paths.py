"""Where files are written: never as one of the archive's own names, never outside the archive.

Issue 13, items 2-4, each tested as a class through the real command line over HTTP:

- a space titled as any name the archive keeps at its root (``webex_layout.ROOT_FILES``, so a
  file added there later is tested by construction), or as a name some system reads as one of
  them (case, a trailing dot, a Windows short name, a device), goes through sync with
  downloads and avatars, a second sync, render, status, search, forget and a third sync;
- every writer refuses a path that leads outside the archive (a symlinked space folder, a
  symlinked output file): the sync's downloads and avatars, and render in every format and
  with ``--split``, with the space's one-line failure while the other spaces go on.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from tests.conftest import make_dataset
from tests.reliability.helpers import add_file
from tests.test_cli import run
from webex_archive.cli import main
from webex_emulator import Emulator
from webex_emulator.media import Recipe
from webex_layout import DB_NAME, HOME_PAGE, ROOT_FILES, TEMP_PREFIX, is_reserved

# Names that are one of ROOT_FILES on some system, or that Windows reads as something else.
ALIASES = (
    "ARCHIVE.DB",  # case-insensitive file systems (Windows, macOS)
    "Archive.Lock.",  # Windows drops a trailing dot
    " archive.db-WAL ",  # and trailing spaces
    "ARCHIV~1.DB",  # NTFS's short name of archive.db
    "archive.db-mj4F2A11C0",  # an SQLite super-journal
    "CON",  # a Windows device
    ".archive.db",  # hidden
)
SQLITE_COMPANIONS = {f"{DB_NAME}-wal", f"{DB_NAME}-shm"}


def archive_env(emu: Emulator, archive: Path) -> dict[str, str]:
    return {
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
        "WEBEX_ARCHIVE_DIR": str(archive),
    }


def ok(result) -> str:
    """The command's stdout, once it is known to have succeeded without a traceback."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def invoke(*args: str, env: dict[str, str]) -> SimpleNamespace:
    """The command in this process (click's runner; stderr kept apart), where what is tested is
    which files it writes, not the process: some forty commands at 0.4 s of start-up each. A
    crash is raised, not hidden."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def folders(archive: Path) -> dict[str, str]:
    """space title → folder, as the archive records them."""
    conn = sqlite3.connect(f"{(archive / DB_NAME).as_uri()}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT title, folder FROM spaces").fetchall())
    finally:
        conn.close()


def assert_root_is_clean(archive: Path) -> None:
    """The archive's root holds its database, its home page and space folders, and no folder
    is reserved."""
    for entry in archive.iterdir():
        if entry.name in (DB_NAME, HOME_PAGE) or entry.name in SQLITE_COMPANIONS:
            assert entry.is_file(), entry
        else:
            assert entry.is_dir() and not is_reserved(entry.name), entry


def a_word(dataset, room_id: str) -> str:
    """A plain word said in the room, to search for."""
    for message in dataset.messages.values():
        if message["roomId"] == room_id:
            words = re.findall(r"\b[a-z]{5,}\b", message.get("text") or "")
            if words:
                return words[0]
    raise AssertionError("no plain word in the room")


TITLES = (*ROOT_FILES, *ALIASES)


def test_spaces_titled_as_the_archives_own_names(tmp_path):
    """One archive whose group spaces are titled each reserved name and alias (together, so
    that two titles one file system reads alike must also get folders of their own)."""
    dataset = make_dataset(messages=12, spaces=len(TITLES), hostile_rate=0)
    rooms = sorted(r for r, room in dataset.rooms.items() if room["type"] == "group")
    for room, title in zip(rooms, TITLES, strict=True):
        dataset.rooms[room]["title"] = title
        message = next(m for m in dataset.messages.values() if m["roomId"] == room)
        add_file(dataset, message, "notes.txt", "text/plain", Recipe("filler", 1, size=500))
    archive = tmp_path / "archive"
    with Emulator(dataset) as emu:
        env = archive_env(emu, archive)
        for _ in range(2):  # the second sync meets everything the first one wrote
            ok(invoke("sync", "--all", "--download", "files", "--avatars", "download", env=env))
            assert_root_is_clean(archive)
        named = folders(archive)
        assert len({folder.casefold() for folder in named.values()}) == len(named)
        for title in TITLES:
            assert not is_reserved(named[title]), title
            assert (archive / named[title] / "files" / "notes.txt").is_file(), title
            assert list((archive / named[title] / "avatars").iterdir()), title
        written = ok(invoke("render", "--all", "--format", "html,json,txt", env=env)).splitlines()
        assert written.pop() == str(archive / HOME_PAGE)  # the archive's home page, last
        assert {Path(p).parent for p in written} == {archive / f for f in named.values()}
        assert_root_is_clean(archive)
        status = ok(invoke("status", env=env))
        assert all(title.strip() in status for title in TITLES)
        for room, title in zip(rooms, TITLES, strict=True):
            assert ok(invoke("search", a_word(dataset, room), "--space", room, env=env)), title
            ok(invoke("forget", room, "--yes", env=env))
            assert not (archive / named[title]).exists() and (archive / DB_NAME).is_file()
        assert_root_is_clean(archive)
        ok(invoke("sync", "--all", "--download", "files", env=env))
        assert_root_is_clean(archive)
        assert not any(is_reserved(folder) for folder in folders(archive).values())


@pytest.fixture
def synced(emu, tmp_path) -> tuple[Path, dict]:
    """The conftest data set (three group spaces and a direct one) synced with every file."""
    archive = tmp_path / "archive"
    env = archive_env(emu, archive)
    ok(run("sync", "--all", "--download", "files", "--avatars", "download", env=env))
    return archive, env


def elsewhere(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    return outside


def lead_outside(folder: Path, outside: Path) -> None:
    """Replace a space folder by a symbolic link to a folder outside the archive."""
    folder.rename(folder.with_name(folder.name + " (moved)"))
    folder.symlink_to(outside, target_is_directory=True)


def test_sync_all_fails_only_the_space_whose_folder_leads_outside(synced, tmp_path):
    archive, env = synced
    outside = elsewhere(tmp_path)
    lead_outside(archive / "Design reviews", outside)
    for avatars in ("no", "download"):
        result = run("sync", "--all", "--download", "files", "--avatars", avatars, env=env)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        _, *rows, last = result.stderr.strip().splitlines()
        failed = [row for row in rows if "failed:" in row]
        assert len(rows) == 4 and len(failed) == 1, result.stderr
        assert failed[0].startswith("Design reviews") and "is not inside" in failed[0]
        assert last.startswith("synced 3 spaces (1 failed): ")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("split", ["none", "month"])
def test_render_refuses_a_space_folder_that_leads_outside(synced, tmp_path, split):
    archive, env = synced
    outside = elsewhere(tmp_path)
    lead_outside(archive / "Design reviews", outside)
    result = run("render", "--all", "--format", "html,json,txt", "--split", split, env=env)
    assert result.returncode == 1, result.stderr
    assert "1 of 4 spaces failed: 'Design reviews'" in result.stderr
    assert "is not inside" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    rendered = {Path(p).parent.name for p in result.stdout.splitlines()}
    assert rendered == set(folders(archive).values()) - {"Design reviews"}
    assert list(outside.iterdir()) == []


def test_render_replaces_no_file_outside_through_a_symlinked_output(synced, tmp_path):
    archive, env = synced
    outside = elsewhere(tmp_path)
    target = outside / "kept.html"
    target.write_text("not ours")
    page = archive / "Design reviews" / "Design reviews.html"
    page.symlink_to(target)
    result = run("render", "Design reviews", env=env)
    assert result.returncode == 1 and "is not inside" in result.stderr, result.stderr
    assert target.read_text() == "not ours" and page.is_symlink()
    assert not [p for p in page.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]

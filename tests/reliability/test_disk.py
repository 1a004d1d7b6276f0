"""A bad archive file, a read-only archive, a full disk: one clear line, nothing half-written.

Each case runs the real command line (in-process, ``CliRunner``) or the sync against the
emulator and requires: exit code 1 with one line and no traceback; the archive untouched or
consistent (SQLite's checks, no ``.part`` file, every recorded file on disk with its sha256);
and, once the cause is gone, a run that completes to the archive an undisturbed sync makes.

The tests run as root, which ignores permission bits, so "read-only" and "full" are made
real: a tmpfs mounted by the test (remounted read-only, or small), ``chattr +i``, and for
machines where neither is possible a file write patched to fail with ENOSPC. A case whose
mechanism is unavailable is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from click.testing import CliRunner

from etl import store
from etl.store import ArchiveError
from tests.reliability.helpers import (
    assert_same,
    disk_problems,
    group_room_id,
    integrity,
    one_line,
    reliability_dataset,
    run_sync,
    snapshot,
    whole,
)
from webex_archive.cli import main
from webex_emulator import Emulator

OPTIONS = {"page_size": 10, "download": "files", "workers": 2}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(reliability_dataset(messages=40, seed=41, files_every=3)) as emulator:
        yield emulator


@pytest.fixture
def room(emu: Emulator) -> str:
    return group_room_id(emu.dataset)


def reference(emu: Emulator, room: str, where: Path) -> dict:
    """The undisturbed archive's snapshot; its file is closed (the WAL checkpointed into it)."""
    _, db = run_sync(emu, where, [room], **OPTIONS)
    try:
        return snapshot(db)
    finally:
        db.close()


def cli_sync(emu: Emulator, archive: Path, room: str) -> tuple[int, str]:
    """``webex-archive --archive DIR sync ROOM --download files``: (exit code, output)."""
    args = ["--archive", str(archive), "--api-url", emu.api_url, "--token", emu.token, "-q"]
    result = CliRunner().invoke(main, [*args, "sync", room, "--download", "files"])
    return result.exit_code, result.output


def refused(code: int, output: str, *words: str) -> str:
    """Assert a clear refusal: exit 1, one line "Error: …" naming ``words``; returns it."""
    line = output.strip()
    assert code == 1, output
    assert one_line(line) and line.startswith("Error: ") and "Traceback" not in line, output
    assert all(word in line for word in words), line
    return line


def listing(folder: Path) -> dict[str, bytes]:
    """Every file's bytes (but the ``-shm`` index, which SQLite rewrites when reading)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith("-shm")
    }


# ----- archive.db that is not (or no longer) an archive ------------------------------------------


def garbage(path: Path, clean: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


def foreign(path: Path, clean: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()


def truncated(fraction: float) -> Callable[[Path, Path], None]:
    def cut(path: Path, clean: Path) -> None:
        data = (clean / "archive.db").read_bytes()
        path.write_bytes(data[: int(len(data) * fraction) // 4096 * 4096 or 4096])

    cut.__name__ = f"truncated to {fraction:.0%}"
    return cut


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (garbage, ("is not an SQLite database", "move it away")),
        (foreign, ("not a webex-archive archive", "another --archive")),
        (truncated(0.25), ("is damaged", "backup")),
        (truncated(0.6), ("is damaged", "backup")),
        (truncated(0.95), ("is damaged", "backup")),
    ],
    ids=["garbage", "foreign", "truncated 25%", "truncated 60%", "truncated 95%"],
)
def test_an_archive_db_that_is_not_an_archive_is_refused_untouched(
    emu: Emulator, room: str, tmp_path: Path, make, words: tuple[str, ...]
) -> None:
    clean = tmp_path / "clean"
    expected = reference(emu, room, clean)
    archive = tmp_path / "archive"
    archive.mkdir()
    make(archive / "archive.db", clean)
    before = listing(archive)
    refused(*cli_sync(emu, archive, room), str(archive / "archive.db"), *words)
    assert listing(archive) == before  # not converted, not repaired, nothing added
    (archive / "archive.db").rename(tmp_path / "kept.db")  # the user moves it away
    assert cli_sync(emu, archive, room)[0] == 0
    assert_same(snapshot(store.open_archive(archive)), expected, "after moving it away")
    whole(archive)


# ----- read-only ---------------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (skip the test when mounting is not possible)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): {mounted.stderr}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path: Path, options: str) -> None:
    gc.collect()  # the in-process CLI leaves its connection to the garbage collector
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def test_a_read_only_archive_folder_is_refused_in_one_line(
    emu: Emulator, room: str, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "mnt", "16m") as mnt:
        archive = mnt / "archive"
        assert cli_sync(emu, archive, room)[0] == 0
        emu.add_messages(room, 3, seed=1)  # something new to write
        remount(mnt, "ro")
        before = listing(archive)
        refused(*cli_sync(emu, archive, room), str(archive), "not writable")
        assert listing(archive) == before
        remount(mnt, "rw")
        assert cli_sync(emu, archive, room)[0] == 0
        expected = reference(emu, room, tmp_path / "reference")
        assert_same(snapshot(store.open_archive(archive)), expected, "once writable again")
        whole(archive)


def test_an_immutable_archive_db_is_refused_in_one_line(
    emu: Emulator, room: str, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    assert cli_sync(emu, archive, room)[0] == 0
    emu.add_messages(room, 3, seed=2)
    db_file = archive / "archive.db"
    made = subprocess.run(["chattr", "+i", str(db_file)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not possible here: {made.stderr.strip()}")
    try:
        before = listing(archive)
        refused(*cli_sync(emu, archive, room), str(db_file), "cannot write")
        assert listing(archive) == before
    finally:
        subprocess.run(["chattr", "-i", str(db_file)], check=True)
    assert cli_sync(emu, archive, room)[0] == 0
    expected = reference(emu, room, tmp_path / "reference")
    assert_same(snapshot(store.open_archive(archive)), expected, "once writable again")
    whole(archive)


# ----- a full disk --------------------------------------------------------------------------


def fill(mnt: Path, leave: int) -> Path:
    """A file that takes all of the tmpfs but ``leave`` bytes."""
    stat = os.statvfs(mnt)
    filler = mnt / "filler"
    filler.write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - leave, 0))
    return filler


@pytest.mark.parametrize("leave_kb", [48, 348, 440, 640])
def test_a_full_disk_stops_the_run_in_one_line_and_the_next_run_completes(
    emu: Emulator, room: str, tmp_path: Path, leave_kb: int
) -> None:
    """The archive lives on a small tmpfs with ``leave_kb`` free: here the database runs out of
    space while its schema is created (48) or as the run starts (348), a download runs out
    early (440) or late (640). Whatever it was: one line, a consistent archive, no temporary
    file; with space again, the next run completes it."""
    expected = reference(emu, room, tmp_path / "reference")
    with tmpfs(tmp_path / "mnt", "4m") as mnt:
        archive = mnt / "archive"
        filler = fill(mnt, leave_kb * 1024)
        code, output = cli_sync(emu, archive, room)
        if code == 0:  # it fitted after all: then it must be complete
            assert_same(snapshot(store.open_archive(archive)), expected, "fitted")
            pytest.skip(f"{leave_kb} KB were enough for the whole archive")
        refused(code, output, "is full", "free some space")
        if (archive / "archive.db").exists():
            assert integrity(archive / "archive.db") == []
            assert disk_problems(archive) == []
        filler.unlink()
        assert cli_sync(emu, archive, room)[0] == 0
        assert_same(snapshot(store.open_archive(archive)), expected, "with space again")
        whole(archive)


class _FullDisk:
    """A binary file whose writes fail with ENOSPC once ``room`` bytes are written."""

    def __init__(self, raw: BinaryIO, room: int) -> None:
        self.raw, self.room = raw, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.raw.write(data)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, close…
        return getattr(self.raw, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()


def test_a_download_that_meets_a_full_disk_stops_cleanly(
    emu: Emulator, room: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a mount: the downloads' file writes fail with ENOSPC after 20 KB in all."""
    expected = reference(emu, room, tmp_path / "reference")
    archive = tmp_path / "archive"
    budget = {"left": 20_000}
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, mode, *args, **kwargs)
        if "w" not in mode:
            return handle
        full = _FullDisk(handle, budget["left"])
        budget["left"] = 0
        return full

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(ArchiveError) as stopped:
        run_sync(emu, archive, [room], **OPTIONS)
    monkeypatch.undo()
    assert one_line(str(stopped.value)) and "is full" in str(stopped.value)
    assert integrity(archive / "archive.db") == [] and disk_problems(archive) == []
    runs = store.open_archive(archive).execute("SELECT status, error FROM sync_runs").fetchall()
    assert runs == [("failed", str(stopped.value))]
    run_sync(emu, archive, [room], **OPTIONS)
    assert_same(snapshot(store.open_archive(archive)), expected, "with space again")
    whole(archive)
    shutil.rmtree(archive)

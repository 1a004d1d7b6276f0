"""One hostile archive for the whole security suite: synced over HTTP, rendered every way.

Building it costs some fifteen CPU seconds (the emulator, a sync with every file and avatar,
eleven spaces rendered as HTML, JSON and TXT, with --blur and with --split month), so it is
built once per run, by the first xdist worker that needs it, under a lock that the others wait
on, and only read by the tests (a test that must write copies what it needs; every worker
checks at its end that the shared tree is as built). The data set is the generator's (three group
spaces, one of them with the hostile title and every ``hostile.MESSAGES`` and ``FILE_NAMES``
entry planted, plus a direct space) and ``hostile_spaces.add_spaces`` on top: the catalogue
space with the heavy messages, hostile people and every file name, and one space per hostile
title.

The archive sits four folders down a sandbox (``sandbox/a/b/c/archive``) so that a file name
climbing out with ``../`` would land somewhere the tests look.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import RenderOptions, render_spaces
from tests.conftest import END, make_dataset
from webex_emulator import DataSet, Emulator, hostile_spaces

ZONE = ZoneInfo("Europe/Amsterdam")
CATALOGUE_PREFIX = "Hostile <b>catalogue</b>"


@dataclass
class Hostile:
    """The synced, rendered archive and what the tests need to judge it."""

    sandbox: Path
    archive: Path
    dataset: DataSet
    catalogue: dict  # the emulator room of the catalogue space
    after_sync: dict[Path, str]  # every file under the sandbox after the sync: sha256
    after_render: dict[Path, str]
    created_outside: list[Path]  # absolute paths named by hostile file names, made meanwhile
    rendered: dict[str, list[Path]] = field(default_factory=dict)  # variant: files written

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{self.archive / 'archive.db'}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def html(self, variant: str) -> list[Path]:
        return [p for p in self.rendered[variant] if p.suffix == ".html"]

    def page(self, variant: str, space_id: str, suffix: str = ".html") -> Path:
        """The single (not split) page of a space in a variant."""
        with self.db() as conn:
            (folder,) = conn.execute(
                "SELECT folder FROM spaces WHERE id = ?", [space_id]
            ).fetchone()
        [path] = [p for p in self.rendered[variant] if p.name == f"{folder}{suffix}"]
        return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[Path, str]:
    """Every file under ``root`` (symlinks not followed) with its sha256."""
    return {p: sha256(p) for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def hostile_dataset() -> tuple[DataSet, dict]:
    """The generator's spaces over 120 days (a few months each for --split) plus the catalogue."""
    dataset = make_dataset(messages=120, spaces=3, span_days=120)
    spaces = hostile_spaces.add_spaces(dataset, END - timedelta(days=100))
    return dataset, spaces[0]


RENDERINGS = {
    "page": {"formats": ("html", "json", "txt"), "avatars": "local"},
    "blur": {"formats": ("html", "json", "txt"), "blur": True, "output": "out-blur"},
    "split": {"split": "month", "avatars": "local", "output": "out-split"},
}


# Where an absolute or climbing file name would have written, had it been obeyed.
OUTSIDE_TARGETS = [Path("/tmp/pwned.txt"), Path("/tmp/absolute.txt"), Path("/etc/shadow.txt")]


def build(sandbox: Path) -> Hostile:
    """Sync the hostile data set into ``sandbox/a/b/c/archive`` and render it every way."""
    archive = sandbox / "a" / "b" / "c" / "archive"
    dataset, catalogue = hostile_dataset()
    existed = {path for path in OUTSIDE_TARGETS if path.exists()}
    with Emulator(dataset) as emu, WebexClient(emu.token, emu.api_url) as client:
        db = store.open_archive(archive)
        options = SyncOptions(download="files", avatars="download", archive_dir=archive)
        results = sync_spaces(db, client, list(dataset.rooms), options)
        db.conn.close()
    failed = [(r.title, r.error) for r in results if r.error]
    assert failed == [], failed
    after_sync = tree(sandbox)
    rendered: dict[str, list[Path]] = {}
    for variant, settings in RENDERINGS.items():
        settings = dict(settings)
        if "output" in settings:
            settings["output"] = sandbox / settings["output"]
        options = RenderOptions(zone=ZONE, zone_name="Europe/Amsterdam", **settings)
        rendered[variant] = render_spaces(archive, [], True, options)
    created = [path for path in OUTSIDE_TARGETS if path.exists() and path not in existed]
    return Hostile(
        sandbox, archive, dataset, catalogue, after_sync, tree(sandbox), created, rendered
    )


def to_record(built: Hostile) -> dict:
    """What another worker needs of a build, as JSON (the data set is regenerated: it is
    deterministic, and its message ids are kept to prove it)."""
    return {
        "sandbox": str(built.sandbox),
        "archive": str(built.archive),
        "messages": list(built.dataset.messages),
        "after_sync": {str(path): sha for path, sha in built.after_sync.items()},
        "after_render": {str(path): sha for path, sha in built.after_render.items()},
        "created_outside": [str(path) for path in built.created_outside],
        "rendered": {name: [str(p) for p in paths] for name, paths in built.rendered.items()},
    }


def from_record(record: dict) -> Hostile:
    dataset, catalogue = hostile_dataset()
    assert list(dataset.messages) == record["messages"], "the hostile data set is not the same"
    return Hostile(
        Path(record["sandbox"]),
        Path(record["archive"]),
        dataset,
        catalogue,
        {Path(path): sha for path, sha in record["after_sync"].items()},
        {Path(path): sha for path, sha in record["after_render"].items()},
        [Path(path) for path in record["created_outside"]],
        {name: [Path(p) for p in paths] for name, paths in record["rendered"].items()},
    )


def shared_build(shared: Path) -> Hostile:
    """The build in ``shared``, made by whichever worker takes the lock first; the others wait
    for it and read its record. A failed build is recorded too, so that every worker fails on
    it at once instead of each trying again."""
    record, failure = shared / "hostile.json", shared / "hostile.failed"
    with open(shared / "hostile.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if failure.exists():
            pytest.fail(
                f"the hostile archive failed to build in another worker:\n{failure.read_text()}"
            )
        if not record.exists():
            sandbox = shared / "hostile"
            shutil.rmtree(sandbox, ignore_errors=True)
            sandbox.mkdir()
            try:
                built = build(sandbox)
            except BaseException:
                failure.write_text(traceback.format_exc())
                raise
            record.write_text(json.dumps(to_record(built)))
            return built
    return from_record(json.loads(record.read_text()))


def without_companions(files: dict[Path, str]) -> dict[Path, str]:
    """SQLite's -wal and -shm files come and go with connections (a reader makes them too)."""
    return {p: sha for p, sha in files.items() if not p.name.endswith(("-wal", "-shm"))}


@pytest.fixture(scope="session")
def hostile_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """The hostile archive, shared by every xdist worker of the run (their base folders share
    a parent, private to the run); without xdist, built in this session's own folder."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        built = shared_build(tmp_path_factory.getbasetemp().parent)
    else:
        built = build(tmp_path_factory.mktemp("sandbox"))
    yield built
    now = without_companions(tree(built.sandbox))
    changed = sorted(set(now.items()) ^ set(without_companions(built.after_render).items()))
    assert changed == [], f"a test changed the shared hostile archive: {changed[:5]}"

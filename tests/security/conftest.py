"""One hostile archive for the whole security suite: synced over HTTP, rendered every way.

Building it costs a few seconds (the emulator, a sync with every file and avatar, eleven
spaces rendered as HTML, JSON and TXT, with --blur and with --split month), so it is built
once per session and only read by the tests. The data set is the generator's (three group
spaces, one of them with the hostile title and every ``hostile.MESSAGES`` and ``FILE_NAMES``
entry planted, plus a direct space) and ``hostile_spaces.add_spaces`` on top: the catalogue
space with the heavy messages, hostile people and every file name, and one space per hostile
title.

The archive sits four folders down a sandbox (``sandbox/a/b/c/archive``) so that a file name
climbing out with ``../`` would land somewhere the tests look.
"""

from __future__ import annotations

import hashlib
import sqlite3
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


@pytest.fixture(scope="session")
def hostile_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    sandbox = tmp_path_factory.mktemp("sandbox")
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
    yield Hostile(
        sandbox, archive, dataset, catalogue, after_sync, tree(sandbox), created, rendered
    )

"""``render --split``: only the parts whose inputs changed are written again, and what is on
disk afterwards is what a full rendering writes (issue 18).

The archive is synced from the emulator once (two group spaces and a direct space over two
years: some 25 month parts each); each test changes a copy through the archive's own write
side (etl/store: new messages, edits, deletions, a late reply into an old month, a renamed
person) plus a newly downloaded avatar, renders it incrementally, then with ``force`` into the
same place, and compares every page byte for byte but for the CSP nonce and the generation
time, which a kept part keeps from the rendering that wrote it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import Filters, RenderOptions, partial, render_spaces
from render.custody import verify
from render.manifest import manifest_path
from tests.conftest import make_dataset
from webex_emulator import Emulator

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = "2026-11-20T08:00:00.000Z"  # after the data set's newest message
VARIABLE = [
    (re.compile(r"nonce(?:-|=\")[\w-]+"), "nonce"),
    (re.compile(r"<dt>Generated</dt><dd>[^<]*</dd>"), "generated"),
]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dataset = make_dataset(messages=400, spaces=2, span_days=730, seed=18)
    archive = tmp_path_factory.mktemp("synced") / "archive"
    with Emulator(dataset) as emu, WebexClient(emu.token, emu.api_url) as client:
        db = store.open_archive(archive)
        results = sync_spaces(db, client, list(dataset.rooms), SyncOptions(archive_dir=archive))
        db.conn.close()
    assert [r.error for r in results if r.error] == []
    return archive


@pytest.fixture
def archive(synced: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(synced, copy)
    return copy


def render(archive: Path, **options) -> list[Path]:
    settings = RenderOptions(zone=ZONE, zone_name="Europe/Amsterdam", split="month", **options)
    return render_spaces(archive, [], True, settings)


def pages(archive: Path) -> dict[str, str]:
    """Every HTML page and search file under the archive, without what differs between two
    renderings (a search file has nothing that does)."""
    found = {}
    for path in sorted([*archive.rglob("*.html"), *archive.rglob("*.search.js")]):
        text = path.read_text(encoding="utf-8")
        for pattern, stand_in in VARIABLE:
            text = pattern.sub(stand_in, text)
        found[str(path.relative_to(archive))] = text
    return found


def parts(written: list[Path]) -> set[str]:
    """The --split parts among written files (``X-2025-03.html``), by name."""
    return {p.name for p in written if re.search(r"-\d{4}-\d{2}\.html$", p.name)}


class Changes:
    """Random changes to an archive, made by the archive's own writers (etl/store)."""

    def __init__(self, archive: Path, seed: int):
        self.db = store.open_archive(archive)
        self.rng = random.Random(seed)
        self.made: dict[str, list[str]] = {}

    def messages(self, where: str = "1") -> list[dict]:
        sql = f"SELECT raw FROM messages WHERE {where} ORDER BY rowid"
        return [json.loads(raw) for (raw,) in self.db.conn.execute(sql)]

    def save(self, *messages: dict) -> None:
        with self.db.conn:
            store.save_messages(self.db, list(messages), NOW)

    def new(self, count: int) -> None:
        space = self.rng.choice(self.messages("parent_id IS NULL"))
        for n in range(count):
            self.save(space | {"id": f"new-{n}", "text": f"new {n}", "html": None,
                               "created": f"2026-11-19T10:{n:02d}:00.000Z"})  # fmt: skip
        self.made.setdefault("new", []).append(space["roomId"])

    def edit(self) -> None:
        message = self.rng.choice(self.messages("deleted_at IS NULL AND created < '2026-06'"))
        self.save(message | {"text": "edited <b>words</b>", "updated": NOW})
        self.made.setdefault("edit", []).append(message["id"])

    def delete(self) -> None:
        message = self.rng.choice(self.messages("deleted_at IS NULL AND created < '2026-06'"))
        with self.db.conn:
            store.mark_deleted(self.db, message["roomId"], [message["id"]], NOW)
        self.made.setdefault("delete", []).append(message["id"])

    def late_reply(self) -> None:
        parent = self.rng.choice(self.messages("parent_id IS NULL AND created < '2025-06'"))
        self.save(parent | {"id": f"late-{parent['id']}", "parentId": parent["id"],
                            "text": "a late reply", "html": None, "created": NOW})  # fmt: skip
        self.made.setdefault("late_reply", []).append(parent["id"])

    def rename(self) -> None:
        rows = self.db.conn.execute(
            "SELECT raw FROM people WHERE raw IS NOT NULL AND id IN "
            "(SELECT person_id FROM messages) ORDER BY id"
        ).fetchall()
        person = json.loads(self.rng.choice(rows)[0])
        with self.db.conn:
            store.save_people(self.db, [person | {"displayName": "Renamed Person"}], NOW)
        self.made.setdefault("rename", []).append(person["id"])

    def avatar(self) -> None:
        """What sync --avatars download records for an author (etl/files/avatars.py)."""
        space_id, person_id, folder = self.db.conn.execute(
            "SELECT m.space_id, m.person_id, s.folder FROM messages AS m "
            "JOIN spaces AS s ON s.id = m.space_id ORDER BY m.rowid LIMIT 1 OFFSET 7"
        ).fetchone()
        with self.db.conn:
            self.db.conn.execute(
                "INSERT OR REPLACE INTO avatars (space_id, person_id, url, local_path, "
                "fetched_at) VALUES (?, ?, 'https://avatar.example/a', ?, ?)",
                [space_id, person_id, f"{folder}/avatars/new.png", NOW],
            )
        self.made.setdefault("avatar", []).append(person_id)

    def leave(self) -> None:
        """A member leaves (a complete listing without them): the statistics change."""
        space = self.rng.choice([r for (r,) in self.db.conn.execute(
            "SELECT space_id FROM memberships WHERE left_at IS NULL GROUP BY space_id "
            "HAVING count(*) > 1 ORDER BY space_id")])  # fmt: skip
        listed = [json.loads(raw) for (raw,) in self.db.conn.execute(
            "SELECT raw FROM memberships WHERE space_id = ? AND left_at IS NULL ORDER BY id",
            [space])]  # fmt: skip
        with self.db.conn:
            store.save_memberships(self.db, space, listed[1:], NOW)
        self.made.setdefault("leave", []).append(listed[0]["personId"])

    def file_state(self) -> None:
        """An attachment downloaded since (its row, not its message, changes)."""
        sql = "SELECT url FROM files WHERE status != 'downloaded' ORDER BY rowid"
        (url,) = self.rng.choice(self.db.conn.execute(sql).fetchall())
        with self.db.conn:
            self.db.conn.execute(
                "UPDATE files SET status = 'downloaded', size = 1234, local_path = 'f/x.bin' "
                "WHERE url = ?", [url])  # fmt: skip
        self.made.setdefault("file_state", []).append(url)

    def newcomer(self) -> None:
        """A person new to the archive writes into an old month."""
        message = self.rng.choice(self.messages("parent_id IS NULL AND created < '2026-01'"))
        person = {"id": "newcomer", "emails": ["new@elsewhere.example"], "displayName": "New",
                  "type": "person", "created": NOW}  # fmt: skip
        self.save(message | {"id": f"by-newcomer-{message['id']}", "personId": "newcomer",
                             "personEmail": "new@elsewhere.example", "html": None,
                             "created": message["created"][:-4] + "999Z"})  # fmt: skip
        with self.db.conn:
            store.save_people(self.db, [person], NOW)
        self.made.setdefault("newcomer", []).append(message["id"])

    def close(self) -> None:
        self.db.conn.close()


@pytest.fixture
def readings(monkeypatch) -> list:
    """What each incremental reading decided (render/partial.py's ``prepare`` and
    ``plan_loaded``, called through, not replaced): None where it read everything."""
    found: list = []
    for name in ("prepare", "plan_loaded"):
        real = getattr(partial, name)

        def spy(*args, real=real, name=name, **kwargs):
            result = real(*args, **kwargs)
            found.append((name, result))
            return result

        monkeypatch.setattr(partial, name, spy)
    return found


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_after_random_changes_the_kept_parts_are_what_a_full_render_writes(archive, seed, readings):
    first = render(archive)
    everything = parts(first)
    before = pages(archive)
    changes = Changes(archive, seed)
    steps = [changes.edit, changes.delete, changes.late_reply, changes.rename, changes.avatar,
             changes.leave, changes.file_state, changes.newcomer]  # fmt: skip
    changes.new(changes.rng.randint(1, 30))
    for step in changes.rng.choices(steps, k=6):
        step()
    changes.close()

    readings.clear()
    written = render(archive)
    # every space was read incrementally: only the months that changed (3 spaces)
    assert [name for name, result in readings if result is not None] == [
        "prepare", "plan_loaded"] * 3, readings  # fmt: skip
    after = pages(archive)
    render(archive, force=True)
    assert pages(archive) == after  # the kept parts are what a full rendering writes now
    differ = {Path(name).name for name in after if before.get(name) != after[name]}
    assert parts(written) >= {name for name in differ if name in everything}
    assert 0 < len(parts(written)) < len(everything)
    if not {"rename", "avatar"} & set(changes.made):  # those show in each month a person wrote in
        assert len(parts(written)) <= 2 * 6 + 2, changes.made


def test_nothing_changed_writes_the_indexes_alone(archive):
    first = render(archive)
    assert len(parts(first)) > 60
    again = render(archive)
    assert parts(again) == set()
    assert sorted(p.name for p in again) == sorted(
        p.name for p in first if not re.search(r"-\d{4}-\d{2}\.html$", p.name)
    )
    assert parts(render(archive, force=True)) == parts(first)


def test_each_kind_of_change_rewrites_the_parts_that_show_it(archive):
    render(archive)
    changes = Changes(archive, 7)
    changes.late_reply()
    [parent] = changes.made["late_reply"]
    changes.close()
    with sqlite3.connect(archive / "archive.db") as conn:
        (created,) = conn.execute("SELECT created FROM messages WHERE id = ?", [parent]).fetchone()
    written = parts(render(archive))
    # The reply is shown under its parent, in the parent's (local) month, and nowhere else
    # but the newest month, which gained a message as well.
    assert any(name.endswith(f"-{created[:7]}.html") for name in written), (created, written)
    assert len(written) <= 3
    page = next(archive.rglob(f"*-{created[:7]}.html"))
    assert f'id="msg-late-{parent}"' in page.read_text(encoding="utf-8")


def test_changed_options_a_lost_part_or_a_broken_manifest_write_again(archive):
    all_parts = parts(render(archive))
    assert parts(render(archive, theme="dark")) == all_parts  # options are inputs
    lost = next(archive.rglob("*-2025-03.html"))
    lost.unlink()
    assert parts(render(archive, theme="dark")) == {lost.name}
    manifest = manifest_path(lost.with_name(lost.name.rsplit("-", 2)[0] + ".html"))
    manifest.write_text("[not a manifest")
    rewritten = parts(render(archive, theme="dark"))
    assert lost.name in rewritten and len(rewritten) > 20 and rewritten < all_parts


def test_each_part_keeps_its_search_file_and_a_gone_part_takes_its_file(archive):
    """A part's search file is written with its part and kept with it; the index's lists
    every part's. A part that a narrower window no longer has goes with its search file, and a
    whole page after --split leaves none of the parts' files; a lost search file rewrites its
    part."""
    render(archive)
    index = next(p for p in archive.rglob("*.html") if p.parent.name == p.stem)
    searches = sorted(p.name for p in index.parent.glob("*.search.js"))
    htmls = sorted(p.name for p in index.parent.glob("*.html"))
    assert searches == [name[: -len(".html")] + ".search.js" for name in htmls]
    assert len(searches) > 20
    listed = re.search(r'"sources":(\[[^]]*\])', index.with_suffix(".search.js").read_text())
    assert json.loads(listed[1]) == [quote(name) for name in searches if name != index.stem +
                                     ".search.js"]  # fmt: skip
    lost = next(index.parent.glob("*-2025-03.search.js"))
    lost.unlink()
    assert parts(render(archive)) == {lost.name.replace(".search.js", ".html")}
    assert lost.is_file()
    render(archive, filters=Filters(since="2026-01-01T00:00:00.000Z"))
    kept = sorted(p.name for p in index.parent.glob("*.search.js"))
    assert kept == [name[: -len(".html")] + ".search.js"
                    for name in sorted(p.name for p in index.parent.glob("*.html"))]  # fmt: skip
    assert 1 < len(kept) < len(searches) and not lost.exists()
    settings = RenderOptions(zone=ZONE, zone_name="Europe/Amsterdam")
    render_spaces(archive, [], True, settings)
    assert sorted(p.name for p in index.parent.glob("*.search.js")) == [index.stem + ".search.js"]


def test_every_page_links_home_and_the_home_page_lists_every_space(archive):
    written = render(archive)
    home = archive / "index.html"
    text = home.read_text(encoding="utf-8")
    with sqlite3.connect(archive / "archive.db") as conn:
        folders = [folder for (folder,) in conn.execute("SELECT folder FROM spaces")]
    for folder in folders:
        assert text.count(f'<a href="{quote(folder)}/{quote(folder)}.html">') == 2
    for page in written:
        assert '<p class="home"><a href="../index.html">← all spaces</a></p>' in page.read_text(
            encoding="utf-8"
        )


def test_a_part_follows_the_row_before_it(archive):
    """Whether a month's first message shows its author depends on the message before it, in
    the month before: a message added there (sync fills history in any order) changes both."""
    changes = Changes(archive, 3)
    template = changes.messages("parent_id IS NULL AND space_id = (SELECT min(space_id) FROM "
                                "messages)")[0]  # fmt: skip
    first = template | {"id": "march-first", "text": "first of March", "html": None,
                        "created": "2025-02-28T23:01:00.000Z"}  # 00:01 in Amsterdam  # fmt: skip
    changes.save(first)
    render(archive)
    changes.save(first | {"id": "february-last", "created": "2025-02-28T22:59:00.000Z"})
    changes.close()
    written = parts(render(archive))
    assert {name[-12:] for name in written} == {"2025-02.html", "2025-03.html"}
    after = pages(archive)
    render(archive, force=True)
    assert pages(archive) == after


def test_an_archive_without_a_record_of_changes_is_read_whole_until_a_sync_adds_it(
    archive, readings
):
    """An archive synced by the previous version has no ``changes`` table, and render (read
    only) cannot add it: every rendering reads every row, as before. The next sync's open adds
    it; the rendering after that reads everything once more (no marks yet), the next reads only
    what changed."""
    with sqlite3.connect(archive / "archive.db") as conn:
        names = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'changes_%'"
        ).fetchall()
        for (name,) in names:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE changes")
    render(archive)
    changes = Changes(archive, 5)  # opening for writing upgrades it
    changes.late_reply()
    changes.close()
    readings.clear()
    written = parts(render(archive))
    assert [result for _, result in readings] == [None] * 3  # no marks recorded yet
    assert len(written) == 1  # the digests still keep what did not change
    changes = Changes(archive, 6)
    changes.late_reply()
    changes.close()
    readings.clear()
    written = parts(render(archive))
    assert all(result is not None for _, result in readings) and len(readings) == 6
    after = pages(archive)
    render(archive, force=True)
    assert pages(archive) == after


def test_the_custody_statement_of_an_incremental_rendering_holds(archive):
    """The statement lists every part, kept ones with the sha256 recorded when they were
    written (read again only if their size or time changed), and ``verify`` agrees with it;
    a kept part changed since, even with its size and time put back, is reported."""
    render(archive)
    changes = Changes(archive, 8)
    changes.new(3)
    changes.close()
    written = parts(render(archive))
    assert 0 < len(written) <= 2
    assert all(verdict.ok for verdict in verify(archive)), [v.lines() for v in verify(archive)]
    statement = json.loads(next(archive.rglob("Project Atlas.custody.json")).read_text())
    listed = {entry["path"]: entry["sha256"] for entry in statement["outputs"]}
    folder = next(archive.rglob("Project Atlas.html")).parent
    on_disk = {p.name for p in folder.iterdir() if p.suffix in (".html", ".js")}
    assert set(listed) == on_disk
    kept = folder / "Project Atlas-2025-03.html"
    assert listed[kept.name] == hashlib.sha256(kept.read_bytes()).hexdigest()
    stat = kept.stat()
    text = kept.read_text(encoding="utf-8")
    kept.write_text(text.replace("<main", "<mAin", 1), encoding="utf-8")  # same size
    os.utime(kept, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    render(archive)  # nothing changed: the part is kept, its recorded sha256 is stated
    [verdict] = verify(folder / "Project Atlas.custody.json")
    assert [Path(p).name for p in verdict.changed] == [kept.name]
    kept.write_text(text + " ", encoding="utf-8")  # another size: read again
    render(archive)
    assert all(verdict.ok for verdict in verify(archive))


def test_a_forced_rendering_records_what_the_next_one_starts_from(archive, readings):
    render(archive, force=True)
    changes = Changes(archive, 10)
    changes.new(2)
    changes.close()
    readings.clear()
    assert len(parts(render(archive))) == 1
    assert all(result is not None for _, result in readings) and len(readings) == 6


def test_newest_first_is_read_incrementally_too(archive, readings):
    newest = Filters(sort="newest")
    render(archive, filters=newest)
    changes = Changes(archive, 9)
    changes.new(5)
    changes.late_reply()
    changes.edit()
    changes.close()
    readings.clear()
    written = parts(render(archive, filters=newest))
    assert all(result is not None for _, result in readings) and len(readings) == 6
    assert 0 < len(written) <= 6
    after = pages(archive)
    render(archive, filters=newest, force=True)
    assert pages(archive) == after


def test_a_damaged_cache_is_not_used(archive, readings):
    render(archive)
    manifest = next(archive.rglob(".Project Atlas.rendered.json"))
    record = json.loads(manifest.read_text())
    first = record["cache"]["keys"][0]
    record["cache"]["parts"][first]["authors"] = "not rows"
    manifest.write_text(json.dumps(record))
    readings.clear()
    assert parts(render(archive)) == set()  # read whole: the digests still keep every part
    assert ("prepare", None) in readings
    assert sum(1 for name, result in readings if name == "prepare" and result) == 2

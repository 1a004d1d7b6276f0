"""Hostile file names on disk and in the page: contained, never overwritten, always findable.

The catalogue space holds every hostile attachment name (traversal spelled every way, absolute
paths, Windows device names, 10,000-character names, NFC/NFD/case/compatibility twins, the
same name twice) and each attachment has bytes of its own. After a real sync over HTTP with
every file and avatar downloaded, the disk must hold exactly what the database says, each
file with its own bytes, and every file must be reachable from the rendered pages through a
correctly percent-encoded link.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from render.custody import SUFFIX as CUSTODY
from render.custody import custody_path
from render.manifest import SUFFIX, manifest_path
from render.model import Pseudonyms
from render.query import people_names
from render.search_index import index_path
from tests.security.conftest import Hostile
from webex_emulator import hostile
from webex_layout import HOME_PAGE

# SQLite's companions come and go with connections (a reader makes them too): not compared.
SQLITE_COMPANIONS = {"archive.db-wal", "archive.db-shm"}
# What an href or src may hold: RFC 3986 characters and well-formed percent escapes. Non-ASCII
# is allowed too (HTML5 URLs are IRIs), but nothing that needs escaping: no space, quote, '#'
# inside a path, '[', '|', '^', '`', '{', '}', '\\', or a bare '%'.
URL = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2}|[^\x00-\x7f])*")


class Links(HTMLParser):
    """Every URL a page points at: a[href], img[src] and the pop-up's button[data-full]."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for attribute in ("href", "src", "data-full"):
            value = named.get(attribute)
            if value and not value.startswith(("#", "https://", "http://", "mailto:")):
                path, _, fragment = value.partition("#")  # a --split link's "#m-2024-03"
                assert URL.fullmatch(fragment), value
                self.urls.append(path)


def links(page: Path) -> list[str]:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def without_companions(files: dict[Path, str]) -> dict[Path, str]:
    return {path: sha for path, sha in files.items() if path.name not in SQLITE_COMPANIONS}


def lock(path: Path) -> bool:
    """The archive's lock file, if the sync leaves one (it is no download)."""
    return path.name == "archive.lock"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_rows(hostile_archive: Hostile, space_id: str | None = None) -> list[dict]:
    sql = "SELECT * FROM files" + (" WHERE space_id = ?" if space_id else "")
    with hostile_archive.db() as conn:
        return [dict(row) for row in conn.execute(sql, [space_id] if space_id else [])]


def avatar_rows(hostile_archive: Hostile) -> list[dict]:
    with hostile_archive.db() as conn:
        return [dict(row) for row in conn.execute("SELECT * FROM avatars")]


def test_every_hostile_name_was_downloaded(hostile_archive: Hostile) -> None:
    rows = file_rows(hostile_archive, hostile_archive.catalogue["id"])
    names = [content.filename for content in hostile_archive.dataset.contents.values()]
    expected = hostile.FILE_NAMES + hostile.MORE_FILE_NAMES + hostile.IMAGE_NAMES
    assert all(name in names for name in expected)
    assert len(rows) == len(expected) + len(hostile.LYING_FILES) + 2
    assert {row["status"] for row in rows} == {"downloaded"}


def test_disk_holds_exactly_what_the_database_says(hostile_archive: Hostile) -> None:
    """Nothing was written outside the space folders: the sandbox around the archive holds the
    database, the files rows' local paths and the avatars' (each inside its own space's
    folder), and not one file more; nothing appeared at the absolute paths the names name."""
    archive = hostile_archive.archive
    with hostile_archive.db() as conn:
        folders = dict(conn.execute("SELECT id, folder FROM spaces").fetchall())
    expected = {archive / "archive.db"} | {p for p in hostile_archive.after_sync if lock(p)}
    for row in file_rows(hostile_archive) + avatar_rows(hostile_archive):
        path = archive / row["local_path"]
        assert (archive / folders[row["space_id"]]).resolve() in path.resolve().parents
        assert all(len(part.encode()) <= 255 for part in Path(row["local_path"]).parts)
        expected.add(path)
    assert set(without_companions(hostile_archive.after_sync)) == expected
    assert hostile_archive.created_outside == []
    assert not [p for p in hostile_archive.sandbox.rglob("*") if p.is_symlink()]


def test_rendering_adds_its_outputs_and_changes_nothing_else(hostile_archive: Hostile) -> None:
    before = without_companions(hostile_archive.after_sync)
    after = without_companions(hostile_archive.after_render)
    written = {path for paths in hostile_archive.rendered.values() for path in paths}
    manifests = {path for path in after if path.name.endswith(SUFFIX)}  # render/manifest.py
    assert manifests and manifests <= {manifest_path(path) for path in written}
    home = hostile_archive.archive / HOME_PAGE  # the "page" variant renders into the archive
    searches = {path for path in after if path.name.endswith(".search.js")}  # a page's search
    assert searches and searches <= {index_path(path) for path in written}
    custody = {path for path in after if path.name.endswith(CUSTODY)}  # render/custody.py
    assert custody and custody <= {custody_path(path) for path in written}
    assert set(after) == set(before) | written | manifests | searches | custody | {home}
    assert not written & set(before)
    assert {path: after[path] for path in before} == before  # no byte of a download changed
    with hostile_archive.db() as conn:
        folders = {row[0] for row in conn.execute("SELECT folder FROM spaces")}
    for path in hostile_archive.rendered["page"]:  # the default place: inside the space folder
        assert path.parent.parent == hostile_archive.archive and path.parent.name in folders


def test_no_file_overwrote_another(hostile_archive: Hostile) -> None:
    """Each row's file has exactly the bytes the emulator served for that row's content, so
    two attachments with the same name, or names that are the same on macOS or Windows
    (NFC/NFD, upper/lower case), or the same after cleaning, both survive."""
    contents = hostile_archive.dataset.contents
    paths_by_bytes: dict[str, set[str]] = {}
    for row in file_rows(hostile_archive):
        body = contents[row["url"].rsplit("/", 1)[1]].body()
        on_disk = (hostile_archive.archive / row["local_path"]).read_bytes()
        assert digest(on_disk) == digest(body) == row["sha256"], row["name"]
        paths_by_bytes.setdefault(row["sha256"], set()).add(row["local_path"])
    # Rows share a file only when their bytes are identical (de-duplication), never otherwise.
    assert all(len(paths) == 1 for paths in paths_by_bytes.values())
    assert len({p for paths in paths_by_bytes.values() for p in paths}) == len(paths_by_bytes)


def test_name_twins_get_files_of_their_own(hostile_archive: Hostile) -> None:
    rows = file_rows(hostile_archive, hostile_archive.catalogue["id"])
    by_name: dict[str, list[str]] = {}
    for row in rows:
        folded = unicodedata.normalize("NFC", row["name"] or "").casefold()
        by_name.setdefault(folded, []).append(row["local_path"])
    twins = {
        "café.txt": 3,  # café.txt, cafe\u0301.txt, CAFÉ.TXT
        "café.png": 2,
        "same name.txt": 2,
        "å.txt": 2,  # U+212B ANGSTROM SIGN and U+00C5
        "résumé.pdf": 2,
    }
    for name, count in twins.items():
        assert len(by_name[name]) == count and len(set(by_name[name])) == count, name


def test_every_file_is_linked_from_its_page_and_the_link_resolves(hostile_archive: Hostile) -> None:
    """Each downloaded file (and avatar) appears in the space's page as an href, src or
    pop-up target that is a valid URL (percent-encoded where a name needs it) and that,
    decoded and resolved against the page, is that very file."""
    archive = hostile_archive.archive
    avatars: dict[str, set[str]] = {}
    for row in avatar_rows(hostile_archive):
        avatars.setdefault(row["space_id"], set()).add(row["local_path"])
    with hostile_archive.db() as conn:
        spaces = [row[0] for row in conn.execute("SELECT id FROM spaces")]
    checked = 0
    for space_id in spaces:
        page = hostile_archive.page("page", space_id)
        urls = links(page)
        assert [u for u in urls if not URL.fullmatch(u)] == []
        targets = {(page.parent / unquote(url)).resolve() for url in urls}
        assert all(target.is_file() for target in targets)
        wanted = {row["local_path"] for row in file_rows(hostile_archive, space_id)}
        wanted |= avatars.get(space_id, set())
        missing = [p for p in wanted if (archive / p).resolve() not in targets]
        assert missing == [], page.name
        checked += len(wanted)
    assert checked >= 80


def test_split_and_blurred_pages_link_every_file_too(hostile_archive: Hostile) -> None:
    """Parts and blurred pages live in another folder: their relative links must still find
    every file (checked over all pages of the rendering together)."""
    wanted = {
        (hostile_archive.archive / row["local_path"]).resolve()
        for row in file_rows(hostile_archive)
    }
    for variant in ("split", "blur"):
        found = set()
        for page in hostile_archive.html(variant):
            urls = links(page)
            assert [u for u in urls if not URL.fullmatch(u)] == []
            found |= {(page.parent / unquote(url)).resolve() for url in urls}
        assert all(target.is_file() for target in found)
        if variant == "blur":  # but a file whose path names someone (tests/render/test_blur.py)
            wanted = {path for path in wanted if not names_anyone(hostile_archive, path)}
        assert wanted <= found, variant


def names_anyone(hostile_archive: Hostile, path: Path) -> bool:
    with hostile_archive.db() as conn:
        blur = Pseudonyms.build(people_names(conn))
    return blur.names_anyone(str(path.relative_to(hostile_archive.archive.resolve())))

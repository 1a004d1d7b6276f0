"""Chain of custody: beside every rendering, a manifest that says what was written from what,
and the check (``webex-archive verify``) that the files are still exactly those.

A rendering of a space writes ``X.custody.json`` beside its outputs ``X.html``, ``X.json``,
``X-2024-03-31.rsmf``…: the tool and its version, the archive (its id, schema version and
the sync runs it was last brought up to date by), the space, the window (filters, sort,
time zone), whether names were blurred, and the sha256 and size of every file the rendering
wrote and of every attachment and avatar it refers to. Paths are relative to the manifest's
folder (``/``-separated), so the folder can be moved or copied with the archive and still
be verified. An attachment's sha256 is the one the sync computed when it downloaded the
bytes from Webex, so a file changed on disk before the rendering is reported too.

It is a sibling of render/manifest.py's ``.X.rendered.json``, not an extension of it: that
record is the renderer's own bookkeeping (which names to remove next time), read leniently
and updated one format at a time; this one is a statement for people, replaced whole by
each rendering of the space, and read strictly. Mixing them would let a damaged bookkeeping
file weaken the evidence, or a hand-edited statement remove files.

``verify`` reports, one line each, every file that changed (its size or sha256 differs),
every file missing, and every file added: in the manifest's folder, a name the renderer
gives to the manifest's page in one of its formats (``X.<fmt>``, ``X-<part>.<fmt>``) that
the manifest does not list.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from webex_layout import atomic_write

from .manifest import PARTS
from .model import Pseudonyms
from .page import Page
from .query import RenderError, people_names
from .version import VERSION

SUFFIX = ".custody.json"
FORMAT, FORMAT_VERSION = "webex-space-archive custody", 1
_SHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# The downloaded attachments and avatars of the messages in a window (``{table}``), read from
# whichever side is smaller: the window's rows, each joined to its message and its files
# (``_BY_ROWS``: a --last window of a few rows), or the space's files and avatars, each
# looked up among the window's rowids, which SQLite gathers once for ``IN`` (``_BY_FILES``:
# a window of every message, where the rows are many: 0.85 s → 0.25 s at 100,000 messages
# and 9,600 files). The ``+`` keeps SQLite from probing the person index once per rowid.
_BY_ROWS = """
SELECT f.local_path, f.sha256 FROM {table} AS o JOIN messages AS m ON m.rowid = o.rid
JOIN files AS f ON f.message_id = m.id
WHERE f.status = 'downloaded' AND f.local_path IS NOT NULL
UNION
SELECT av.local_path, av.sha256 FROM {table} AS o JOIN messages AS m ON m.rowid = o.rid
JOIN avatars AS av ON av.space_id = :space AND av.person_id = m.person_id
WHERE :avatars
ORDER BY 1
"""
_BY_FILES = """
SELECT f.local_path, f.sha256 FROM files AS f JOIN messages AS m ON m.id = f.message_id
WHERE f.space_id = :space AND f.status = 'downloaded' AND f.local_path IS NOT NULL
  AND m.rowid IN (SELECT rid FROM {table})
UNION
SELECT av.local_path, av.sha256 FROM avatars AS av
WHERE av.space_id = :space AND :avatars AND EXISTS (
    SELECT 1 FROM messages AS m WHERE m.person_id = av.person_id
    AND +m.rowid IN (SELECT rid FROM {table}))
ORDER BY 1
"""
# The same for a window of all the space's messages, read without it (an incremental --split
# rendering holds only some months in its window): a file row is in its message's space.
_REFERENCED_SPACE = """
SELECT local_path, sha256 FROM files
WHERE space_id = :space AND status = 'downloaded' AND local_path IS NOT NULL
UNION
SELECT av.local_path, av.sha256 FROM avatars AS av
WHERE av.space_id = :space AND :avatars AND EXISTS (
    SELECT 1 FROM messages AS m WHERE m.person_id = av.person_id AND m.space_id = :space)
ORDER BY 1
"""


class CustodyError(RenderError):
    """A custody manifest that cannot be read or found: one line."""


def custody_path(page: Path) -> Path:
    return page.with_name(f"{page.stem}{SUFFIX}")


def sha256_of(path: Path) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


class Ledger:
    """The files a writer put in a folder, each with the sha256 and size of the bytes it
    wrote, so that the statement lists them without reading them again (an EML folder: a
    file per mail, 110,000 files read again cost more CPU than writing them). In a temporary
    SQLite file, where the folder's names are sorted too: a million entries stay on disk."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # a private temporary file, gone when closed
        self.db.execute("CREATE TABLE files (name BLOB PRIMARY KEY, sha256 TEXT, size INTEGER)"
                        " WITHOUT ROWID")  # fmt: skip

    def load(self, records: IO[bytes]) -> None:
        """Lines of ``name TAB sha256 TAB size`` (the writer's records)."""
        rows = (line.rstrip(b"\n").split(b"\t") for line in records)
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO files (name, sha256, size) "
                                "VALUES (?, ?, ?)",
                                ((name, digest.decode("ascii"), int(size))
                                 for name, digest, size in rows))  # fmt: skip

    def close(self) -> None:
        self.db.close()


def write_custody(conn: sqlite3.Connection, archive: Path, page: Page, table: str | None,
                  written: list[Path], known: dict[Path, str] | None = None,
                  ledgers: dict[Path, Ledger] | None = None) -> Path:  # fmt: skip
    """Write the custody manifest of one space's rendering (``page``: any of its formats;
    ``table``: its window, None for a window of all the space's messages; ``written``: every
    file it wrote; ``known``: the sha256 of those already hashed, render/split.py's;
    ``ledgers``: what the writer of a folder of files wrote into it); return its path."""
    path = custody_path(page.path)
    options, filters = page.options, page.options.filters
    attachments, withheld = _attachments(conn, archive, path.parent, page, table)
    about = {
        "archive": archive_facts(conn),
        "space": {"id": page.space["id"], "title": page.title,
                  "last_synced": page.space.get("last_synced_at")},
        "window": {"since": filters.since, "until": filters.until, "last": filters.last,
                   "sort": filters.sort, "description": options.filters_text,
                   "time_zone": options.zone_name or str(page.clock.zone)},
        "blur": options.blur,
        "formats": list(options.formats),
    }  # fmt: skip
    return write_statement(path, page.root, about, written, attachments, withheld, known, ledgers)


def write_statement(path: Path, root: Path, about: dict, written: list[Path],
                    attachments: list[dict] | None = None, withheld: int = 0,
                    known: dict[Path, str] | None = None,
                    ledgers: dict[Path, Ledger] | None = None) -> Path:  # fmt: skip
    """Write a custody manifest at ``path`` (inside ``root``): the tool, ``about`` (what was
    rendered or exported, from what; its ``formats``, the extensions of the files it names,
    are what ``verify`` reports as added), every file ``written`` with its sha256 and size,
    and the ``attachments`` referred to (``_entry``'s shape). An export that is not a space's
    rendering calls this directly."""
    folder = path.parent
    record = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "tool": {"name": "webex-space-archive", "version": VERSION},
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **about,
        "outputs": [],
        "attachments": attachments or [],
        "attachments_withheld": withheld,
    }  # fmt: skip
    # The outputs are streamed into their place in the document, each as json.dumps would
    # indent it there: an EML folder of a million mails is a million entries. A literal line
    # break in the text is indentation (strings escape theirs), so the top level's key is
    # found exactly.
    head, tail = json.dumps(record, ensure_ascii=False, indent=1).split(_OUTPUTS, 1)
    with atomic_write(path, root) as out:
        out.write(head + '\n "outputs": [')
        separator = "\n  "
        for file, name, facts in _files(dict.fromkeys(written), folder, ledgers or {}):
            if facts:  # hex digits and a number: as json.dumps writes them
                digest, size = f'"{facts[0]}"', str(facts[1])
            else:
                assert file is not None  # what no ledger vouches for is read
                digest, size = map(_TEXT, _facts(file, (known or {}).get(file)))
            out.write(f'{separator}{{\n   "path": {_TEXT(name)},\n   "sha256": {digest},'
                      f'\n   "size": {size}\n  }}')  # fmt: skip
            separator = ",\n  "
        out.write(("\n ]" if separator != "\n  " else "]") + tail + "\n")
    return path


_OUTPUTS = '\n "outputs": []'  # the empty list in the document, where the entries go
_TEXT = json.JSONEncoder(ensure_ascii=False).encode  # a value as json.dumps writes it
_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


Facts = tuple[str, int]  # (sha256, size)


Listed = tuple[Path | None, str, Facts | None]  # a file (None: not to be read), its name, facts


def _files(written: Iterable[Path], folder: Path,
           ledgers: dict[Path, Ledger]) -> Iterator[Listed]:  # fmt: skip
    """The files written, each with its path relative to ``folder`` (``/``-separated) and its
    facts where its writer's ledger has them (then it is not read): a folder an output is
    (EML's, one mail a file) stands for the regular files in it, which are what a reader of
    the statement must be able to check."""
    for path in written:
        relative = Path(os.path.relpath(path, folder)).as_posix()
        if path.is_dir() and not path.is_symlink():
            inside = "" if relative == "." else f"{relative}/"
            ledger = ledgers.get(path)
            for name, facts in _sorted_files(path, ledger or Ledger()):
                yield (None if facts else path / name), inside + name, facts  # no Path to spare
        else:
            yield path, relative, None


def _facts(path: Path, known: str | None = None) -> tuple[str | None, int | None]:
    """(sha256, size) of a regular file (a link to one counts), or (None, None): one open
    and one fstat, where is_file, a hash and a stat were three lookups of the path (an EML
    folder has a file per mail). Opened without blocking, so a FIFO put there cannot stall
    the rendering: it is no regular file, so it is reported as no file. ``known``: its
    sha256 as recorded when it was last read (a kept --split part), not read again."""
    try:
        handle = os.open(path, _READ)
    except OSError:
        return None, None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            return None, None
        if known:
            return known, info.st_size
        digest = hashlib.sha256()
        while chunk := os.read(handle, 1 << 20):
            digest.update(chunk)
        return digest.hexdigest(), info.st_size
    finally:
        os.close(handle)


def _sorted_files(folder: Path, ledger: Ledger) -> Iterator[tuple[str, Facts | None]]:
    """The names of the regular files in ``folder``, each with its facts if ``ledger`` has
    them, sorted in the ledger's temporary SQLite file rather than in a list: a million
    mails' names would hold 100 MB. The names are kept as the bytes of their file system form,
    whose order is the order of their characters for UTF-8 names (what Python's ``sorted``
    gives). A name in the ledger that is no regular file of the folder now is not listed."""
    db = ledger.db
    try:
        # The folder's names in a table of their own, then sorted and joined to the
        # ledger's: marking each name in the ledger cost an upsert a mail (1 s at 100,000),
        # a table sorted as they went in 0.6 s.
        with os.scandir(folder) as entries, db:
            db.execute("CREATE TABLE listed (name BLOB)")
            db.executemany("INSERT INTO listed VALUES (?)", (
                (os.fsencode(entry.name),) for entry in entries
                if entry.is_file(follow_symlinks=False)))  # fmt: skip
        rows = db.execute("SELECT l.name, f.sha256, f.size FROM listed AS l "
                          "LEFT JOIN files AS f ON f.name = l.name ORDER BY l.name")  # fmt: skip
        for name, digest, size in rows:
            yield os.fsdecode(name), (digest, size) if digest else None
    finally:
        ledger.close()


def _entry(folder: Path, file: Path, sha256: str | None = None) -> dict:
    """A file as the manifest lists it; ``sha256``: what the archive recorded for it."""
    exists = file.is_file()
    return {
        "path": Path(os.path.relpath(file, folder)).as_posix(),
        "sha256": sha256 or (sha256_of(file) if exists else None),
        "size": file.stat().st_size if exists else None,
    }


def _attachments(conn: sqlite3.Connection, archive: Path, folder: Path, page: Page,
                 table: str | None) -> tuple[list[dict], int]:  # fmt: skip
    """The files the window refers to, and how many --blur leaves out because their
    stored path names someone (their path would say the name)."""
    blur = Pseudonyms.build(people_names(conn)) if page.options.blur else None
    avatars = not blur and (page.options.avatar_files or "rsmf" in page.options.formats)
    sql = _referenced(conn, table, page.space["id"]) if table else _REFERENCED_SPACE
    rows = conn.execute(sql,
                        {"space": page.space["id"], "avatars": avatars})  # fmt: skip
    found, withheld = [], 0
    for local_path, sha256 in rows:
        if blur and blur.names_anyone(local_path):
            withheld += 1
            continue
        found.append(_entry(folder, archive / local_path, sha256))
    return found, withheld


def _referenced(conn: sqlite3.Connection, table: str, space_id: str) -> str:
    """The statement that reads the attachments of the window ``table`` fastest (the two
    give the same rows): from its rows when they are fewer than the space's files."""
    rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    files = conn.execute("SELECT count(*) FROM files WHERE space_id = ?", [space_id])
    return (_BY_FILES if files.fetchone()[0] < rows else _BY_ROWS).format(table=table)


def archive_facts(conn: sqlite3.Connection) -> dict:
    """The archive's id, schema version, and its last sync run and last good one."""
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    runs = {}
    for name, where in (("last_sync_run", ""), ("last_good_sync_run", "WHERE status = 'ok'")):
        cursor = conn.execute(f"SELECT id, started_at, finished_at, status FROM sync_runs "
                              f"{where} ORDER BY id DESC LIMIT 1")  # fmt: skip
        row = cursor.fetchone()
        runs[name] = (
            dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None
        )
    return {"id": meta.get("archive_id"), "schema_version": meta.get("schema_version"), **runs}


@dataclass
class Verdict:
    """What ``verify`` found for one custody manifest."""

    manifest: Path
    digest: str  # the manifest's own sha256, to compare with a copy kept elsewhere
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.added)

    def lines(self) -> list[str]:
        return ([f"changed: {p}" for p in self.changed] + [f"missing: {p}" for p in self.missing]
                + [f"added: {p}" for p in self.added])  # fmt: skip


def verify(path: Path) -> list[Verdict]:
    """Check the custody manifest ``path``, or every one in the folder ``path`` and below."""
    if path.is_dir():
        manifests = sorted(p for p in path.rglob(f"*{SUFFIX}") if p.is_file())
        if not manifests:
            raise CustodyError(f"no custody manifest (*{SUFFIX}) in {shown(path)}: render "
                               "there first, or name the manifest")  # fmt: skip
        return [check(manifest) for manifest in manifests]
    if not path.is_file():
        raise CustodyError(f"{shown(path)} does not exist: name a {SUFFIX} file or a folder")
    return [check(path)]


def check(manifest: Path) -> Verdict:
    """Compare the files a manifest lists with what is on disk now."""
    record = _load(manifest)
    folder = manifest.parent
    verdict = Verdict(manifest, sha256_of(manifest))
    listed = set()
    for entry in [*record["outputs"], *record["attachments"]]:
        target = folder / entry["path"]
        listed.add(os.path.normpath(target))
        verdict.checked += 1
        if not target.is_file():  # a device or a folder is not the file that was written
            verdict.missing.append(shown(target))
        elif target.stat().st_size != entry["size"] or sha256_of(target) != entry["sha256"]:
            verdict.changed.append(shown(target))
    stem = manifest.name.removesuffix(SUFFIX)
    kinds = "|".join(re.escape(fmt) for fmt in record["formats"])
    ours = re.compile(rf"{re.escape(stem)}{PARTS}\.({kinds})")
    for candidate in sorted(folder.iterdir()):
        if ours.fullmatch(candidate.name) and os.path.normpath(candidate) not in listed:
            verdict.added.append(shown(candidate))
    outputs = {os.path.normpath(folder / entry["path"]) for entry in record["outputs"]}
    inner = {os.path.dirname(p) for p in outputs} - {os.path.normpath(folder)}
    for sub in sorted(Path(d) for d in inner if Path(d).parent == folder and Path(d).is_dir()):
        for candidate in sorted(sub.iterdir()):  # an output folder's files (EML's mails)
            if candidate.is_file() and os.path.normpath(candidate) not in listed:
                verdict.added.append(shown(candidate))
    return verdict


def _load(manifest: Path) -> dict:
    """The manifest, checked to be one: a wrong or damaged file is an error, not a pass."""
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CustodyError(f"{shown(manifest)} cannot be read as a custody manifest: "
                           f"{error}") from None  # fmt: skip
    entries = ("outputs", "attachments")
    if (
        not isinstance(record, dict) or record.get("format") != FORMAT
        or not all(isinstance(record.get(key), list) for key in (*entries, "formats"))
        or not all(_valid(e) for key in entries for e in record[key])
    ):  # fmt: skip
        raise CustodyError(f"{shown(manifest)} is not a custody manifest of this tool")
    if record.get("version") != FORMAT_VERSION:
        raise CustodyError(f"{shown(manifest)} is custody format version "
                           f"{record.get('version')!r}; this tool reads {FORMAT_VERSION}: "
                           "upgrade webex-archive")  # fmt: skip
    return record


def _valid(entry: object) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("path"), str)
            and isinstance(entry.get("size"), int | None)
            and isinstance(entry.get("sha256"), str | None))  # fmt: skip


def shown(path: Path | str) -> str:
    """A path for a terminal line: characters that could rewrite the line as ``\\uXXXX``."""
    return _SHOWN.sub(lambda m: f"\\u{ord(m.group()):04x}", str(path))

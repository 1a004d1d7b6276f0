"""``webex-archive export --parquet DIR``: the archive's tables as a partitioned Parquet data
set, the way past one SQLite file to DuckDB, Spark, Polars or Trino.

It reads only the archive, like every rendering, and honours the same choices: the spaces,
the window (``--since/--until/--days/--last``: the window's messages and the thread starts
its replies need, as on a page) and ``--blur``. The layout, Hive-style so that every engine
prunes by space and month without reading the rest::

    DIR/export.json                                       what was exported, when, row counts
    DIR/spaces.parquet                                    the chosen spaces
    DIR/people.parquet                                    everyone their messages and members name
    DIR/memberships/space_id=<id>/part-0.parquet
    DIR/messages/space_id=<id>/month=YYYY-MM/part-0.parquet
    DIR/revisions/space_id=<id>/month=YYYY-MM/part-0.parquet   earlier versions (message_revisions)
    DIR/files/space_id=<id>/month=YYYY-MM/part-0.parquet       attachment rows

Columns are the archive's (schema.sql; ``docs/schema.md``), times its UTC text
(``2024-03-05T08:15:00.000Z``), minus the partition columns, which live in the path (the
space id percent-encoded, as Hive, Arrow and DuckDB read it). ``month`` is the UTC month of the
message (of a revision's or file's message). Rows are written ``BATCH`` at a time, one open
file at a time, so memory stays flat at any size.

With ``--blur`` names and emails are pseudonyms (``Person 3``, ``person3@hidden``) in every
column, text included; person ids become ``hidden-person-3`` (still joinable across the
tables); ``raw`` columns (the API's objects, full of names) are null, and so is a file's
``local_path`` where it names someone.

pyarrow is the optional extra ``[parquet]``; it is imported only here, when an export runs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from webex_layout import UnsafePath, atomic_write

from . import query
from .custody import SUFFIX, archive_facts, write_statement
from .model import Pseudonyms
from .page import blurred_title
from .query import Filters, RenderError
from .sanitize import clean_inline, redact
from .window import Window

# A row group (and a write) ends at BATCH rows or BATCH_BYTES of text, whichever comes first:
# memory holds one batch of one table. A message row costs about 6 KB of memory on the way
# (its text, HTML and API object as Python strings, then as Arrow arrays): batches of 5,000
# messages peaked at 131 MB, of 1 MB of text (about 800 messages) at 107 MB, pyarrow itself
# being 31 MB of that.
BATCH, BATCH_BYTES = 20_000, 1_000_000
MARKER = "export.json"
TABLES = ("spaces", "people", "memberships", "messages", "revisions", "files")
SOURCES = {"revisions": "message_revisions"}  # export name -> archive table, where they differ
EXTRA = "pip install 'webex-space-archive[parquet]'"


def export_parquet(
    archive: Path,
    out: Path,
    spaces: list[str],
    everything: bool,
    filters: Filters,
    blur: bool = False,
) -> dict[str, int]:
    """Write the data set to ``out``; return the rows written per table."""
    arrow = _arrow()
    conn = query.connect(archive)
    try:
        chosen = query.find_spaces(conn, spaces, everything)
        if not chosen:
            raise RenderError("the archive has no spaces yet; run `webex-archive sync` first")
        hider = _Hider(Pseudonyms.build(query.people_names(conn))) if blur else None
        export = _Export(conn, out, arrow, hider)
        try:
            _prepare(out)
            for space in chosen:
                export.space(space, filters)
            export.table("spaces", None, ((None, _values(s)) for s in chosen))
            export.people()
            _write_marker(out, export.counts, filters, blur, [s["id"] for s in chosen])
            _write_custody(conn, out, filters, blur, [s["id"] for s in chosen])
        except (OSError, UnsafePath) as error:
            raise RenderError(f"the export to {out} failed: {error}") from None
        return export.counts
    finally:
        conn.close()


def _arrow() -> Any:
    """pyarrow and pyarrow.parquet, or a one-line error naming the extra."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise RenderError(f"Parquet export needs pyarrow: {EXTRA}") from None
    return pyarrow


def _prepare(out: Path) -> None:
    """``out`` empty, new, or an earlier export (whose tables are removed first: a narrower
    export must not leave the months it no longer covers). Anything else is refused rather
    than mixed with."""
    if out.exists() and not out.is_dir():
        raise RenderError(f"{out} is a file: name a folder for the Parquet data set")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise RenderError(f"{out} is not empty and holds no earlier export: name a new folder")
    out.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        for path in (out / table, out / f"{table}.parquet"):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.is_file() or path.is_symlink():
                path.unlink()


def _write_marker(out: Path, counts: dict, filters: Filters, blur: bool, ids: list) -> None:
    record = {
        "format": "webex-space-archive parquet", "version": 1,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "filters": {"since": filters.since, "until": filters.until, "last": filters.last},
        "blur": blur, "spaces": None if blur else ids, "rows": counts,
    }  # fmt: skip
    with atomic_write(out / MARKER, out) as handle:
        handle.write(json.dumps(record, indent=1) + "\n")


def _write_custody(conn: sqlite3.Connection, out: Path, filters: Filters, blur: bool,
                   ids: list) -> None:  # fmt: skip
    """The export's chain of custody, as a rendering has (render/custody.py): every file of
    the data set with its sha256 and size, from which archive and runs, for `verify`."""
    files = sorted(p for p in out.rglob("*") if p.is_file() and not p.name.endswith(SUFFIX))
    about = {
        "archive": archive_facts(conn),
        "export": "parquet", "spaces": None if blur else ids,
        "window": {"since": filters.since, "until": filters.until, "last": filters.last},
        "blur": blur, "formats": ["parquet"],
    }  # fmt: skip
    write_statement(out / f"export{SUFFIX}", out, about, files)


def _values(row: sqlite3.Row | dict) -> tuple:
    return tuple(row[key] for key in row.keys())  # noqa: SIM118 (sqlite3.Row iterates values)


# The rows of one space's window, table by table, in message time order. ``{rows}`` sorts
# the window's archived rowids by time (keys only), the bodies are then read by rowid.
_SORTED = (
    "(SELECT o.rid FROM {table} AS o JOIN messages AS k ON k.rowid = o.rid "
    "ORDER BY k.created, k.id LIMIT -1) AS s JOIN messages AS m ON m.rowid = s.rid"
)
_QUERIES = {
    "messages": "SELECT substr(m.created, 1, 7), m.* FROM {rows}",
    "revisions": "SELECT substr(m.created, 1, 7), r.* FROM {rows} "
    "JOIN message_revisions AS r ON r.message_id = m.id ORDER BY s.rowid, r.revision",
    "files": "SELECT substr(m.created, 1, 7), f.* FROM {rows} "
    "JOIN files AS f ON f.message_id = m.id ORDER BY s.rowid, f.position",
}


@dataclass
class _Export:
    conn: sqlite3.Connection
    out: Path
    arrow: Any
    hider: _Hider | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    people_ids: set[str] = field(default_factory=set)

    def columns(self, table: str) -> list[tuple[str, str]]:
        info = self.conn.execute(f"PRAGMA table_info({SOURCES.get(table, table)})")
        return [(row[1], row[2].upper()) for row in info]

    def space(self, space: dict, filters: Filters) -> None:
        window = Window(self.conn, space["id"], filters)
        try:
            where = f"space_id={quote(space['id'], safe='')}"
            for table, sql in _QUERIES.items():
                cursor = self.conn.execute(sql.format(rows=_SORTED.format(table=window.table)))
                rows = ((row[0], tuple(row)[1:]) for row in cursor)
                if table == "messages":
                    rows = self._noting_authors(rows)
                self.table(table, where, rows, partition="space_id")
            members = self.conn.execute(
                "SELECT * FROM memberships WHERE space_id = ? ORDER BY created, id", [space["id"]]
            )
            self.table("memberships", where, self._noting_members(members), "space_id")
        finally:
            window.close()

    def _noting_authors(self, rows: Iterable[tuple]) -> Iterator[tuple]:
        index = [name for name, _ in self.columns("messages")].index("person_id")
        for month, values in rows:
            if values[index]:
                self.people_ids.add(values[index])
            yield month, values

    def _noting_members(self, rows: Iterable[sqlite3.Row]) -> Iterator[tuple]:
        for row in rows:
            if row["person_id"]:
                self.people_ids.add(row["person_id"])
            yield None, _values(row)

    def people(self) -> None:
        ids = sorted(self.people_ids)
        chunks = (ids[start : start + 500] for start in range(0, len(ids), 500))
        sql = "SELECT * FROM people WHERE id IN ({}) ORDER BY id"
        rows = (
            (None, _values(row))
            for chunk in chunks
            for row in self.conn.execute(sql.format(",".join("?" * len(chunk))), chunk)
        )
        self.table("people", None, rows)

    def table(
        self, table: str, where: str | None, rows: Iterable[tuple], partition: str = ""
    ) -> None:
        """Write ``rows`` ((month or None, values) in column order) of ``table``: one file, or
        one per space (``where``) and month, ``BATCH`` rows a row group."""
        columns = self.columns(table)
        dropped = {partition} if partition else set()
        kept = [i for i, (name, _) in enumerate(columns) if name not in dropped]
        schema = self.arrow.schema([(columns[i][0], self._type(columns[i][1])) for i in kept])
        hide = self.hider.for_table(table, [name for name, _ in columns]) if self.hider else None
        writer = _Partitions(self, table, where, schema)
        try:
            for month, values in rows:
                values = hide(values) if hide else values
                writer.add(month, [values[i] for i in kept])
        finally:
            writer.close()

    def _type(self, declared: str) -> Any:
        return self.arrow.int64() if "INT" in declared else self.arrow.string()


class _Partitions:
    """One table's rows into its files: a new file whenever the month changes."""

    def __init__(self, export: _Export, table: str, where: str | None, schema: Any):
        self.export, self.table, self.where, self.schema = export, table, where, schema
        self.month: object = ()  # no file open yet
        self.rows: list[list] = []
        self.size = 0
        self.file: Any = None
        self.writer: Any = None

    def add(self, month: str | None, values: list) -> None:
        if month != self.month:
            self.close()
            self.month = month
        self.rows.append(values)
        self.size += sum(len(value) for value in values if type(value) is str)
        if len(self.rows) >= BATCH or self.size >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.writer is None:
            self.open()
        columns = list(zip(*self.rows, strict=True))
        arrays = [self._array(list(c), f.type) for c, f in zip(columns, self.schema, strict=True)]
        self.writer.write_table(self.export.arrow.Table.from_arrays(arrays, schema=self.schema))
        self.export.counts[self.table] += len(self.rows)
        self.rows, self.size = [], 0

    def _array(self, values: list, kind: Any) -> Any:
        """One column; SQLite lets any column hold any type, so a value of another type than
        the column's declared one is written as text (or, in an integer column, null)."""
        arrow = self.export.arrow
        try:
            return arrow.array(values, type=kind)
        except (arrow.ArrowInvalid, arrow.ArrowTypeError, OverflowError):
            if kind == arrow.string():
                values = [v if v is None or isinstance(v, str) else str(v) for v in values]
            else:
                values = [v if isinstance(v, int) and -(2**63) <= v < 2**63 else None
                          for v in values]  # fmt: skip
            return arrow.array(values, type=kind)

    def open(self) -> None:
        out = self.export.out
        path = out / f"{self.table}.parquet"
        if self.where is not None:
            path = out / self.table / self.where
            if self.month is not None:
                path = path / f"month={quote(str(self.month), safe='')}"
            path = path / "part-0.parquet"
        self.file = atomic_write(path, out, text=False)
        handle = self.file.__enter__()
        self.writer = self.export.arrow.parquet.ParquetWriter(handle, self.schema)

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.file.__exit__(None, None, None)
        self.writer = self.file = None


class _Hider:
    """--blur, column by column: which columns hold names, emails, person ids, free text."""

    NAMES = frozenset(
        {"display_name", "nick_name", "first_name", "last_name", "person_display_name"}
    )
    EMAILS = frozenset({"email", "person_email"})
    PEOPLE = frozenset({"id@people", "person_id", "creator_id"})
    TEXTS = frozenset(
        {"text", "markdown", "html", "name", "description", "error", "mentioned_people"}
    )
    GONE = frozenset({"raw", "emails", "avatar", "folder@spaces"})
    # Whose row it is: the person a name or email column stands for; a space's type (a
    # direct space's title is the other person's name).
    OWNER: ClassVar[dict[str, str]] = {"people": "id", "spaces": "type"}

    def __init__(self, blur: Pseudonyms):
        self.blur = blur
        self.ids = {pid: f"hidden-person-{n}" for pid, n in blur.people.items() if pid}
        self.replacements = blur.replacements | {k: v for k, v in self.ids.items() if len(k) > 2}

    def for_table(self, table: str, names: list[str]) -> Callable[[tuple], tuple]:
        owner_column = self.OWNER.get(table, "person_id")
        owner_at = names.index(owner_column) if owner_column in names else None
        rules = [self._rule(table, name) for name in names]

        def hide(values: tuple) -> tuple:
            owner = values[owner_at] if owner_at is not None else None
            return tuple(rule(value, owner) if rule else value
                         for rule, value in zip(rules, values, strict=True))  # fmt: skip

        return hide

    def _rule(self, table: str, name: str) -> Callable[[Any, Any], Any] | None:
        key = f"{name}@{table}"
        if name in self.GONE or key in self.GONE:
            return lambda value, owner: None
        if name in self.PEOPLE or key in self.PEOPLE:
            return lambda value, owner: self.ids.get(value, "hidden-person-0") if value else None
        if key == "id@memberships":  # a membership's id holds its person's
            return lambda value, owner: f"hidden-membership-{_digest(value)}"
        if name in self.NAMES:
            return lambda value, owner: self.blur.name(owner) if value else value
        if name in self.EMAILS:
            return lambda value, owner: self.blur.email(owner) if value else value
        if key == "title@spaces":
            return lambda value, owner: self._title(value, owner)
        if name == "local_path":
            return lambda value, owner: None if value and self.blur.names_anyone(value) else value
        if name in self.TEXTS:
            return lambda value, owner: redact(value, self.replacements) if value else value
        return None

    def _title(self, title: str | None, kind: str | None) -> str:
        return blurred_title(clean_inline(title or "untitled space"), {"type": kind}, self.blur)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]

"""The archive's documentation, taken from schema.sql's own comments.

schema.sql is the single source of truth, comments included. This module reads them so that
``docs/schema.md`` and Datasette's metadata (titles, descriptions, column docs) say exactly
what schema.sql says: a comment block right above a CREATE statement describes it, and a
column's trailing ``--`` comment (plus comment lines right above the column) describes it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from etl.store.database import schema_path

_CREATE = re.compile(
    r"CREATE\s+(?:VIRTUAL\s+)?(TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE
)
_COLUMN = re.compile(r"^\s+(\w+)\s+[A-Z]")


@dataclass
class Entry:
    kind: str  # table | view
    name: str
    description: str
    columns: dict[str, str] = field(default_factory=dict)  # name -> documentation
    types: dict[str, str] = field(default_factory=dict)  # name -> declared type


def _comment(line: str) -> str | None:
    stripped = line.strip()
    return stripped[2:].strip() if stripped.startswith("--") else None


def parse(sql: str) -> list[Entry]:
    """Tables and views with their descriptions and column docs, in schema order."""
    entries: list[Entry] = []
    pending: list[str] = []
    current: Entry | None = None
    for line in sql.splitlines():
        comment = _comment(line)
        if comment is not None:
            pending.append(comment)
            continue
        create = _CREATE.search(line)
        column = _COLUMN.match(line)
        if create:
            current = Entry(create.group(1).lower(), create.group(2), "\n".join(pending))
            entries.append(current)
            pending = []
        elif current is not None and current.kind == "table" and column:
            trailing = line.split("--", 1)[1].strip() if "--" in line else ""
            current.columns[column.group(1)] = " ".join([*pending, trailing]).strip()
            pending = []
        elif not line.strip():
            pending = []  # a blank line ends a comment block that documents nothing
    _add_types(sql, entries)
    return entries


def _add_types(sql: str, entries: list[Entry]) -> None:
    """Declared columns as SQLite itself reports them (views included)."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(sql)
    for entry in entries:
        for _, name, kind, *_ in conn.execute(f"PRAGMA table_info({entry.name})"):
            entry.types[name] = kind or ""
        # Only real columns, in table order (a PRIMARY KEY line is not one).
        entry.columns = {name: entry.columns.get(name, "") for name in entry.types}
    conn.close()


def markdown(entries: list[Entry]) -> str:
    """docs/schema.md: every table and view, its description and its columns."""
    out = [
        "# The archive database (`archive.db`)",
        "",
        "Generated from `schema.sql` by `python -m webex_archive.schema_docs`; do not edit.",
        "Times are UTC text (`YYYY-MM-DDTHH:MM:SS.mmmZ`), booleans 0/1, lists JSON text.",
        "",
    ]
    for entry in entries:
        lines = (entry.description or "").splitlines()
        out += [f"## {entry.name} ({entry.kind})", "", *(f"{line}  " for line in lines), ""]
        if entry.types:
            out += ["| column | type | meaning |", "| --- | --- | --- |"]
            out += [
                f"| `{name}` | {entry.types.get(name, '')} | {doc.replace('|', '/')} |"
                for name, doc in entry.columns.items()
            ]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def datasette_metadata(entries: list[Entry]) -> dict:
    """Metadata for ``datasette archive.db -m metadata.json``: titles, descriptions, columns,
    full-text search on messages, and message HTML shown as text (it is untrusted)."""
    tables = {}
    for entry in entries:
        if entry.name.startswith("messages_fts"):
            continue
        table: dict = {
            "description": " ".join(entry.description.split()),
            "columns": {k: v for k, v in entry.columns.items() if v},
        }
        if entry.name == "messages":
            table.update(
                fts_table="messages_fts", fts_pk="rowid", sort_desc="created", label_column="text"
            )
        if entry.name in ("spaces", "people"):
            table["label_column"] = "title" if entry.name == "spaces" else "display_name"
        tables[entry.name] = table
    return {
        "title": "Webex space archive",
        "description": "Cisco Webex spaces archived by webex-space-archive.",
        "databases": {"archive": {"tables": tables}},
    }


def main() -> None:
    """Write docs/schema.md beside this package (a source checkout)."""
    target = Path(__file__).resolve().parent.parent / "docs" / "schema.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text(markdown(parse(schema_path().read_text())))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()

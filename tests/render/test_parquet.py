"""``webex-archive export --parquet``: the data set read back with pyarrow (and DuckDB, as the
docs query it) and compared with the archive row by row, column by column."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.render.conftest import PEOPLE, SEEN, SPACE_ID

pa = pytest.importorskip("pyarrow")
dataset = pytest.importorskip("pyarrow.dataset")
parquet = pytest.importorskip("pyarrow.parquet")

CLI = [sys.executable, "-m", "webex_archive"]
ROOT = Path(__file__).resolve().parents[2]
TABLES = {"messages": "messages", "revisions": "message_revisions", "files": "files",
          "memberships": "memberships", "people": "people", "spaces": "spaces"}  # fmt: skip


def run(archive: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    return subprocess.run([*CLI, "--archive", str(archive), *args], capture_output=True,
                          text=True, env=clean | (env or {}), timeout=120)  # fmt: skip


@pytest.fixture
def archive(small_archive: Path) -> Path:
    """The small archive with one earlier version of msg-05 (it was edited)."""
    conn = sqlite3.connect(small_archive / "archive.db")
    with conn:
        conn.execute(
            "INSERT INTO message_revisions (message_id, revision, text, updated, raw, "
            "replaced_at) VALUES ('msg-05', 1, 'Draft is ready.', NULL, '{}', ?)",
            [SEEN],
        )
    conn.close()
    return small_archive


def export(archive: Path, out: Path, *options: str) -> dict[str, list[dict]]:
    result = run(archive, "export", SPACE_ID, "--parquet", str(out), *options)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{out}\n"
    return read(out)


def read(out: Path) -> dict[str, list[dict]]:
    """Every table of the data set as rows (partition columns included, as engines see them)."""
    tables = {}
    for table in TABLES:
        single = out / f"{table}.parquet"
        if single.exists():
            tables[table] = parquet.read_table(single).to_pylist()
        elif not (out / table).exists():  # a table without rows has no files
            tables[table] = []
        else:
            found = dataset.dataset(out / table, partitioning="hive", format="parquet")
            tables[table] = found.to_table().to_pylist()
    return tables


def archived(archive: Path, table: str, where: str = "1", order: str = "rowid") -> list[dict]:
    conn = sqlite3.connect(archive / "archive.db")
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}")]
    conn.close()
    return rows


def with_month(rows: list[dict], created: dict[str, str]) -> list[dict]:
    return [row | {"month": created[row.get("message_id") or row["id"]][:7]} for row in rows]


def test_every_table_reads_back_equal_to_the_archive(archive, tmp_path):
    out = tmp_path / "export"
    tables = export(archive, out)
    messages = archived(archive, "messages", order="created, id")
    created = {m["id"]: m["created"] for m in messages}
    assert tables["messages"] == with_month(messages, created)
    revisions = archived(archive, "message_revisions")  # the partition adds their space
    assert tables["revisions"] == [
        revision | {"space_id": SPACE_ID, "month": "2024-03"} for revision in revisions
    ]
    files = archived(archive, "files", order="message_id, position")
    assert tables["files"] == with_month(files, created)
    assert tables["memberships"] == archived(archive, "memberships", order="created, id")
    assert tables["people"] == archived(archive, "people", order="id")
    assert tables["spaces"] == archived(archive, "spaces")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == [
        "files/space_id=space-falcon/month=2024-03/part-0.parquet",
        "memberships/space_id=space-falcon/part-0.parquet",
        "messages/space_id=space-falcon/month=2024-02/part-0.parquet",
        "messages/space_id=space-falcon/month=2024-03/part-0.parquet",
        "messages/space_id=space-falcon/month=2024-04/part-0.parquet",
        "people.parquet",
        "revisions/space_id=space-falcon/month=2024-03/part-0.parquet",
        "spaces.parquet",
    ]
    record = json.loads((out / "export.json").read_text())
    assert record["rows"] == {"spaces": 1, "people": 6, "memberships": 6, "messages": 14,
                              "revisions": 1, "files": 2}  # fmt: skip
    assert record["spaces"] == [SPACE_ID] and record["blur"] is False


def test_a_window_exports_its_messages_and_the_thread_starts_they_need(archive, tmp_path):
    tables = export(archive, tmp_path / "export", "--since", "2024-03-31", "--until",
                    "2024-04-02")  # fmt: skip
    ids = [m["id"] for m in tables["messages"]]
    assert ids == ["msg-09", "msg-10", "msg-11"]  # msg-11's start was never archived
    newest = export(archive, tmp_path / "other", "--last", "2")
    assert [m["id"] for m in newest["messages"]] == ["msg-09", "msg-13", "msg-14"]
    assert [m["id"] for m in newest["people"]] == ["p-alice", "p-bob", "p-carol", "p-dave",
                                                   "p-eve", "p-mara"]  # fmt: skip
    assert newest["files"] == newest["revisions"] == []


def test_a_narrower_export_into_the_same_folder_leaves_no_old_month(archive, tmp_path):
    out = tmp_path / "export"
    export(archive, out)
    tables = export(archive, out, "--since", "2024-04-01")
    assert {m["month"] for m in tables["messages"]} == {"2024-03", "2024-04"}  # msg-09: a start
    assert not (out / "messages" / "space_id=space-falcon" / "month=2024-02").exists()


def test_a_folder_that_holds_something_else_is_refused(archive, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("mine")
    result = run(archive, "export", "--all", "--parquet", str(out))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {out} is not empty and holds no earlier export: name a new folder\n"
    )
    assert (out / "thesis.docx").read_text() == "mine" and len(list(out.iterdir())) == 1
    a_file = tmp_path / "file"
    a_file.write_text("x")
    refused = run(archive, "export", "--all", "--parquet", str(a_file / "sub"))
    assert refused.returncode == 2 and "is a file, not a folder" in refused.stderr


def test_blur_leaves_no_name_email_or_person_id(archive, tmp_path):
    tables = export(archive, tmp_path / "export", "--blur")
    text = json.dumps(tables, ensure_ascii=False, default=str).lower()
    for pid, name, email, _ in PEOPLE:
        for secret in (pid, name, email):
            assert secret.lower() not in text, secret
    assert "eve evil" not in text, text[text.find("eve evil") - 200 :][:300]
    authors = {m["person_id"] for m in tables["messages"]}
    people = {p["id"] for p in tables["people"]}
    assert authors <= people and all(p.startswith("hidden-person-") for p in people)
    assert {p["display_name"] for p in tables["people"]} == {f"Person {n}" for n in range(1, 7)}
    assert all(row["raw"] is None for table in tables.values() for row in table if "raw" in row)
    mentions = next(m for m in tables["messages"] if m["id"] == "msg-03")
    assert mentions["mentioned_people"] == '["hidden-person-1","hidden-person-2"]'
    assert "Person 1" in mentions["html"] and "Person 2" in mentions["html"]


def test_without_pyarrow_the_error_names_the_extra(archive, tmp_path):
    fake = tmp_path / "no-pyarrow" / "pyarrow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no pyarrow here')\n")
    result = run(archive, "export", "--all", "--parquet", str(tmp_path / "out"),
                 env={"PYTHONPATH": str(fake.parent)})  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == (
        "Error: Parquet export needs pyarrow: pip install 'webex-space-archive[parquet]'\n"
    )
    assert not (tmp_path / "out").exists()


def docs_query() -> str:
    """The DuckDB query that docs/exports.md shows under its Parquet section."""
    text = (ROOT / "docs" / "exports.md").read_text(encoding="utf-8")
    section = text.split("## Parquet", 1)[1]
    return re.search(r"```sql\n(.*?)```", section, re.S).group(1)


def test_the_duckdb_query_of_the_docs_answers(archive, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    export(archive, tmp_path / "export")
    cwd = Path.cwd()
    os.chdir(tmp_path)  # the docs' query names the folder ``export`` as a relative path
    try:
        answer = duckdb.sql(docs_query()).fetchall()
    finally:
        os.chdir(cwd)
    assert answer == [
        ("2024-03", "Alice Example", 3),
        ("2024-03", "Carol Chen", 3),
        ("2024-03", "Bob Builder", 2),
        ("2024-04", "Alice Example", 1),
        ("2024-04", "Bob Builder", 1),
        ("2024-04", "Carol Chen", 1),
        ("2024-04", "Eve\x00 \u202eEvil\x07", 1),
    ]


def test_the_export_states_its_files_and_verify_checks_them(archive, tmp_path):
    """The chain of custody of an export: every file of the data set with its sha256, so
    `verify` passes on the export as written and names a Parquet file that changed."""
    out = tmp_path / "export"
    export(archive, out)
    statement = out / "export.custody.json"
    record = json.loads(statement.read_text())
    files = sorted(p for p in out.rglob("*") if p.is_file() and p != statement)
    assert [o["path"] for o in record["outputs"]] == [p.relative_to(out).as_posix() for p in files]
    assert record["export"] == "parquet" and record["spaces"] == [SPACE_ID]
    ok = run(archive, "verify", str(out))
    assert ok.returncode == 0 and ok.stdout.startswith(f"ok: {len(files)} files match")
    [part] = (out / "messages" / "space_id=space-falcon" / "month=2024-02").glob("*.parquet")
    part.write_bytes(part.read_bytes() + b"\0")
    bad = run(archive, "verify", str(out))
    assert bad.returncode == 1 and bad.stdout.splitlines() == [f"changed: {part}"]

"""The README's promises hold: its SQL queries run and answer on a synced archive."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_sql_recipes_answer(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    recent = emu.add_messages(room, 3, seed=5)
    db = store.open_archive(tmp_path)
    with WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, [room], SyncOptions())
        emu.edit_message(recent[0]["id"], text="a later thought")
        emu.delete_message(recent[1]["id"])
        sync_spaces(db, client, [room], SyncOptions())
    queries = re.findall(r"```sql\n(.*?)```", README.read_text(), re.S)
    assert len(queries) == 8
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        answers = [conn.execute(query).fetchall() for query in queries]
    assert all(answers), [len(a) for a in answers]
    changed = answers[-1]
    assert [(row[3], row[4] is not None) for row in changed] == [
        ("a later thought", False),
        (recent[1]["text"], True),
    ]
    # The same recipe through the sqlite-utils command line gives the same rows.
    tool = Path(sys.executable).with_name("sqlite-utils")
    result = subprocess.run(
        [
            str(tool),
            "query",
            "--csv",
            "--no-headers",
            "--",
            str(tmp_path / "archive.db"),
            queries[1],
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(result.stdout.strip().splitlines()) == len(answers[1])


def test_readme_migration_table_is_the_code_s():
    from webex_archive.config import migration_table

    text = README.read_text()
    for key, flag in migration_table():
        assert f"| `{key}` | {flag.replace('|', chr(92) + '|')} |" in text

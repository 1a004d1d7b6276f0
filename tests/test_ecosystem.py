"""The archive with the tools people already use: Datasette, and the generated schema docs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room
from tests.test_cli import run
from webex_archive.schema_docs import markdown, parse, schema_path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_schema_md_is_current():
    expected = markdown(parse(schema_path().read_text()))
    assert (ROOT / "docs" / "schema.md").read_text() == expected, (
        "docs/schema.md is stale: run `python -m webex_archive.schema_docs`"
    )


def test_every_table_is_described():
    entries = {e.name: e for e in parse(schema_path().read_text())}
    assert {
        "spaces",
        "people",
        "memberships",
        "messages",
        "message_revisions",
        "files",
        "coverage",
        "sync_runs",
        "meta",
        "avatars",
        "messages_view",
        "threads",
        "space_stats",
    } <= set(entries)
    assert all(e.description for e in entries.values() if not e.name.startswith("messages_fts"))
    assert entries["messages"].columns["parent_id"].startswith("the thread's first message")


def test_datasette_browses_searches_and_facets(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    emu.post_message(room, text="The quokka budget was approved")
    db = store.open_archive(tmp_path)
    with WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, [room], SyncOptions(download="no"))
    metadata = json.loads(run("datasette-metadata", env={}).stdout)
    # Imported here: 0.4-0.5 CPU s that every xdist worker paid at collection, for one test.
    from datasette.app import Datasette

    app = Datasette([str(tmp_path / "archive.db")], metadata=metadata)

    async def get(path: str) -> dict:
        response = await app.client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        return response.json()

    async def scenario() -> tuple[dict, dict, dict]:
        view = await get(
            "/archive/messages_view.json?_shape=objects&_size=5&author_name=Ada+Lovelace"
        )
        found = await get("/archive/messages.json?_search=quokka&_shape=objects")
        facets = await get("/archive/messages.json?_facet=person_email&_size=0")
        return view, found, facets

    view, found, facets = asyncio.run(scenario())
    assert view["rows"] and {r["author_name"] for r in view["rows"]} == {"Ada Lovelace"}
    assert [r["text"] for r in found["rows"]] == ["The quokka budget was approved"]
    emails = {f["value"] for f in facets["facet_results"]["person_email"]["results"]}
    assert "ada.lovelace@example.com" in emails
    described = metadata["databases"]["archive"]["tables"]["messages"]
    assert described["fts_table"] == "messages_fts" and described["columns"]["parent_id"]


def test_forget_removes_a_space_and_its_files(emu, dataset, tmp_path):
    rooms = [r["id"] for r in dataset.rooms.values() if r["type"] == "group"][:2]
    env = {
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
        "WEBEX_ARCHIVE_DIR": str(tmp_path),
    }
    assert run("sync", *rooms, "--download", "files", env=env).returncode == 0
    db = store.open_archive(tmp_path)
    kept_messages = db.execute(
        "SELECT count(*) FROM messages WHERE space_id = ?", [rooms[1]]
    ).fetchone()[0]
    refused = run("forget", "atlas", env=env)  # no terminal to confirm on: aborts
    assert refused.returncode == 1 and (tmp_path / "Project Atlas").is_dir()
    result = run("forget", "atlas", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("forgot 'Project Atlas': ")
    assert not (tmp_path / "Project Atlas").exists() and (tmp_path / "Design reviews").is_dir()
    for table in ("messages", "files", "memberships", "coverage", "spaces", "changes"):
        column = "id" if table == "spaces" else "space_id"
        assert (
            db.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?", [rooms[0]]).fetchone()[0]
            == 0
        ), table
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == kept_messages
    assert db.execute("SELECT count(*) FROM messages_fts").fetchone()[0] == kept_messages
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

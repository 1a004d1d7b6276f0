"""The archive with the tools people already use: Datasette, and the generated schema docs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from datasette.app import Datasette

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

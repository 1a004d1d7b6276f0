"""``webex-archive search``: FTS5 queries, filters, thread context, JSON and errors."""

from __future__ import annotations

import json

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room
from tests.test_cli import assert_one_line_error, run


@pytest.fixture
def archived(emu, dataset, tmp_path):
    """The data set plus a few known sentences, one of them two years old and a reply."""
    atlas, design = group_room(dataset)["id"], group_room(dataset, 1)["id"]
    grace = next(p for p in dataset.people.values() if p["displayName"] == "Grace Hopper")
    old = emu.post_message(
        atlas, text="The quokka budget was approved", created="2024-11-01T10:00:00.000Z"
    )
    emu.post_message(
        atlas, text="Quokka numbers attached", parent_id=old["id"], person_id=grace["id"]
    )
    emu.post_message(design, text="No quokka here but a wombat")
    db = store.open_archive(tmp_path / "archive")
    with WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, list(dataset.rooms), SyncOptions(download="no"))
    return {"WEBEX_ARCHIVE_DIR": str(tmp_path / "archive"), "NO_COLOR": "1"}


def hits(env, *args) -> list[dict]:
    result = run("search", *args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_words_phrases_prefixes_and_operators(archived):
    assert len(hits(archived, "quokka")) == 3
    assert [h["snippet"] for h in hits(archived, '"quokka budget"')] == [
        "The [quokka budget] was approved"
    ]
    assert len(hits(archived, "quok*")) == 3
    assert len(hits(archived, "quokka AND wombat")) == 1
    assert len(hits(archived, "quokka NOT wombat")) == 2
    assert len(hits(archived, "budget OR wombat")) == 2


def test_filters_and_thread_context(archived):
    assert [h["space"] for h in hits(archived, "quokka", "--space", "design")] == ["Design reviews"]
    by_grace = hits(archived, "quokka", "--from", "grace")
    assert [(h["author"], h["thread"]) for h in by_grace] == [
        ("Grace Hopper", "The quokka budget was approved")
    ]
    assert [h["created"] for h in hits(archived, "quokka", "--until", "2025-01-01")] == [
        "2024-11-01T10:00:00.000Z"
    ]
    assert len(hits(archived, "quokka", "--since", "01012025")) == 2
    assert len(hits(archived, "quokka", "--limit", "1")) == 1


def test_text_output_and_errors(archived):
    result = run("search", "budget", env=archived)
    lines = result.stdout.splitlines()
    assert lines[0].endswith("Project Atlas  Ada Lovelace")
    assert lines[1] == "    The quokka [budget] was approved"
    assert_one_line_error(run("search", "AND OR", env=archived), "cannot search for 'AND OR'")
    none = run("search", "xylophone", env=archived)
    assert none.returncode == 0 and none.stdout == "" and none.stderr == "no message matches\n"

"""``webex-archive search``: FTS5 queries, filters, thread context, JSON and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render.fts_query import searchable
from render.query import RenderError, connect
from render.search import search
from tests.conftest import group_room
from tests.test_cli import assert_one_line_error, run
from webex_archive.cli import main


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
    """The command's JSON answer, run in this process (click's runner): the hits are what is
    tested here, and some forty searches would pay 0.4 s of start-up each. The process's own
    exit codes and one-line errors are tested through ``run``."""
    result = CliRunner().invoke(main, ["search", *args, "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
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
    assert_one_line_error(run("search", "%", "++", env=archived), "nothing to search for in '% ++'")
    none = run("search", "xylophone", env=archived)
    assert none.returncode == 0 and none.stdout == "" and none.stderr == "no message matches\n"


EVERYDAY = {
    "e-mail": "Please e-mail the minutes",
    "don't": "I don't agree with the plan",
    "v1.2": "Release v1.2 ships on Friday",
    "ada@example.com": "Write to ada@example.com for access",
    "C++": "The parser is written in C++ now",
    "50%": "We are 50% done",
    "https://example.com/docs?page=2": "The guide: https://example.com/docs?page=2",
}
DISTRACTORS = ["Send an email to the team", "I do not agree", "v2 of the docs", "ada at example"]


@pytest.fixture
def everyday(emu, dataset, tmp_path):
    """One message per everyday query, and near misses that only a broken query would find."""
    atlas = group_room(dataset)["id"]
    for text in [*EVERYDAY.values(), *DISTRACTORS]:
        emu.post_message(atlas, text=text)
    archive = tmp_path / "archive"
    db = store.open_archive(archive)
    with WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, [atlas], SyncOptions(download="no"))
    return {"WEBEX_ARCHIVE_DIR": str(archive), "NO_COLOR": "1"}


def found(env, *args) -> list[str]:
    """The texts of the hits, brackets (the matches) removed."""
    return sorted(h["snippet"].replace("[", "").replace("]", "") for h in hits(env, *args))


@pytest.mark.parametrize("typed", sorted(EVERYDAY))
def test_everyday_words_find_what_was_typed(everyday, typed):
    assert found(everyday, typed) == [EVERYDAY[typed]]


def test_operators_only_where_clearly_meant(everyday):
    assert found(everyday, "e-mail OR email") == sorted(
        [EVERYDAY["e-mail"], "Send an email to the team"]
    )
    assert found(everyday, "agree AND NOT don't") == ["I do not agree"]  # AND NOT is NOT
    assert found(everyday, "(v1.2 OR v2) docs") == ["v2 of the docs"]
    assert found(everyday, '"ada at"') == ["ada at example"]
    assert found(everyday, "pars*") == [EVERYDAY["C++"]]
    # Lowercase, leading or trailing operators are words.
    assert found(everyday, "NOT agree") == ["I do not agree"]
    assert found(everyday, "plan or agree") == []
    assert found(everyday, "agree AND") == []


def test_unknown_space_or_person_is_an_error(everyday):
    assert_one_line_error(
        run("search", "plan", "--space", "nosuch", env=everyday),
        "--space 'nosuch' matches no space in the archive",
    )
    assert_one_line_error(
        run("search", "plan", "--from", "nobody", env=everyday),
        "--from 'nobody' matches nobody in the archive",
    )
    known = run("search", "xylophone", "--space", "atlas", "--from", "ada", env=everyday)
    assert (known.returncode, known.stderr) == (0, "no message matches\n")
    # LIKE wildcards in a filter are text, not patterns.
    assert_one_line_error(run("search", "plan", "--space", "%", env=everyday), "'%'")


_QUERY_PIECES = ['"', "(", ")", "*", "-", "+", ":", "^", ".", "@", "%", "'", "\\", "\x00",
                 "AND", "OR", "NOT", "NEAR", "NEAR(", "text:", "{", "}", "plan", "e", " ",
                 "\udcff", "é", "\u2028", ",", "]"]  # fmt: skip


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    st.one_of(
        st.text(max_size=40),
        st.lists(st.sampled_from(_QUERY_PIECES), max_size=25).map("".join),
        st.lists(st.sampled_from(_QUERY_PIECES), max_size=25).map(" ".join),
    )
)
def test_search_never_fails_in_sql(everyday, typed):
    """Whatever is typed, search answers (hits or none) or says there is nothing to search
    for; never an SQLite error, which is what FTS5 syntax errors were."""
    conn = connect(Path(everyday["WEBEX_ARCHIVE_DIR"]))
    try:
        search(conn, typed, "atlas", "ada")
    except RenderError as error:
        assert str(error).startswith("nothing to search for in "), error
        assert not searchable(typed.replace("\x00", " "))
    finally:
        conn.close()

"""The sync against the emulator: complete, incremental, resumable, and honest about changes."""

from __future__ import annotations

import contextlib
import json

import pytest

from etl import store
from etl.api import RetryPolicy, WebexClient, WebexError
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room, make_dataset
from tests.reliability.helpers import snapshot
from webex_emulator import Emulator, Rule

FAST = RetryPolicy(tries=3, backoff=0.01, backoff_cap=0.02, default_retry_after=0.1)


def run_sync(emu, path, room_ids, retry=FAST, **options):
    db = store.open_archive(path)
    with WebexClient(emu.token, emu.api_url, retry=retry) as client:
        return sync_spaces(db, client, room_ids, SyncOptions(**options)), db


def served(emu, message: dict) -> dict:
    """The message as the API serves it (content ids become URLs)."""
    if "files" not in message:
        return message
    return {**message, "files": [f"{emu.api_url}/contents/{c}" for c in message["files"]]}


def message_list_requests(emu) -> int:
    return sum(e.path.startswith("/v1/messages?") for e in emu.log.entries())


def test_first_sync_equals_the_data_set_row_for_row(emu, dataset, tmp_path):
    rooms = list(dataset.rooms)
    results, db = run_sync(emu, tmp_path, rooms, page_size=50)
    stored = {row["id"]: row for row in db["messages"].rows}
    assert set(stored) == set(dataset.messages)
    for message_id, message in dataset.messages.items():
        row = stored[message_id]
        assert json.loads(row["raw"]) == served(emu, message)
        assert (
            row["space_id"],
            row["parent_id"],
            row["person_id"],
            row["text"],
            row["html"],
            row["created"],
            row["updated"],
            row["deleted_at"],
        ) == (
            message["roomId"],
            message.get("parentId"),
            message["personId"],
            message.get("text"),
            message.get("html"),
            message["created"],
            message.get("updated"),
            None,
        )
    assert {r["id"] for r in db["spaces"].rows} == set(rooms)
    assert {r["id"] for r in db["memberships"].rows} == {
        m["id"] for ms in dataset.memberships.values() for m in ms
    }
    people = {r["id"]: r for r in db["people"].rows}
    ghost = ({m["personId"] for m in dataset.messages.values()} - set(dataset.people)).pop()
    assert people[ghost]["not_found"] == 1 and people[ghost]["email"].startswith("former.")
    assert all(
        people[p]["display_name"] == dataset.people[p]["displayName"] for p in people if p != ghost
    )
    files = list(db["files"].rows)
    assert len(files) == sum(len(m.get("files", [])) for m in dataset.messages.values())
    assert all(f["status"] == "info" and f["size"] > 0 for f in files)
    assert [r.new for r in results] == [
        sum(m["roomId"] == r for m in dataset.messages.values()) for r in rooms
    ]
    assert db["sync_runs"].count == 1 and next(db["sync_runs"].rows)["status"] == "ok"
    assert store.get_meta(db, "me_id") == dataset.tokens[emu.token]
    spans = db.execute("SELECT count(*), min(reaches_start) FROM coverage").fetchone()
    assert spans == (len(rooms), 1)


def test_resync_without_changes_is_nearly_free(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    _, db = run_sync(emu, tmp_path, [room])
    before = snapshot(db)
    emu.log.clear()
    results, db = run_sync(emu, tmp_path, [room])
    # Unchanged (same lastActivity): /people/me and /rooms/{id}, no walk at all.
    assert [e.path.split("?")[0] for e in emu.log.entries()] == [
        "/v1/people/me",
        f"/v1/rooms/{room}",
    ]
    assert results[0].unchanged
    assert (results[0].new, results[0].edited, results[0].deleted) == (0, 0, 0)
    assert snapshot(db) == before
    # With --rescan's look-back forced by a change elsewhere in the space: one page.
    emu.post_message(room, text="one more")
    emu.log.clear()
    results, db = run_sync(emu, tmp_path, [room])
    assert message_list_requests(emu) == 1 and results[0].new == 1


def test_resync_fetches_only_new_pages(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    run_sync(emu, tmp_path, [room])
    added = emu.add_messages(room, 1500, seed=2)
    emu.log.clear()
    results, db = run_sync(emu, tmp_path, [room])
    assert message_list_requests(emu) == 2  # 1,000 new, then 500 new and the known ones
    assert results[0].new == 1500
    assert {m["id"] for m in added} <= {r["id"] for r in db["messages"].rows}
    assert db.execute("SELECT count(*) FROM coverage").fetchone()[0] == 1


@pytest.mark.parametrize("kind", ["drop", "status"])
def test_a_failure_at_any_request_leaves_a_resumable_archive(tmp_path, kind):
    ds = make_dataset(messages=60, spaces=1)
    room = group_room(ds)["id"]
    with Emulator(ds) as emu:
        _, clean = run_sync(emu, tmp_path / "clean", [room], page_size=10)
        expected = snapshot(clean)
        total = len(emu.log.entries())
        assert total > 15
        no_retry = RetryPolicy(tries=1)
        for k in range(2, total + 1):
            emu.log.clear()
            rule = emu.add_fault(Rule(kind, 500, at=list(range(k, k + 1000))))
            # Fails, unless the fault only hit file look-ups (recorded as failed, retried).
            with contextlib.suppress(WebexError):
                run_sync(emu, tmp_path / f"k{k}", [room], retry=no_retry, page_size=10)
            emu.faults.rules.remove(rule)
            _, db = run_sync(emu, tmp_path / f"k{k}", [room], page_size=10)
            assert snapshot(db) == expected, f"fault at request {k}"
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            statuses = [r["status"] for r in db["sync_runs"].rows]
            assert statuses in (["failed", "ok"], ["ok", "ok"]), statuses


def test_rate_limits_are_waited_and_bursts_retried(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    emu.add_fault(Rule("status", 429, at=[3], retry_after=1))
    emu.add_fault(Rule("status", 503, at=[5, 6]))
    _, db = run_sync(emu, tmp_path, [room], page_size=20)
    log = emu.log.entries()
    assert log[2].status == 429 and log[3].started - log[2].started >= 1.0
    assert [log[4].status, log[5].status, log[6].status] == [503, 503, 200]
    assert db["messages"].count == sum(m["roomId"] == room for m in dataset.messages.values())


def test_edits_and_deletions_in_the_look_back_and_with_full(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    recent = emu.add_messages(room, 5, seed=3)
    run_sync(emu, tmp_path, [room])
    old = next(
        m
        for m in dataset.messages.values()
        if m["roomId"] == room and "parentId" not in m and "text" in m
    )
    old_text, first_text = old["text"], recent[0]["text"]
    emu.edit_message(recent[0]["id"], text="edited zebracorn words")
    emu.delete_message(recent[1]["id"])
    emu.edit_message(old["id"], text="an old edit")
    results, db = run_sync(emu, tmp_path, [room], page_size=10)
    assert (results[0].edited, results[0].deleted) == (1, 1)
    revision = db.execute("SELECT message_id, revision, text FROM message_revisions").fetchall()
    assert revision == [(recent[0]["id"], 1, first_text)]
    gone = db["messages"].get(recent[1]["id"])
    assert gone["deleted_at"] and gone["text"] == recent[1]["text"]
    assert db["messages"].get(old["id"])["text"] == old_text  # outside the look-back
    results, db = run_sync(emu, tmp_path, [room], full=True)
    assert results[0].edited == 1 and db["messages"].get(old["id"])["text"] == "an old edit"
    search = db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'zebracorn'")
    assert len(search.fetchall()) == 1


def test_bounds_and_thread_parents(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    ordered = sorted(
        (m for m in dataset.messages.values() if m["roomId"] == room),
        key=lambda m: m["created"],
        reverse=True,
    )
    results, db = run_sync(emu, tmp_path / "last", [room], last=25, page_size=10)
    stored = {r["id"] for r in db["messages"].rows}
    assert {m["id"] for m in ordered[:30]} <= stored
    window = {m["id"] for m in ordered[:30]}
    outside = stored - window
    parents = {m["parentId"] for m in ordered[:30] if "parentId" in m} - window
    assert outside == parents and results[0].parents == len(parents)
    # --since bounds the first sync; a later plain run remembers the bound.
    since = ordered[40]["created"]
    _, db = run_sync(emu, tmp_path / "since", [room], since=since, page_size=10)
    newest = {m["id"] for m in ordered if m["created"] >= since}
    top_level = {r["id"] for r in db["messages"].rows if r["created"] >= since}
    assert top_level == newest
    assert (
        db.execute(
            "SELECT min(created) FROM messages WHERE parent_id IS NULL AND id NOT IN "
            "(SELECT parent_id FROM messages WHERE parent_id IS NOT NULL)"
        ).fetchone()[0]
        >= ordered[50]["created"]
    )
    emu.add_messages(room, 1)  # a change, so that the next run walks (and stops at the bound)
    emu.log.clear()
    run_sync(emu, tmp_path / "since", [room], page_size=10)
    assert message_list_requests(emu) == 1


def test_a_bot_token_gets_a_clear_error(emu, dataset, tmp_path):
    db = store.open_archive(tmp_path)
    with WebexClient(dataset.bot_token(), emu.api_url, retry=FAST) as client:
        [result] = sync_spaces(db, client, [group_room(dataset)["id"]], SyncOptions())
    assert "lets bots read only the messages that mention them" in result.error
    assert next(db["sync_runs"].rows)["status"] == "failed"


def test_one_failing_space_does_not_stop_the_others(emu, dataset, tmp_path):
    rooms = [r["id"] for r in dataset.rooms.values()]
    missing = "Y2lzY29zcGFyazovL3VzL1JPT00vMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
    emu.add_fault(Rule("status", 500, rate=1.0, path=f"/v1/messages?roomId={rooms[1]}"))
    results, db = run_sync(emu, tmp_path, [rooms[0], missing, rooms[1], rooms[2]])
    outcomes = [(r.space_id, r.error is None) for r in results]
    assert outcomes == [(rooms[0], True), (missing, False), (rooms[1], False), (rooms[2], True)]
    assert "no space with id" in results[1].error and "HTTP 500" in results[2].error
    statuses = dict(db.execute("SELECT id, last_sync_status FROM spaces").fetchall())
    assert statuses == {rooms[0]: "ok", rooms[1]: "failed", rooms[2]: "ok"}
    run = next(db["sync_runs"].rows)
    assert (run["status"], run["error"]) == ("failed", "2 of 4 spaces failed")
    emu.faults.rules.clear()
    results, db = run_sync(emu, tmp_path, [rooms[1]])  # failed last time: walked, not skipped
    assert not results[0].unchanged and results[0].error is None

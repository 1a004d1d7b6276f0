"""A compliance officer's sync: spaces it is not in, custodians, the events feed's edits and
deletions, recovery of messages deleted before the first sync, the retention fallback."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from etl import store
from etl.api import WebexClient
from etl.compliance import CompliancePlan, Selection
from etl.custodians import read_custodians
from etl.errors import SyncError
from etl.events import is_compliance_officer
from etl.store import events as feed_store
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room
from tests.etl.conftest import FAST
from webex_emulator.ids import format_time


def ago(days: float) -> str:
    return format_time(datetime.now(timezone.utc) - timedelta(days=days))


def officer_sync(emu, token, path, notices=None, **selection):
    db = store.open_archive(path)
    notices = [] if notices is None else notices
    with WebexClient(token, emu.api_url, retry=FAST) as client:
        plan = CompliancePlan(client, Selection(**selection), notices.append)
        plan.check_officer()
        results = sync_spaces(db, client, [], SyncOptions(page_size=50), plan=plan)
    return results, db, plan


def requests_to(emu, prefix: str) -> int:
    return sum(e.path.startswith(prefix) for e in emu.log.entries())


@pytest.fixture
def token(emu):
    return emu.officer_token()


def test_detecting_the_officer(emu, token):
    with WebexClient(token, emu.api_url, retry=FAST) as officer:
        assert is_compliance_officer(officer)
    with WebexClient(emu.token, emu.api_url, retry=FAST) as user:
        assert not is_compliance_officer(user)
        with pytest.raises(SyncError, match="compliance officer's token"):
            CompliancePlan(user, Selection(org=True), print).check_officer()


def test_a_custodian_every_space_even_ones_the_officer_is_not_in(emu, token, dataset, tmp_path):
    owner = dataset.people[dataset.tokens[emu.token]]
    results, db, _ = officer_sync(emu, token, tmp_path, custodians=[owner["emails"][0]])
    theirs = {
        r for r, ms in dataset.memberships.items() if any(m["personId"] == owner["id"] for m in ms)
    }
    assert {r.space_id for r in results} == theirs and not any(r.error for r in results)
    assert {row["id"] for row in db["spaces"].rows} == theirs
    expected = {m["id"] for m in dataset.messages.values() if m["roomId"] in theirs}
    assert {row["id"] for row in db["messages"].rows} == expected
    assert all(
        not any(m["personId"] == dataset.tokens[token] for m in dataset.memberships[r])
        for r in theirs
    )
    assert feed_store.checkpoint(db) is not None


def test_edits_and_deletions_60_days_old_from_at_most_two_event_pages(
    emu, token, dataset, tmp_path
):
    room = group_room(dataset)
    owner = dataset.people[dataset.tokens[emu.token]]
    officer_sync(emu, token, tmp_path, custodians=[owner["emails"][0]])
    old = sorted(
        (m for m in dataset.messages.values() if m["roomId"] == room["id"] and "text" in m),
        key=lambda m: m["created"],
    )
    edited, deleted = old[0], old[1]
    before = edited["text"]
    emu.edit_message(edited["id"], text="edited long ago", updated=ago(60))
    emu.delete_message(deleted["id"], at=ago(60))
    # the events are stamped 60 days ago: a feed read since the checkpoint would miss them;
    # this is the case of a change Webex lists late, or one the last run was killed before
    # reading. Move the checkpoint back 61 days, as if the last run was then.
    db = store.open_archive(tmp_path)
    with store.transaction(db):
        feed_store.set_checkpoint(db, ago(61))
    emu.log.clear()
    results, db, plan = officer_sync(emu, token, tmp_path, custodians=[owner["emails"][0]])
    assert plan.pages <= 2 and not plan.full_pass
    assert [(r.space_id, r.edited, r.deleted) for r in results] == [(room["id"], 1, 1)]
    row = db["messages"].get(edited["id"])
    assert (
        row["text"] == "edited long ago"
        and row["updated"] == dataset.messages[edited["id"]]["updated"]
    )
    revisions = db.execute(
        "SELECT text FROM message_revisions WHERE message_id = ?", [edited["id"]]
    ).fetchall()
    assert revisions == [(before,)]
    gone = db["messages"].get(deleted["id"])
    assert (
        gone["deleted_at"] == dataset.deleted[deleted["id"]][1] and gone["text"] == deleted["text"]
    )
    # only the space the feed names was visited: no request for the other spaces
    assert requests_to(emu, "/v1/rooms/") == 1
    stored = db.execute(
        "SELECT resource, type, applied_at IS NOT NULL FROM events WHERE space_id = ? "
        "ORDER BY created",
        [room["id"]],
    ).fetchall()
    assert ("messages", "updated", 1) in stored and ("messages", "deleted", 1) in stored


def test_a_message_deleted_before_the_first_sync_is_recovered(emu, token, dataset, tmp_path):
    room = group_room(dataset, 1)
    posted = emu.post_message(room["id"], text="said, then taken back")
    emu.delete_message(posted["id"])
    when = dataset.deleted[posted["id"]][1]
    results, db, _ = officer_sync(emu, token, tmp_path, org=True)
    assert [r.space_id for r in results] == [room["id"]]  # the only space the feed reveals
    row = db["messages"].get(posted["id"])
    assert row["text"] == "said, then taken back" and row["deleted_at"] == when
    assert results[0].deleted == 1


def test_a_noop_run_reads_the_feed_only(emu, token, dataset, tmp_path):
    owner = dataset.people[dataset.tokens[emu.token]]
    officer_sync(emu, token, tmp_path, custodians=[owner["emails"][0]])
    emu.log.clear()
    results, _, plan = officer_sync(emu, token, tmp_path, org=True)
    assert results == [] and plan.pages == 1
    paths = [e.path.split("?")[0] for e in emu.log.entries()]
    assert paths == ["/v1/events", "/v1/people/me", "/v1/events"]  # officer check, me, feed


def test_joins_and_leaves_have_their_exact_times(emu, token, dataset, tmp_path):
    room = group_room(dataset, 1)
    owner = dataset.people[dataset.tokens[emu.token]]
    officer_sync(emu, token, tmp_path, custodians=[owner["emails"][0]])
    outsider = next(
        p
        for p in dataset.people.values()
        if not any(m["personId"] == p["id"] for m in dataset.memberships[room["id"]])
        and p["id"] not in dataset.officers
    )
    joined = emu.add_member(room["id"], outsider["id"], at=ago(3))
    emu.remove_member(joined["id"], at=ago(2))
    db = store.open_archive(tmp_path)
    with store.transaction(db):
        feed_store.set_checkpoint(db, ago(4))
    _, db, _ = officer_sync(emu, token, tmp_path, org=True)
    row = db["memberships"].get(joined["id"])
    left = db.execute(
        "SELECT created FROM events WHERE resource = 'memberships' AND type = 'deleted'"
    ).fetchone()[0]
    assert row["created"] == joined["created"] and row["left_at"] == left


def test_an_expired_checkpoint_falls_back_to_the_look_back(emu, token, dataset, tmp_path):
    owner = dataset.people[dataset.tokens[emu.token]]
    officer_sync(emu, token, tmp_path, custodians=[owner["emails"][0]])
    db = store.open_archive(tmp_path)
    with store.transaction(db):
        feed_store.set_checkpoint(db, ago(120))
    notices = []
    results, _, plan = officer_sync(emu, token, tmp_path, notices, org=True)
    assert plan.full_pass and len(results) == db["spaces"].count
    assert len(notices) == 1 and "older than the feed's retention (90 days)" in notices[0]


def test_custodians_file(tmp_path):
    path = tmp_path / "custodians.txt"
    path.write_text("\ufeffalice@example.com\n# legal hold 42\n\n bob@example.com  # note\n")
    assert read_custodians(path) == ["alice@example.com", "bob@example.com"]
    path.write_text("alice@example.com\nnot an email\n")
    with pytest.raises(SyncError, match="line 2: 'not an email' is not an email address"):
        read_custodians(path)
    with pytest.raises(SyncError, match="cannot read the custodians file"):
        read_custodians(tmp_path / "missing.txt")


def test_events_kept_raw(emu, token, dataset, tmp_path):
    room = group_room(dataset)
    posted = emu.post_message(room["id"], text="audit me")
    _, db, _ = officer_sync(emu, token, tmp_path, org=True)
    raw = json.loads(
        db.execute("SELECT raw FROM events WHERE object_id = ?", [posted["id"]]).fetchone()[0]
    )
    assert raw["data"]["text"] == "audit me" and raw["resource"] == "messages"


def test_a_custodian_added_later_gets_deletions_from_before_the_checkpoint(
    emu, token, dataset, tmp_path
):
    rooms = [group_room(dataset, i)["id"] for i in range(3)]
    members = {r: {m["personId"] for m in dataset.memberships[r]} for r in rooms}
    first = next(p for p in members[rooms[1]] if p not in members[rooms[2]])
    first_email = dataset.people[first]["emails"][0]
    posted = emu.post_message(rooms[2], text="deleted before anyone archived it")
    emu.delete_message(posted["id"])
    results, db, _ = officer_sync(emu, token, tmp_path, custodians=[first_email])
    assert rooms[2] not in {r.space_id for r in results}
    assert db["events"].count == 0  # room 2's events are out of scope: not kept
    owner = dataset.people[dataset.tokens[emu.token]]["emails"][0]
    results, db, _ = officer_sync(emu, token, tmp_path, custodians=[first_email, owner])
    assert rooms[2] in {r.space_id for r in results}
    row = db["messages"].get(posted["id"])
    assert row["deleted_at"] == dataset.deleted[posted["id"]][1]


def test_forgetting_a_space_forgets_its_events(emu, token, dataset, tmp_path):
    from etl.store.forget import forget_space

    room = group_room(dataset)
    emu.post_message(room["id"], text="one event")
    _, db, _ = officer_sync(emu, token, tmp_path, org=True)
    assert db.execute("SELECT count(*) FROM events WHERE space_id = ?", [room["id"]]).fetchone()[0]
    forget_space(db, tmp_path, room["id"])
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    results, _, _ = officer_sync(emu, token, tmp_path, org=True)
    assert results == []  # nothing pending: the space stays forgotten until the feed names it


def test_an_event_never_reaches_into_another_space(emu, token, dataset, tmp_path):
    """A (hostile or confused) event in space B naming a message of space A: A's message is
    neither moved, edited nor marked deleted."""
    a, b = group_room(dataset, 0), group_room(dataset, 1)
    owner = dataset.people[dataset.tokens[emu.token]]
    officer_sync(emu, token, tmp_path, custodians=[owner["emails"][0]])
    victim = next(m for m in dataset.messages.values() if m["roomId"] == a["id"] and "text" in m)
    forged = {**victim, "roomId": b["id"], "text": "rewritten", "updated": ago(0.01)}
    for kind, data in (("updated", forged), ("deleted", {"id": victim["id"], "roomId": b["id"]})):
        dataset.events.record("messages", kind, victim["personId"], b["ownerId"], data)
    emu.post_message(b["id"], text="so that B is synced")
    _, db, _ = officer_sync(emu, token, tmp_path, org=True)
    row = db["messages"].get(victim["id"])
    assert (row["space_id"], row["text"], row["deleted_at"]) == (a["id"], victim["text"], None)


def test_an_archive_from_before_the_events_table_gains_it(tmp_path):
    """schema.sql's IF NOT EXISTS is the migration: an archive written before this version
    (same schema version, no events table) gets the table and its indexes when opened."""
    db = store.open_archive(tmp_path)
    for name in ("events_pending", "events_object"):
        db.execute(f"DROP INDEX {name}")
    db.execute("DROP TABLE events")
    db.conn.commit()
    db.conn.close()
    db = store.open_archive(tmp_path)
    names = {
        row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'events%'")
    }
    assert names == {"events", "events_pending", "events_object"}
    assert feed_store.checkpoint(db) is None

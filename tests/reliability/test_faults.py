"""Faults during sync, at every request of a clean run (docs/design.md, "Sync, precisely").

One group space of 40 messages (threads, files, hostile file names) is synced with
``page_size=10`` and ``--download files`` (2 workers), so the clean run's requests are: who am
I, the room, the message pages (cursor pages among them), the members, the people, and every
file's GET (no HEAD: with ``--download files`` the GET's headers name the file; faults on HEAD
are tests/etl/files/test_attachments.py's). Each fault below is put on request k for EVERY k
of that run (or, where one strike costs real seconds or where the variants of a fault differ
only in the answer, not in the request, on a sample with one request of every kind), and
the outcome must be one of two things:

* the archive is identical to the fault-free one (``helpers.snapshot``) after the same run;
* or the run ends in a clear one-line error, the archive is whole (SQLite's checks, no
  temporary files), and a fault-free re-run reaches the identical archive.

Retried faults (429, 5xx bursts, drops, timeouts, malformed JSON, empty pages, a deleted
cursor) must give the first outcome; a token that expires, a space removed mid-run and a
key-server failure on one item give the second (see each test for what exactly is expected).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from etl import store
from etl.api import AuthError, RetryPolicy, WebexError
from etl.times import plus_ms
from tests.reliability.helpers import (
    FAST,
    assert_same,
    group_room_id,
    kind_of,
    one_line,
    reliability_dataset,
    run_sync,
    short_sleep,
    snapshot,
    whole,
)
from webex_emulator import Emulator, Faults, Rule
from webex_emulator.faults import LogEntry

OPTIONS = {"page_size": 10, "download": "files", "workers": 2}
# Seconds (connect, read): the client's timeouts where a test holds an answer to see it give
# up, and elsewhere. A read timeout of 0.25 s everywhere failed a run on a loaded machine (load
# average 15): an answer that took longer cost a try, and a 5xx burst of three on a client
# that tries four times has none to spare.
CLIENT_TIMEOUT = (1.0, 0.25)
PATIENT_TIMEOUT = (2.0, 10.0)
# A "slow" answer is held this long, or until the run is over (Faults.release): far longer
# than the client's read timeout and than any load could stretch the client's retry.
HELD_SECONDS = 30.0


@dataclass
class World:
    """The emulator, the space, and what a fault-free sync produced and asked for."""

    emu: Emulator
    room: str
    clean: dict
    log: list[LogEntry]
    tmp: Path

    def points(self, *kinds: str) -> list[int]:
        """Request numbers of the clean run whose kind is one of ``kinds`` (all if none)."""
        return [e.number for e in self.log if not kinds or kind_of(e) in kinds]


LISTS = ("page-first", "page-cursor", "page-before", "members", "people")
ROOM_REQUESTS = ("room", "page-first", "page-cursor", "page-before", "members")


def representative(log: list[LogEntry]) -> list[int]:
    """One request of every kind (the middle one of its kind), for faults that cost seconds."""
    by_kind: dict[str, list[int]] = {}
    for entry in log:
        by_kind.setdefault(kind_of(entry), []).append(entry.number)
    return sorted(numbers[len(numbers) // 2] for numbers in by_kind.values())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    ds = reliability_dataset()
    room = group_room_id(ds)
    tmp = tmp_path_factory.mktemp("faults")
    with Emulator(ds) as emu:
        results, db = run_sync(emu, tmp / "clean", [room], **OPTIONS)
        assert results[0].error is None and results[0].downloads["downloaded"] > 5
        world = World(emu, room, snapshot(db), emu.log.entries(), tmp)
        kinds = {kind_of(e) for e in world.log}
        assert {"page-first", "page-cursor", "file", "members", "people"} <= kinds
        yield world


@contextlib.contextmanager
def faulted(world: World, *rules: Rule, **settings: object) -> Iterator[Faults]:
    """The emulator with only these faults, a fresh log (request 1 is the run's first)."""
    world.emu.faults = Faults(rules=list(rules), **settings)  # type: ignore[arg-type]
    world.emu.log.clear()
    try:
        yield world.emu.faults
    finally:
        world.emu.faults = Faults()


def sync(
    world: World,
    archive: Path,
    sleep: Callable[[float], None] = short_sleep,
    timeout: tuple[float, float] = PATIENT_TIMEOUT,
    **extra: object,
) -> tuple[list, store.Database]:
    """The sync under test: the world's space, its options, the client's timeouts."""
    return run_sync(
        world.emu, archive, [world.room], timeout=timeout, sleep=sleep, **extra, **OPTIONS
    )


def archive_for(world: World, label: str) -> Path:
    path = world.tmp / label
    shutil.rmtree(path, ignore_errors=True)
    return path


def sync_through(
    world: World, label: str, rules: list[Rule], **extra: object
) -> tuple[Path, list[LogEntry]]:
    """A sync that must come through the faults: identical archive, run 'ok', all whole."""
    archive = archive_for(world, label)
    with faulted(world, *rules):
        results, db = sync(world, archive, **extra)
        world.emu.faults.release()  # a held answer the client gave up on ends now
        log = world.emu.log.settled()
    assert any(e.fault for e in log), f"{label}: the fault never struck"
    assert [r.error for r in results] == [None], label
    assert db.execute("SELECT status FROM sync_runs").fetchall() == [("ok",)], label
    assert_same(snapshot(db), world.clean, label)
    whole(archive)
    return archive, log


def resume_to_clean(world: World, archive: Path, label: str) -> None:
    """After a failed run: the archive is whole, and a fault-free run makes it identical."""
    whole(archive)
    results, db = sync(world, archive)
    assert [r.error for r in results] == [None], label
    assert_same(snapshot(db), world.clean, f"{label}, then a fault-free run")
    whole(archive)


# ----- retried faults: the same archive after the same run -----------------------------------

EVERY_K: dict[str, Callable[[int], list[Rule]]] = {
    "429, Retry-After: 0": lambda k: [Rule("status", 429, at=[k], retry_after=0)],
    "429 without Retry-After": lambda k: [Rule("status", 429, at=[k])],
    "429 with an HTML body": lambda k: [Rule("status", 429, at=[k], retry_after=0, html_body=True)],
    # Bursts of 2 and 3 in a row, the status cycling through 500, 502, 503, 504.
    "5xx burst": lambda k: [
        Rule("status", (500, 502, 503, 504)[k % 4], at=list(range(k, k + 2 + k % 2)))
    ],
    "dropped connection mid-body": lambda k: [Rule("drop", at=[k])],
    "malformed JSON": lambda k: [Rule("malformed", at=[k])],
}


# The 429's variants differ only in what the client reads from the answer (the header, its
# absence, a body that is not JSON), which does not depend on the request it answered:
# "429, Retry-After: 0" strikes every request, these two one request of every kind.
SAMPLED = ("429 without Retry-After", "429 with an HTML body")


def strike_points(log: list[LogEntry], fault: str, every: list[int]) -> list[int]:
    """The requests a retried fault strikes: ``every`` one, or a sample for SAMPLED."""
    return representative(log) if fault in SAMPLED else every


@pytest.mark.parametrize("fault", list(EVERY_K))
def test_a_retried_fault_at_every_request_changes_nothing(world: World, fault: str) -> None:
    for k in strike_points(world.log, fault, world.points()):
        sync_through(world, f"{fault} at request {k}", EVERY_K[fault](k))


def test_an_empty_page_with_a_link_at_every_list_request_changes_nothing(world: World) -> None:
    points = world.points(*LISTS)
    assert len(points) >= 5
    for k in points:
        _, log = sync_through(world, f"empty page at request {k}", [Rule("empty_page", at=[k])])
        struck = next(e for e in log if e.number == k)
        assert struck.status == 200
        # The Link repeated it (workers walk side by side: not necessarily the next request).
        assert any(e.number > k and e.path == struck.path for e in log)


def test_an_answer_slower_than_the_timeout_is_retried(world: World) -> None:
    """A sample (one request of each kind): each strike costs the 0.25 s read timeout. The
    answer is held until the run is over: the run can only end (and the retry only start
    before the held answer's end) if the client gave up at its timeout, whatever the load;
    a client that waited the answer out would wait HELD_SECONDS and never retry."""
    for k in representative(world.log):
        rule = Rule("delay", at=[k], seconds=HELD_SECONDS)
        _, log = sync_through(world, f"slow answer at request {k}", [rule], timeout=CLIENT_TIMEOUT)
        struck = next(e for e in log if e.number == k)
        retry = next(e for e in log if e.number > k and e.path == struck.path)
        assert retry.started < struck.started + struck.seconds  # asked again while held
        assert struck.seconds < HELD_SECONDS  # released when the run ended, not waited out


@pytest.mark.parametrize(
    ("seconds", "kinds"),
    [(1, ("page-first", "file")), (5, ("page-cursor",))],
)
def test_retry_after_is_waited_for(world: World, seconds: int, kinds: tuple[str, ...]) -> None:
    """429 with Retry-After 1 s at two points (the first page, a file), 5 s at one (a cursor
    page, mid-walk): a sample, because each strike costs its wait in real seconds."""
    patient = RetryPolicy(tries=4, backoff=0.01, backoff_cap=0.02, max_retry_after=10)
    points = [world.points(kind)[len(world.points(kind)) // 2] for kind in kinds]
    for k in points:
        rule = Rule("status", 429, at=[k], retry_after=seconds)
        label = f"429 Retry-After {seconds} at {k}"
        _, log = sync_through(world, label, [rule], retry=patient, sleep=time.sleep)
        struck = next(e for e in log if e.number == k)
        retry = next(
            e for e in log if e.number > k and (e.method, e.path) == (struck.method, struck.path)
        )
        assert retry.started >= struck.started + seconds - 0.05


def test_a_cursor_deleted_between_pages_is_passed_by_time(world: World) -> None:
    """404 on ``beforeMessage`` (its message deleted meanwhile): the walk goes on with
    ``before=<that message's time + 1 ms>``, and the archive is the one of a fault-free sync
    before the deletion (the message was read before it went; the next look-back marks it).
    Workers walk side by side, so request k of a run is not always a cursor page: those
    strikes delete nothing (the archive must still be the same); most of them are."""
    ds = world.emu.dataset
    passed = 0
    for k in world.points("page-cursor"):
        saved, room = dict(ds.messages), dict(ds.rooms[world.room])
        _, log = sync_through(world, f"cursor deleted at {k}", [Rule("delete_cursor", at=[k])])
        struck = next(e for e in log if e.number == k)
        cursor = parse_qs(urlsplit(struck.path).query).get("beforeMessage", [None])[0]
        if cursor is not None:
            assert struck.status == 404
            resumed = f"before={quote(plus_ms(saved[cursor]['created'], 1))}"
            assert any(e.number > k and resumed in e.path for e in log), resumed
            passed += 1
        for message_id, message in saved.items():  # put the deleted message back
            if message_id not in ds.messages:
                ds.add_message(message)
        ds.rooms[world.room].update(room)  # and its lastActivity, which the deletion moved
    assert passed >= len(world.points("page-cursor")) // 2


# ----- faults that end the run or leave a mark: a clear line, then the next run heals --------


def test_a_fault_beyond_the_retries_at_every_request_ends_in_one_line_and_resumes(
    world: World,
) -> None:
    """503 on request k and the next three (the client tries 4 times): the request gives up.
    Whatever it was for, the outcome is one line: the run's error (who am I, people), the
    space's error (the room, a page, the members) or the file's error (a HEAD or a GET); and
    the next fault-free run completes the archive."""
    outcomes = Counter()
    for k in world.points():
        label = f"503 x{FAST.tries} from request {k}"
        archive = archive_for(world, label)
        with faulted(world, Rule("status", 503, at=list(range(k, k + FAST.tries)))):
            try:
                results, db = sync(world, archive)
                errors = [r.error for r in results if r.error]
                outcomes["space" if errors else "ok"] += 1
            except WebexError as error:
                errors, db = [str(error)], store.open_archive(archive)
                outcomes["run"] += 1
        failed = [row[0] for row in db.execute("SELECT error FROM files WHERE status = 'failed'")]
        outcomes["file"] += bool(failed and not errors)
        assert all(one_line(line) for line in [*errors, *failed]), label
        if not errors and not failed:  # the 503s fell on different files' requests
            assert_same(snapshot(db), world.clean, label)
        resume_to_clean(world, archive, label)
    assert outcomes["run"] and outcomes["space"] and outcomes["file"], outcomes


def test_a_token_that_expires_at_any_request_stops_with_one_line_and_resumes(
    world: World,
) -> None:
    """401 from request k on (every k): the run stops with one line saying what to do, the
    run is recorded as failed, and a run with a good token completes the archive."""
    for k in world.points():
        label = f"token expired at request {k}"
        archive = archive_for(world, label)
        with faulted(world, expire_token_after=k - 1), pytest.raises(AuthError) as stopped:
            sync(world, archive)
        message = str(stopped.value)
        assert one_line(message) and "401" in message and "--token" in message, label
        db = store.open_archive(archive)
        runs = db.execute("SELECT status, error FROM sync_runs").fetchall()
        assert runs == [("failed", message)], label
        resume_to_clean(world, archive, label)


def test_a_space_removed_mid_run_fails_in_one_line_and_resumes(world: World) -> None:
    """The space answers 404 from request k on (every request that names it): the space's
    result says so in one line, the other work goes on, and once the space is back a run
    completes the archive."""
    ds = world.emu.dataset
    room, members = ds.rooms[world.room], ds.memberships[world.room]
    for k in world.points(*ROOM_REQUESTS):
        label = f"space removed at request {k}"
        archive = archive_for(world, label)
        with faulted(world, Rule("remove_room", at=[k])):
            results, db = sync(world, archive)
        error = results[0].error or ""
        assert one_line(error) and world.room in error, f"{label}: {error}"
        assert db.execute("SELECT status FROM sync_runs").fetchall() == [("failed",)], label
        ds.rooms[world.room], ds.memberships[world.room] = room, members
        resume_to_clean(world, archive, label)


def listed_later(world: World, log: list[LogEntry], k: int, message_id: str) -> bool:
    """Whether a message page other than request k holds the message (the same requests
    asked again: the emulator answers them as it did). Slices are written in the order their
    pages arrive, so an earlier request's page may be written after request k's."""
    headers = {"Authorization": f"Bearer {world.emu.token}"}
    for entry in log:
        if entry.number != k and kind_of(entry).startswith("page-") and entry.status == 200:
            answer = requests.get(world.emu.url + entry.path, headers=headers, timeout=10)
            if any(item["id"] == message_id for item in answer.json()["items"]):
                return True
    return False


def test_an_undecrypted_item_is_kept_and_healed(world: World) -> None:
    """A 200 list whose first item carries ``errors`` (kms_failure) and an undecrypted field,
    at every list request. The run completes; nothing is lost. A message is asked for again
    by id in the same run: its readable version is current and the undecrypted one is kept
    as a revision. A member or person is stored as sent and fixed by the next run."""
    hits = 0
    for k in world.points(*LISTS):
        label = f"undecrypted item at request {k}"
        archive = archive_for(world, label)
        with faulted(world, Rule("item_errors", at=[k])):
            results, db = sync(world, archive)
            log = world.emu.log.entries()
        assert [r.error for r in results] == [None], label
        struck = next(e for e in log if e.number == k)
        if not marked(db):  # an empty list (the last page): nothing to strike
            assert_same(snapshot(db), world.clean, label)
            continue
        hits += 1
        if kind_of(struck).startswith("page-"):  # page-before: a slice of the backfill
            kept = db.execute("SELECT message_id, raw FROM message_revisions").fetchall()
            assert len(kept) == 1 and json.loads(kept[0][1])["errors"], label
            refetch = f"/v1/messages/{kept[0][0]}"
            # Asked for again by id, unless a neighbouring slice's page (the backfill's
            # slices overlap by a page at their bounds) listed it, readable.
            again = any(e.path == refetch for e in log if e.number > k)
            assert again or listed_later(world, log, k, kept[0][0]), label
            snap = snapshot(db)
            assert_same({**snap, "message_revisions": []}, world.clean, label)
        else:
            table = "memberships" if kind_of(struck) == "members" else "people"
            kept = db.execute(f"SELECT count(*) FROM {table} WHERE raw LIKE '%kms_failure%'")
            assert kept.fetchone() == (1,), label
        whole(archive)
        resume = sync(world, archive)
        assert_same({**snapshot(resume[1]), "message_revisions": []}, world.clean, label)
    assert hits >= 5


def marked(db: store.Database) -> bool:
    """Whether anything in the archive came with a kms_failure."""
    tables = ("messages", "message_revisions", "memberships", "people")
    return any(
        db.execute(f"SELECT 1 FROM {t} WHERE raw LIKE '%kms_failure%'").fetchone() for t in tables
    )

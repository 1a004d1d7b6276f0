"""Fewer requests where the archive can know: ``sync --all`` over unchanged spaces costs the
``/rooms`` listing, a space re-reads its look-back only when the window holds messages, the
files come after every space's messages, ``--download files`` sends no HEAD, a URL shared by
two messages is fetched once, and ``--file-info-limit`` caps the HEADs of a run."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import Counter
from pathlib import Path

from etl import store
from etl.api import WebexClient
from etl.spaces import list_spaces
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room, make_dataset
from tests.etl.conftest import FAST
from tests.test_cli import run
from webex_emulator import DataSet, Emulator


def sync_all(emu: Emulator, archive: Path, **options) -> list:
    """What ``sync --all`` does: the listing, then every listed space with its room."""
    db = store.open_archive(archive)
    with WebexClient(emu.token, emu.api_url, retry=FAST) as client:
        rooms = {room["id"]: room for room in list_spaces(client)}
        options.setdefault("archive_dir", archive)
        results = sync_spaces(db, client, list(rooms), SyncOptions(**options), rooms=rooms)
    db.close()
    return results


def requests_by_kind(emu: Emulator) -> Counter:
    """Requests by method and path without the query (ids of rooms and files cut off)."""
    kinds: Counter = Counter()
    for entry in emu.log.entries():
        path = entry.path.split("?")[0]
        parts = path.split("/")
        if len(parts) > 3 and parts[3] != "me":
            path = "/".join(parts[:3]) + "/{id}"
        kinds[(entry.method, path)] += 1
    return kinds


def test_sync_all_over_unchanged_spaces_costs_the_listing(emu, dataset, tmp_path):
    """The command line: the second `sync --all` asks who the token is and lists the rooms,
    nothing per space (the data set's messages are all older than the 7-day look-back)."""
    env = {
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
        "WEBEX_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    first = run("sync", "--all", env=env)
    assert first.returncode == 0, first.stderr
    emu.log.clear()
    again = run("sync", "--all", env=env)
    assert again.returncode == 0, again.stderr
    assert requests_by_kind(emu) == {("GET", "/v1/people/me"): 1, ("GET", "/v1/rooms"): 1}
    assert summary(again.stderr).startswith(
        "synced 4 spaces: 0 new, 0 edited, 0 deleted, 2 requests, "
    )
    conn = sqlite3.connect(tmp_path / "archive" / "archive.db")
    row = conn.execute(
        "SELECT requests, retries, rate_limited, file_info, arguments FROM sync_runs "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    conn.close()
    assert row[:4] == (2, 0, 0, 0) and json.loads(row[4])["max_rate"] is None


def recent(emu: Emulator, ds: DataSet, room_id: str, count: int) -> list[dict]:
    """``count`` messages posted now (inside any look-back window)."""
    return emu.add_messages(room_id, count, seed=11)


def test_only_spaces_with_messages_in_the_look_back_are_read_again(tmp_path):
    """Four spaces, one with messages from today: the unchanged run reads that one's window
    (one page; its members are listed only once due) and nothing of the three quiet ones."""
    ds = make_dataset(messages=200, spaces=3, seed=4, hostile_rate=0)
    room = group_room(ds)["id"]
    with Emulator(ds) as emu:
        recent(emu, ds, room, 5)
        sync_all(emu, tmp_path, download="no")
        emu.log.clear()
        results = sync_all(emu, tmp_path, download="no")
        kinds = requests_by_kind(emu)
        pages = [e.path for e in emu.log.entries() if e.path.startswith("/v1/messages?")]
    assert kinds == {
        ("GET", "/v1/people/me"): 1,
        ("GET", "/v1/rooms"): 1,
        ("GET", "/v1/messages"): 1,
    }
    assert all(f"roomId={room}" in path for path in pages)
    by_id = {r.space_id: r for r in results}
    assert (by_id[room].unchanged, by_id[room].window_read) == (False, True)
    assert all(r.unchanged and not r.window_read for r in results if r.space_id != room)


def test_files_come_after_every_space_messages(tmp_path):
    """No HEAD before the last message page of the run, and the people before the files."""
    ds = make_dataset(messages=200, spaces=3, seed=4, hostile_rate=0)
    with Emulator(ds) as emu:
        sync_all(emu, tmp_path, download="info")
        log = emu.log.entries()
    heads = [e.number for e in log if e.method == "HEAD"]
    lists = [e.number for e in log if e.path.startswith(("/v1/messages", "/v1/people?"))]
    assert heads and max(lists) < min(heads)


def two_messages_sharing_a_file(emu: Emulator, ds: DataSet) -> tuple[str, str]:
    """A room's newest message with a file, and a new message carrying the same URL."""
    room = group_room(ds)["id"]
    with_file = next(
        m for m in sorted(ds.messages.values(), key=lambda m: m["created"], reverse=True)
        if m["roomId"] == room and m.get("files")
    )  # fmt: skip
    url = f"{emu.api_url}/contents/{with_file['files'][0]}"
    person = with_file["personId"]
    emu.post_message(room, "the same file again", person_id=person, files=[{"url": url}])
    return room, url


def test_download_files_sends_no_head_and_fetches_a_shared_url_once(tmp_path):
    ds = make_dataset(messages=200, spaces=1, seed=4, hostile_rate=0)
    with Emulator(ds) as emu:
        room, url = two_messages_sharing_a_file(emu, ds)
        results = sync_all(emu, tmp_path, download="files")
        log = emu.log.entries()
    assert [e for e in log if e.method == "HEAD"] == []
    gets = Counter(e.path for e in log if e.path.startswith("/v1/contents/"))
    assert gets and set(gets.values()) == {1}
    db = store.open_archive(tmp_path)
    shared = db.execute(
        "SELECT status, local_path, name, size FROM files WHERE url = ?", [url]
    ).fetchall()
    assert len(shared) == 2 and shared[0] == shared[1] and shared[0][0] == "downloaded"
    assert shared[0][2] and shared[0][3] > 0
    files = db.execute("SELECT count(*) FROM files WHERE status = 'downloaded'").fetchone()[0]
    assert files == sum(len(m.get("files", [])) for m in ds.messages.values())  # the new one too
    [result] = [r for r in results if r.space_id == room]
    assert result.downloads["deduplicated"] >= 1


def test_file_info_limit_caps_the_heads_of_a_run_and_the_next_run_goes_on(tmp_path):
    ds = make_dataset(messages=300, spaces=2, seed=4, hostile_rate=0)
    total = len({f for m in ds.messages.values() for f in m.get("files", [])})
    assert total > 12
    with Emulator(ds) as emu:
        results = sync_all(emu, tmp_path, download="info", file_info_limit=5)
        heads = sum(e.method == "HEAD" for e in emu.log.entries())
        assert heads == 5 and sum(r.files.get("checked", 0) for r in results) == 5
        emu.log.clear()
        sync_all(emu, tmp_path, download="info", file_info_limit=1000)
        assert sum(e.method == "HEAD" for e in emu.log.entries()) == total - 5
    db = store.open_archive(tmp_path)
    statuses = Counter(row[0] for row in db.execute("SELECT status FROM files"))
    assert statuses == {"info": total}
    runs = [row[0] for row in db.execute("SELECT file_info FROM sync_runs ORDER BY id")]
    assert runs == [5, total - 5]


def median_gap(starts: list[float]) -> float:
    """The median time between two requests' arrivals. Pacing spaces the requests as they are
    sent; one delayed on its way (a cold connection, a busy machine) arrives late, shortening
    one gap and lengthening the next, so the median keeps the pace where the whole span lost
    the delay of the first request (0.9495 s for ten gaps of 0.1 s once, under load).
    Unpaced, the gaps are milliseconds."""
    gaps = sorted(later - earlier for earlier, later in itertools.pairwise(starts))
    return gaps[len(gaps) // 2]


def test_max_rate_spaces_the_command_s_requests_and_says_so(emu, tmp_path):
    """`sync --all --max-rate 600`: requests at least 0.1 s apart as Webex saw them arrive
    (give or take the threads' jitter), the pacing in the last line and in sync_runs; 0 is a
    usage error."""
    env = {
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
        "WEBEX_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    result = run("sync", "--all", "--max-rate", "600", "--download", "no", env=env)
    assert result.returncode == 0, result.stderr
    starts = sorted(e.started for e in emu.log.entries())
    assert len(starts) > 10
    assert median_gap(starts) >= 0.09
    assert "s pacing)" in summary(result.stderr)
    conn = sqlite3.connect(tmp_path / "archive" / "archive.db")
    paced = conn.execute("SELECT paced_seconds, arguments FROM sync_runs").fetchone()
    conn.close()
    # the waits are recorded; their length depends on the requests' own speed (see below)
    assert paced[0] > 0 and json.loads(paced[1])["max_rate"] == 600
    refused = run("sync", "--all", "--max-rate", "0", env=env)
    assert refused.returncode == 2 and "--max-rate" in refused.stderr


def test_a_remembered_pace_paces_the_command_and_relearn_rate_forgets_it(emu, tmp_path):
    """An archive that learnt 600 a minute: `sync --all` is paced at it once the archive's run
    begins (after the one `/rooms` listing that chose the spaces), 0.1 s apart as Webex saw
    them arrive; `--relearn-rate` forgets it, and that run is not
    paced at all (the emulator keeps no quota: nothing to learn again)."""
    archive = tmp_path / "archive"
    env = {
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
        "WEBEX_ARCHIVE_DIR": str(archive),
    }
    db = store.open_archive(archive)
    with store.transaction(db):
        store.save_learnt_rate(db, 600.0, store.utc_now())
    db.close()
    result = run("sync", "--all", "--download", "no", env=env)
    assert result.returncode == 0, result.stderr
    day = store.utc_now()[:10]
    said = f"pacing requests at 600 a minute, as Webex's 429s taught on {day} (sync --relearn-rate"
    assert said in result.stderr
    listing = [e for e in emu.log.entries() if e.path.startswith("/v1/rooms?")]
    starts = sorted(e.started for e in emu.log.entries() if e not in listing)
    assert len(listing) == 1 and len(starts) >= 10
    assert median_gap(starts) >= 0.09
    emu.log.clear()
    again = run("sync", "--all", "--full", "--download", "no", "--relearn-rate", env=env)
    assert again.returncode == 0, again.stderr
    assert "pacing requests" not in again.stderr
    assert len(emu.log.entries()) >= 10
    conn = sqlite3.connect(archive / "archive.db")
    paced = [row[0] for row in conn.execute("SELECT paced_seconds FROM sync_runs ORDER BY id")]
    kept = conn.execute("SELECT key FROM meta WHERE key LIKE 'learnt_rate%'").fetchall()
    conn.close()
    # The waits the pacer made are recorded (how long depends on how fast the requests
    # themselves were: 0.4 s under load, 0.9 s quiet; the spacing above is the proof of pace).
    assert paced[0] > 0 and paced[1] == 0 and kept == []


def summary(stderr: str) -> str:
    """The sync's last line of its own (a warning about the token may follow it)."""
    return [line for line in stderr.splitlines() if line.startswith("synced ")][-1]

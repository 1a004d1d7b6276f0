"""The sync against an emulator that keeps a quota (429 + Retry-After): with ``--max-rate``
under the quota no 429 at all; without it exactly two (a lone one, then the one that
teaches), then the run paces itself at 97 % of the quota and meets none; the next run starts
at the pace the archive kept and meets none.

Both sides count one clock, the test's: the emulator's clock is stopped, the client reads it
(``WebexClient(clock=...)``) and every wait of the client (its paced slots, ``Retry-After``)
moves it by exactly what is waited (``sleep=``). Nothing else moves it, so the run is
infinitely faster than the quota however loaded the machine is: the quota is met at the same
request every time, and a paced request reaches the emulator at the instant of its slot.
With real clocks both depended on the machine's speed: a run slowed by load met the quota
once or not at all (nothing to learn), and threads sending late after their slots met more
429s than a thread's share. The quota is Webex's documented 300 a minute, as 40 requests in an
8 s window, so that a few hundred requests meet it twice.

One worker: with several, each thread's wait would move the shared clock while another
thread's request is still on its way, a lateness decided by the machine's scheduling again.
What the threads share (one pacer, one pause after a 429) is tested where the test owns the
threads' timing: ``test_pacing.py``'s threads and ``test_backfill.py``'s
``test_a_429_on_one_worker_pauses_all_of_them``."""

from __future__ import annotations

import pytest

from etl import store
from etl.api import RetryPolicy, WebexClient
from etl.pacing import HEADROOM
from etl.spaces import list_spaces
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import make_dataset
from tests.reliability.helpers import assert_same, snapshot
from webex_emulator import Emulator, Quota

# max_retry_after: at least the quota's window, so that the client waits as long as
# Retry-After asks, as it does by default (an hour).
PATIENT = RetryPolicy(tries=3, backoff=0.01, backoff_cap=0.05, max_retry_after=60)
OPTIONS = {"page_size": 50, "download": "info", "workers": 1}
WINDOW = 8.0
PER_MINUTE = 40 * 60 / WINDOW  # 300, as Webex documents


def quota() -> Quota:
    """A fresh quota (it counts what it admitted): 40 requests in any 8 s."""
    return Quota(limits={"other": 40}, window=WINDOW)


def sync_all(emu: Emulator, archive, max_rate: int | None = None, only=None):
    """Sync the spaces ``only`` accepts (all by default) into ``archive`` on the emulator's
    clock (see the module docstring); the archive and the client's counters."""
    db = store.open_archive(archive)
    with WebexClient(
        emu.token, emu.api_url, retry=PATIENT, clock=emu.clock.monotonic, sleep=emu.clock.advance
    ) as client:
        client.pacer.limit(max_rate)
        rooms = {room["id"]: room for room in list_spaces(client)}
        ids = [room for room in rooms if only is None or only(room)]
        results = sync_spaces(db, client, ids, SyncOptions(**OPTIONS), rooms=rooms)
        stats = client.stats
    assert [r.error for r in results] == [None] * len(results)
    return db, stats


@pytest.fixture
def dataset():
    """Four spaces, 400 messages: some 220 requests, the quota of more than five windows."""
    return make_dataset(messages=400, spaces=4, seed=8, hostile_rate=0)


def keep_quota(emu: Emulator) -> None:
    """From now on the emulator keeps the quota, on its clock stopped (only waits move it);
    its log starts again."""
    emu.quota = quota()
    emu.clock.stop()
    emu.log.clear()


def test_a_stated_rate_under_the_quota_meets_no_429(dataset, tmp_path):
    """--max-rate 240 (4 a second, under the quota's 5): not one 429, and every request
    exactly a quarter of a second after the one before (the run took that long on the clock
    both sides count, and waited all of it in its slots), the archive complete."""
    with Emulator(dataset) as emu:
        clean, _ = sync_all(emu, tmp_path / "clean")
        keep_quota(emu)
        start = emu.clock.monotonic()
        db, stats = sync_all(emu, tmp_path / "paced", max_rate=240)
        took, log = emu.clock.monotonic() - start, emu.log.entries()
    assert [e for e in log if e.status == 429] == [] and stats.rate_limited == 0
    assert len(log) > 2 * 40  # more than two windows' quota: unpaced, it would meet a 429
    assert took == pytest.approx((len(log) - 1) / 4) and stats.paced == pytest.approx(took)
    assert_same(snapshot(db), snapshot(clean), "paced by --max-rate")


def test_without_a_stated_rate_two_429s_teach_the_pace(dataset, tmp_path):
    """No --max-rate: the quota's 41st request meets a lone 429, which is only waited out (one
    refusal says nothing about this run's quota); the next window's 41st meets the second,
    which teaches the rate: the 80 requests accepted over the 16 s since the run began (its
    age plus Retry-After), paced at 97 % of it. Not one 429 after that, the archive complete.
    Without the pacing every window's 41st request meets one; without the lone rule the first
    429 teaches, and there is one."""
    with Emulator(dataset) as emu:
        clean, _ = sync_all(emu, tmp_path / "clean")
        keep_quota(emu)
        db, stats = sync_all(emu, tmp_path / "learnt")
        log = emu.log.entries()
        learnt, _ = store.learnt_rate(db)
    refused = [e.number for e in log if e.status == 429]
    assert refused == [41, 82] and stats.rate_limited == 2  # the 41st of each window
    assert learnt == pytest.approx(PER_MINUTE * HEADROOM)
    assert len(log) - 82 > 2 * 40  # paced well past what taught it: two windows' quota more
    assert stats.paced > 0
    assert_same(snapshot(db), snapshot(clean), "paced by a learnt quota")


def test_the_next_run_starts_at_the_pace_the_archive_kept_and_meets_no_429(dataset, tmp_path):
    """A first run over two spaces learns the quota from its two 429s and the archive keeps
    the pace; a second run into the same archive, over the two other spaces (more requests
    than a window allows), is paced from its first request: not one 429, and nothing new
    learnt."""
    groups = sorted(r["id"] for r in dataset.rooms.values() if r["type"] == "group")
    with Emulator(dataset) as emu:
        keep_quota(emu)
        db, first = sync_all(emu, tmp_path, only=lambda room: room in groups[:2])
        learnt, _ = store.learnt_rate(db)
        assert first.rate_limited == 2 and learnt == pytest.approx(PER_MINUTE * HEADROOM)
        emu.clock.advance(WINDOW)  # a later run: the first run's requests are out of it
        emu.log.clear()
        db, second = sync_all(emu, tmp_path, only=lambda room: room in groups[2:])
        log = emu.log.entries()
    assert second.rate_limited == 0 and [e for e in log if e.status == 429] == []
    assert len(log) > 40 and second.paced > 0  # more than the window allows
    assert store.learnt_rate(db)[0] == learnt  # taught nothing new: kept as it was

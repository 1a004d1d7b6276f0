"""etl/pacing.py: one budget for all threads; a stated rate spaces requests, two 429s within a
minute teach one, a lone 429 teaches nothing, a learnt pace is remembered by the archive. A
clock of our own drives it (the sync against a quota-keeping emulator is in test_quota.py)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from etl import store
from etl.pacing import HEADROOM, MIN_EVIDENCE, RELEARN_DAYS, Pacer, keep_pace, start_paced
from etl.store import transaction


class Clock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def sent(requests: int, every: float = 0.0) -> tuple[Clock, Pacer]:
    """A pacer on a test clock that has let ``requests`` through, ``every`` seconds apart."""
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(requests):
        pacer.wait()
        clock.sleep(every)
    return clock, pacer


def test_no_rate_stated_and_none_learnt_never_waits():
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    assert [pacer.wait() for _ in range(100)] == [0.0] * 100
    assert clock.now == 1000.0


def test_a_stated_rate_spaces_requests_evenly():
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    pacer.limit(120)  # one every half second
    waits = [pacer.wait() for _ in range(5)]
    assert waits == [0.0, 0.5, 0.5, 0.5, 0.5]
    assert clock.now == pytest.approx(1002.0)


def test_threads_share_the_budget_and_get_distinct_slots():
    """Eight threads, 60 a minute: the slots handed out are one second apart, none shared."""
    slots: list[float] = []
    lock = threading.Lock()

    def now() -> float:
        return 0.0  # every thread asks at the same instant

    pacer = Pacer(now, lambda seconds: None)
    pacer.limit(60)

    def take() -> None:
        waited = pacer.wait()
        with lock:
            slots.append(waited)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slots) == [float(k) for k in range(8)]


def test_one_429_is_waited_out_but_teaches_no_pace():
    _, pacer = sent(50)
    assert pacer.rate_limited() is None
    assert pacer.wait() == 0.0


def test_a_second_429_within_a_minute_teaches_what_was_accepted():
    """100 requests in a minute, the 101st and 102nd refused: the pace becomes 100 a minute
    less the headroom; a request sent after that waits its slot."""
    _, pacer = sent(100, every=0.6)
    pacer.wait()
    assert pacer.rate_limited() is None
    pacer.wait()
    rate = pacer.rate_limited()
    assert rate == pytest.approx(100 * HEADROOM)
    assert 0 < pacer.wait() <= 6 * 0.6  # until the minute before holds fewer than the pace
    assert pacer.wait() == pytest.approx(60 / rate)


def test_a_quota_met_in_the_first_seconds_is_spread_over_the_retry_after_too():
    """100 accepted in the run's first 10 s, then refused with Retry-After 50: a window of a
    minute (the run's 10 s and the 50 s until it frees), so 100 a minute, not 600."""
    _, pacer = sent(100, every=0.1)
    pacer.wait()
    pacer.rate_limited(50)
    pacer.wait()
    assert pacer.rate_limited(50) == pytest.approx(100 * HEADROOM, rel=0.03)


def test_without_a_retry_after_a_first_burst_reads_as_a_minute_rate_then_corrects_itself():
    """100 accepted in the first 10 s with no Retry-After to go by read as 600 a minute (a
    quota per second would be just that); when the quota is per minute, the next 429s, a
    minute on, teach 100."""
    clock, pacer = sent(100, every=0.1)
    pacer.wait()
    pacer.rate_limited()
    pacer.wait()
    assert pacer.rate_limited() == pytest.approx(100 * 60 / 10.0 * HEADROOM, rel=0.02)
    clock.sleep(50)  # Retry-After: the window frees; 100 more go through, paced, in a minute
    for _ in range(100):
        pacer.wait()
        clock.sleep(0.6 - 60 / pacer.learnt)  # type: ignore[operator]
    pacer.wait()
    pacer.rate_limited()
    pacer.wait()
    assert pacer.rate_limited() == pytest.approx(100 * HEADROOM, rel=0.03)


def test_429s_after_few_requests_teach_nothing():
    """Refused after 29 requests in a minute: not a quota this run can pace under (Webex's is
    about 300), so only Retry-After counts."""
    _, pacer = sent(MIN_EVIDENCE - 1 + 2, every=60 / 33)
    pacer.rate_limited()
    assert pacer.rate_limited() is None  # 29 accepted
    pacer.wait()
    pacer.wait()
    learnt = pacer.rate_limited()  # 33 sent in the last minute, 3 refused
    assert learnt == pytest.approx(MIN_EVIDENCE * HEADROOM, rel=0.07)  # over 56 s, not 60


def test_429s_more_than_a_minute_apart_teach_nothing():
    clock, pacer = sent(100)
    assert pacer.rate_limited() is None
    clock.sleep(61)
    for _ in range(100):
        pacer.wait()
    assert pacer.rate_limited() is None


def test_a_stated_rate_below_the_learnt_one_wins():
    _, pacer = sent(100)
    pacer.limit(30)
    pacer.rate_limited()
    assert pacer.rate_limited() == 30  # learnt (100 - 2) * HEADROOM, stated 30


def test_a_learnt_pace_does_not_rise_by_itself():
    """Learnt at 97 a minute; minutes without a 429 leave it there: a rise would be a probe
    paid in 429s (a remembered pace is learnt again after RELEARN_DAYS instead)."""
    clock, pacer = sent(100, every=0.6)
    pacer.rate_limited()
    learnt = pacer.rate_limited()
    assert learnt == pytest.approx(100 * HEADROOM, rel=0.05) and pacer.taught
    for _ in range(300):
        clock.sleep(1.0)
        pacer.wait()
    assert pacer.learnt == learnt


def test_after_a_burst_no_minute_holds_more_than_the_pace():
    """Fifty requests over the minute's first 50 s (the messages), fifty in its last second
    (the files), then 429s: paced at 97 a minute from there, spacing alone would let the
    window fill again as the slow fifty leave it. No minute ever holds more than 97."""
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    slots = []
    for index in range(100):
        slots.append(clock() + pacer.wait())
        clock.sleep(1.0 if index < 50 else 0.2)
    pacer.rate_limited(1)
    assert pacer.rate_limited(1) == pytest.approx(100 * HEADROOM, rel=0.04)
    for _ in range(200):
        slots.append(clock() + pacer.wait())
    after = slots[100:]
    busiest = max(sum(1 for t in slots if s - 60 < t <= s) for s in after)
    assert busiest <= int(pacer.learnt)  # type: ignore[arg-type]
    assert after[-1] - after[0] == pytest.approx(199 * 60 / pacer.learnt, rel=0.35)


def test_after_a_429_no_slot_comes_before_its_retry_after():
    """Paced at 60 a minute, a 429 asking for 5 s: the next slot is 5 s on, then one a second
    (a thread that took its slot before the 429 also checks the client's pause, api.py)."""
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    pacer.limit(60)
    pacer.wait()
    pacer.rate_limited(5)
    assert [pacer.wait(), pacer.wait()] == [pytest.approx(5.0), pytest.approx(1.0)]


def test_a_remembered_pace_paces_from_the_first_request_until_429s_teach_another():
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    pacer.remember(120)
    assert [pacer.wait() for _ in range(3)] == [0.0, 0.5, 0.5] and not pacer.taught
    for _ in range(60):
        pacer.wait()
    pacer.rate_limited(30)  # 31 s into the run: the window is its minute
    assert pacer.rate_limited(30) == pytest.approx((63 - 2) * HEADROOM, rel=0.02)
    assert pacer.taught
    pacer.remember(500)  # what this run learnt wins over what an earlier one did
    assert pacer.learnt == pytest.approx((63 - 2) * HEADROOM, rel=0.02)


def taught(rate: float) -> Pacer:
    """A pacer whose 429s taught it ``rate`` a minute (``rate / HEADROOM`` accepted)."""
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    accepted = round(rate / HEADROOM)
    for _ in range(accepted + 2):
        pacer.wait()
        clock.sleep(59 / (accepted + 2))
    pacer.rate_limited()
    pacer.rate_limited()
    return pacer


def test_the_archive_keeps_a_learnt_pace_for_the_next_run(tmp_path):
    """Kept when a run's 429s taught it (not when the run was only paced by it), read back by
    the next run; forgotten by --relearn-rate; not used once RELEARN_DAYS old or unreadable."""
    db = store.open_archive(tmp_path)
    with transaction(db):
        keep_pace(db, Pacer())  # nothing learnt: nothing kept
    assert store.learnt_rate(db) == (None, None)
    learnt = taught(300)
    with transaction(db):
        keep_pace(db, learnt)
    rate, at = store.learnt_rate(db)
    assert rate == pytest.approx(learnt.learnt, abs=0.05) and at is not None
    fresh = Pacer()
    with transaction(db):
        start_paced(db, fresh, relearn=False)
    assert fresh.learnt == rate and fresh.interval() == pytest.approx(60 / rate)
    with transaction(db):
        keep_pace(db, fresh)  # paced by it, taught nothing: the date stays
    assert store.learnt_rate(db) == (rate, at)
    old = datetime.now(timezone.utc) - timedelta(days=RELEARN_DAYS, minutes=1)
    for moment in (old.isoformat(), "not a time", "2999-01-01T00:00:00.000Z"):
        with transaction(db):
            store.set_meta(db, "learnt_rate_at", moment)
            start_paced(db, stale := Pacer(), relearn=False)
        assert stale.learnt is None and stale.interval() == 0.0
    with transaction(db):
        store.set_meta(db, "learnt_rate", "nan")
    assert store.learnt_rate(db) == (None, None)
    with transaction(db):
        store.save_learnt_rate(db, 300.0, store.utc_now())
        start_paced(db, relearnt := Pacer(), relearn=True)
    assert relearnt.learnt is None and store.learnt_rate(db) == (None, None)
    assert store.get_meta(db, "learnt_rate_at") is None

"""etl/pacing.py: one budget for all threads; a stated rate spaces requests, two 429s within a
minute teach one, a lone 429 teaches nothing. A clock of our own drives it (the sync against a
quota-keeping emulator is in test_quota.py)."""

from __future__ import annotations

import threading

import pytest

from etl.pacing import HEADROOM, MIN_EVIDENCE, RISE, Pacer


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
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(50):
        pacer.wait()
    assert pacer.rate_limited() is None
    assert pacer.wait() == 0.0


def test_a_second_429_within_a_minute_teaches_what_was_accepted():
    """100 requests in a minute, the 101st and 102nd refused: the pace becomes 100 a minute
    less the headroom; a request sent after that waits its slot."""
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(100):
        pacer.wait()
        clock.sleep(0.6)
    pacer.wait()
    assert pacer.rate_limited() is None
    pacer.wait()
    rate = pacer.rate_limited()
    assert rate == pytest.approx(100 * HEADROOM)
    assert pacer.wait() == 0.0  # the first slot is now
    assert pacer.wait() == pytest.approx(60 / rate)


def test_a_quota_met_in_the_first_seconds_reads_as_a_minute_rate_then_corrects_itself():
    """100 accepted in the run's first 10 s read as 600 a minute (a quota per second would be
    just that); when the quota is per minute, the next 429s, a minute on, teach 100."""
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(100):
        pacer.wait()
        clock.sleep(0.1)
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
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(MIN_EVIDENCE - 1 + 2):
        pacer.wait()
        clock.sleep(60 / 33)
    pacer.rate_limited()
    assert pacer.rate_limited() is None  # 29 accepted
    pacer.wait()
    pacer.wait()
    learnt = pacer.rate_limited()  # 33 sent in the last minute, 3 refused
    assert learnt == pytest.approx(MIN_EVIDENCE * HEADROOM, rel=0.07)  # over 56 s, not 60


def test_429s_more_than_a_minute_apart_teach_nothing():
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(100):
        pacer.wait()
    assert pacer.rate_limited() is None
    clock.sleep(61)
    for _ in range(100):
        pacer.wait()
    assert pacer.rate_limited() is None


def test_a_stated_rate_below_the_learnt_one_wins():
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(100):
        pacer.wait()
    pacer.limit(30)
    pacer.rate_limited()
    assert pacer.rate_limited() == 30  # learnt (100 - 2) * HEADROOM, stated 30


def test_a_learnt_pace_rises_after_a_minute_without_a_429():
    """Learnt at 97 a minute; a minute later with no refusal the pace is a tenth higher, and
    so on each quiet minute, until Webex refuses again."""
    clock = Clock()
    pacer = Pacer(clock, clock.sleep)
    for _ in range(100):
        pacer.wait()
        clock.sleep(0.6)
    pacer.rate_limited()
    learnt = pacer.rate_limited()
    assert learnt is not None
    clock.sleep(30)
    pacer.wait()
    assert pacer.learnt == learnt  # half a minute: not yet
    clock.sleep(31)
    pacer.wait()
    assert pacer.learnt == pytest.approx(learnt * RISE)
    clock.sleep(61)
    pacer.wait()
    assert pacer.learnt == pytest.approx(learnt * RISE**2)

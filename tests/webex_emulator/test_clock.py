"""The emulator's clock: moved forward instead of waiting, it is what everything timed reads.

Expiry of codes and tokens is in test_oauth.py (each on either side of its lifetime); here the
clock itself, its control endpoint, the quota's window, the data's new times and the events
feed's retention window.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import group_room
from tests.webex_emulator.oauth_helpers import authorize, consent_of, decide, redirected
from webex_emulator import Clock, Emulator, Quota
from webex_emulator.ids import parse_time
from webex_emulator.oauth import CONSENT_SECONDS


def test_the_clock_is_the_machines_until_moved_and_only_moves_forward():
    clock = Clock()
    assert clock.offset == 0
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=1)
    before = time.monotonic()
    assert before <= clock.monotonic() <= time.monotonic()
    assert clock.advance(86_400) == 86_400 and clock.advance(0.5) == 86_400.5
    assert (
        timedelta(days=1) <= clock.now() - datetime.now(timezone.utc) < timedelta(days=1, seconds=2)
    )
    assert clock.monotonic() - time.monotonic() == pytest.approx(86_400.5, abs=0.5)
    for wrong in (-1, math.nan, math.inf, "60", True, None, 101 * 365 * 86_400):
        with pytest.raises(ValueError, match=r"forward only|hundred years"):
            clock.advance(wrong)  # type: ignore[arg-type]
    assert clock.offset == 86_400.5  # a refused move moves nothing


def test_a_stopped_clock_moves_only_when_advanced():
    """What a test that shares the emulator's clock with its client relies on: once stopped,
    the machine's time passing moves nothing, and ``advance`` moves both readings by exactly
    what it is given (stopping again changes nothing)."""
    clock = Clock()
    clock.advance(10)
    clock.stop()
    held, present = clock.monotonic(), clock.now()
    real = time.monotonic()
    while time.monotonic() - real < 0.02:  # the machine's clock moves on, by any amount
        pass
    clock.stop()
    assert (clock.monotonic(), clock.now()) == (held, present)
    clock.advance(8.25)
    assert clock.monotonic() == held + 8.25 and clock.now() == present + timedelta(seconds=8.25)
    assert clock.offset == 18.25


def test_the_control_endpoint_reads_and_moves_it(emu):
    url = f"{emu.url}/_emulator/clock"
    first = requests.get(url, timeout=5).json()
    assert first["offset"] == 0
    assert abs(parse_time(first["now"]) - datetime.now(timezone.utc)) < timedelta(seconds=5)
    moved = requests.post(url, json={"advance": 3600}, timeout=5)
    assert moved.status_code == 200 and moved.json()["offset"] == 3600 == emu.clock.offset
    shift = parse_time(moved.json()["now"]) - parse_time(first["now"])
    assert timedelta(hours=1) <= shift < timedelta(hours=1, seconds=5)
    for body in ({"advance": -5}, {"advance": "soon"}, {"by": 5}, [], {"advance": 1, "x": 2}):
        refused = requests.post(url, json=body, timeout=5)
        assert refused.status_code == 400, body
        assert "advance" in refused.json()["message"] or "forward" in refused.json()["message"]
    assert requests.get(url, timeout=5).json()["offset"] == 3600


def test_the_quota_window_slides_with_the_clock(dataset):
    """Two requests per minute: the third is refused with the seconds left; a minute moved
    forward frees the window, fifty seconds do not."""
    quota = Quota(limits={"other": 2}, window=60.0)
    with Emulator(dataset, quota=quota) as emu, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {emu.token}"

        def status() -> tuple[int, str | None]:
            answer = http.get(f"{emu.api_url}/rooms", timeout=5)
            return answer.status_code, answer.headers.get("Retry-After")

        assert [status(), status()] == [(200, None), (200, None)]
        assert status() == (429, "60")
        emu.clock.advance(50)
        assert status() == (429, "10")
        emu.clock.advance(10)
        assert [status(), status(), status()] == [(200, None), (200, None), (429, "60")]


def test_new_data_is_dated_by_the_clock(emu, dataset):
    room = group_room(dataset)
    emu.clock.advance(30 * 86_400)
    posted = emu.post_message(room["id"], text="a month later")
    later = datetime.now(timezone.utc) + timedelta(days=30)
    assert abs(parse_time(posted["created"]) - later) < timedelta(seconds=5)
    edited = emu.edit_message(posted["id"], text="edited")
    assert abs(parse_time(edited["updated"]) - later) < timedelta(seconds=5)
    member = dataset.memberships[room["id"]][-1]
    emu.remove_member(member["id"])
    joined = emu.add_member(room["id"], member["personId"])  # back a month later
    assert abs(parse_time(joined["created"]) - later) < timedelta(seconds=5)


def test_the_events_feed_keeps_its_retention_window_by_the_clock(emu, dataset):
    """An event recorded now is served until the retention window (90 days) has passed over
    it on the emulator's clock; a ``to`` in the real present is no longer in the future."""
    room = group_room(dataset)
    officer = requests.Session()
    officer.headers["Authorization"] = f"Bearer {emu.officer_token()}"
    posted = emu.post_message(room["id"], text="kept 90 days")
    url = f"{emu.api_url}/events"

    def ids() -> list[str]:
        answer = officer.get(url, params={"resource": "messages"}, timeout=5)
        assert answer.status_code == 200, answer.text
        return [event["data"].get("id") for event in answer.json()["items"]]

    assert posted["id"] in ids()
    emu.clock.advance(89 * 86_400)
    assert posted["id"] in ids()
    emu.clock.advance(2 * 86_400)
    assert posted["id"] not in ids()
    to = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert officer.get(url, params={"to": to}, timeout=5).status_code == 200  # 91 days on
    officer.close()


def test_a_consent_form_expires_by_the_clock(emu):
    """Unanswered, the consent page's form is usable for CONSENT_SECONDS of the clock."""
    kept, stale = consent_of(authorize(emu)), consent_of(authorize(emu))
    emu.clock.advance(CONSENT_SECONDS - 10)
    assert "code" in redirected(decide(emu, kept))[1]
    emu.clock.advance(11)
    expired = decide(emu, stale)
    assert expired.status_code == 400 and "expired" in expired.text

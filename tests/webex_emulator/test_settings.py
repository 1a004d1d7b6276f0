"""The settings for what Webex leaves undocumented: lastActivity on edits, the quota, the
latency model and the page limit, through the Python API, the data-set file, the control
endpoint and the command line."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from click.testing import CliRunner

from tests.conftest import group_room, make_dataset
from tests.reliability.processes import wait_until
from webex_archive.cli import main
from webex_emulator import DataSet, Emulator, Latency, Quirks, Quota, Rule, Settings
from webex_emulator.latency import GATEWAY_TIMEOUT
from webex_emulator.server import TOO_MANY


def session(token: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def last_activity(emu: Emulator, http: requests.Session, room_id: str) -> str:
    return http.get(f"{emu.api_url}/rooms/{room_id}", timeout=5).json()["lastActivity"]


def newest(emu: Emulator, http: requests.Session, room_id: str, count: int = 3) -> list[dict]:
    params = {"roomId": room_id, "max": count}
    return http.get(f"{emu.api_url}/messages", params=params, timeout=5).json()["items"]


# ----- lastActivity -------------------------------------------------------------------------


def test_edits_and_deletions_move_last_activity_by_default(dataset):
    room = group_room(dataset)
    with Emulator(dataset) as emu, session(emu.token) as http:
        first = last_activity(emu, http, room["id"])
        top = newest(emu, http, room["id"])
        edited = emu.edit_message(top[1]["id"], text="edited")
        assert last_activity(emu, http, room["id"]) == edited["updated"] > first
        emu.delete_message(top[2]["id"])
        assert last_activity(emu, http, room["id"]) >= edited["updated"]


def test_edits_and_deletions_leave_last_activity_when_it_stays(dataset):
    room = group_room(dataset)
    with Emulator(dataset, quirks=Quirks(last_activity="stays")) as emu, session(emu.token) as h:
        first = last_activity(emu, h, room["id"])
        top = newest(emu, h, room["id"])
        emu.edit_message(top[0]["id"], text="edited in Python")
        emu.delete_message(top[1]["id"])
        control = f"{emu.url}/_emulator/messages/{top[2]['id']}"
        assert requests.patch(control, json={"text": "over HTTP"}, timeout=5).status_code == 200
        assert requests.delete(control, timeout=5).status_code == 204
        assert last_activity(emu, h, room["id"]) == first
        assert [m["id"] for m in newest(emu, h, room["id"], 1)] == [top[0]["id"]]
        assert newest(emu, h, room["id"], 1)[0]["text"] == "edited in Python"
        posted = emu.post_message(room["id"], text="a new message still moves it")
        assert last_activity(emu, h, room["id"]) == posted["created"] > first


# ----- quota -------------------------------------------------------------------------------


def test_quota_per_class_answers_429_with_the_seconds_until_a_slot_frees(dataset):
    room = group_room(dataset)
    quota = Quota(limits={"messages": 3, "other": 2}, window=2.0)
    with Emulator(dataset, quota=quota) as emu, session(emu.token) as http:
        messages = [
            http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]}, timeout=5)
            for _ in range(4)
        ]
        others = [http.get(f"{emu.api_url}/rooms", timeout=5) for _ in range(2)]
        others.append(http.get(f"{emu.api_url}/people/me", timeout=5))  # "other" too
        assert [r.status_code for r in messages] == [200, 200, 200, 429]
        assert [r.status_code for r in others] == [200, 200, 429]
        limited = messages[3]
        wait = int(limited.headers["Retry-After"])
        assert wait in (1, 2)  # whole seconds until the first of the window leaves it
        assert limited.json()["message"] == TOO_MANY and "X-Emulator-Fault" not in limited.headers
        # The avatar CDN is not the API, and the bot is another user with its own budget.
        avatar = next(p["avatar"] for p in dataset.people.values() if "avatar" in p)
        assert http.get(f"{emu.url}/avatars/{avatar}~80", timeout=5).status_code == 200
        with session(dataset.bot_token()) as bot:
            assert bot.get(f"{emu.api_url}/rooms", timeout=5).status_code == 200
        # Waiting Retry-After (the emulator's clock moved as far) frees the slot; a 429
        # itself was not counted.
        emu.clock.advance(wait)
        again = http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]}, timeout=5)
        assert again.status_code == 200
        faults = [(e.status, e.fault) for e in emu.log.entries()]
    assert faults.count((429, "quota")) == 2 and faults.count((200, "")) == 8


def test_quota_unnamed_classes_are_free_without_other(dataset):
    quota = Quota(limits={"messages": 1})
    with Emulator(dataset, quota=quota) as emu, session(emu.token) as http:
        assert {http.get(f"{emu.api_url}/rooms", timeout=5).status_code for _ in range(5)} == {200}


# ----- latency and the page limit -----------------------------------------------------------


def test_latency_is_fixed_plus_per_item_and_requests_overlap(dataset):
    """An answer waits the fixed part plus the per-item part (at least that: a loaded
    machine only adds to a wall-clock wait, so the floor is what is measured, and ``cost``
    the exact figure), and requests are answered side by side: four are held (a ``delay``
    fault) until all four have arrived, which a server answering one at a time never sees."""
    room = group_room(dataset)
    latency = Latency(fixed=0.2, per_item=0.004)
    assert latency.cost(0) == 0.2 and latency.cost(100) == pytest.approx(0.6)
    with Emulator(dataset, latency=latency) as emu, session(emu.token) as http:
        started = time.monotonic()
        http.get(f"{emu.api_url}/people/me", timeout=5).raise_for_status()
        one = time.monotonic() - started
        started = time.monotonic()
        page = http.get(f"{emu.api_url}/messages", params={"roomId": room["id"], "max": 100})
        hundred = time.monotonic() - started
        assert len(page.json()["items"]) == 100

        def get(url: str) -> int:
            with session(emu.token) as own:
                return own.get(url, timeout=60).status_code

        emu.log.clear()
        emu.add_fault(Rule("delay", rate=1.0, seconds=30.0, path="/v1/people/me"))
        with ThreadPoolExecutor(4) as pool:
            answers = [pool.submit(get, f"{emu.api_url}/people/me") for _ in range(4)]
            together = wait_until(lambda: emu.log.arrived() == 4, timeout=20)
            emu.faults.release()
            assert [answer.result() for answer in answers] == [200] * 4
    assert together  # four at once, not one after the other
    assert one >= 0.2 and hundred >= 0.6  # 0.2 + 100 × 0.004


def test_page_limit_answers_504_per_space(dataset):
    rooms = [r for r in dataset.rooms.values() if r["type"] == "group"]
    busy, quiet = rooms[0]["id"], rooms[1]["id"]
    latency = Latency(page_limit=20, page_limits={quiet: 60})
    with Emulator(dataset, latency=latency) as emu, session(emu.token) as http:

        def status(room_id: str, **params: object) -> int:
            params = {"roomId": room_id, **params}
            return http.get(f"{emu.api_url}/messages", params=params, timeout=5).status_code

        assert status(busy, max=20) == 200
        answer = http.get(f"{emu.api_url}/messages", params={"roomId": busy, "max": 21})
        assert answer.status_code == 504
        assert answer.json()["message"] == GATEWAY_TIMEOUT
        assert status(busy) == 504  # the default max is 50
        assert status(quiet) == 200 and status(quiet, max=60) == 200
        assert status(quiet, max=61) == 504 and status(quiet, max=5000) == 504  # 1000 asked
        assert status(busy, max="lots") == 400  # the endpoint's own error comes first
        mentions = {"mentionedPeople": "me"}
        assert status(quiet, **mentions, max=1000) == 504  # clamped to 100, above 60
        emu.quirks.over_cap = "400"
        assert status(quiet, **mentions, max=1000) == 400 and status(quiet, max=1000) == 504
        assert http.get(f"{emu.api_url}/memberships", params={"roomId": busy}).status_code == 200
        logged = [(e.status, e.fault) for e in emu.log.entries() if e.status == 504]
    assert logged == [(504, "page_limit")] * 6


# ----- where settings come from -------------------------------------------------------------


SCENARIO = {
    "lastActivity": "stays",
    "lockHead": True,
    "quota": {"limits": {"messages": 600, "other": 300}, "window": 60.0},
    "latency": {"fixed": 0.15, "perItem": 0.0003, "pageLimit": 500, "pageLimits": {"r": 200}},
}


def test_settings_travel_in_the_data_set_file(tmp_path):
    dataset = make_dataset(messages=10, spaces=1)
    assert "settings" not in dataset.to_json()  # defaults are not written
    dataset.settings = Settings.from_json(SCENARIO)
    path = tmp_path / "scenario.json"
    dataset.dump(path)
    assert json.loads(path.read_text())["settings"] == SCENARIO
    loaded = DataSet.load(path)
    with Emulator(loaded) as emu:
        assert emu.settings.to_json() == SCENARIO
        emu.quirks.last_activity = "moves"  # the emulator's copy, not the data set's
        assert loaded.settings.quirks.last_activity == "stays"
    with Emulator(loaded, quirks=Quirks()) as emu:
        assert emu.quirks == Quirks() and emu.quota.limits == {"messages": 600, "other": 300}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lastActivity": "sometimes"}, "lastActivity must be one of moves, stays"),
        ({"fileNames": "utf-16"}, "fileNames must be one of rfc6266"),
        ({"lockHead": "yes"}, "lockHead must be true or false"),
        ({"lastactivity": "stays"}, "unknown settings: lastactivity"),
        ({"quota": {"limits": {"other": 0}}}, "quota 'other' must be a whole number"),
        ({"quota": {"limits": {"other": 5}, "window": 0}}, "window must be a number"),
        ({"quota": {"perMinute": 300}}, "unknown quota settings: perMinute"),
        ({"latency": {"fixed": -1}}, "latency fixed must be seconds"),
        ({"latency": {"perItem": float("nan")}}, "latency per_item must be seconds"),
        ({"latency": {"pageLimits": {"r": True}}}, "a page limit must be a whole number"),
        ({"quota": {"limits": {"other": 5}, "window": float("inf")}}, "window must be a number"),
        ({"latency": {"pageLimit": 0}}, "a page limit must be a whole number"),
        ({"latency": 3}, "settings.latency must be a JSON object"),
    ],
)
def test_bad_settings_are_one_line_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_json(settings)


def test_settings_over_http(emu, http, dataset):
    room = group_room(dataset)
    url = f"{emu.url}/_emulator/settings"
    assert requests.get(url, timeout=5).json() == {}
    changed = requests.put(url, json={"quota": {"limits": {"messages": 1}}}, timeout=5)
    assert changed.json() == {"quota": {"limits": {"messages": 1}, "window": 60.0}}
    codes = [
        http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]}).status_code
        for _ in range(2)
    ]
    assert codes == [200, 429]
    bad = requests.put(url, json={"timestamps": "unix"}, timeout=5)
    assert bad.status_code == 400 and "timestamps must be one of" in bad.json()["message"]
    assert requests.get(url, timeout=5).json()["quota"]["limits"] == {"messages": 1}


def test_command_line_options_over_the_file(tmp_path):
    path = tmp_path / "set.json"
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "emulator",
            "--dump",
            str(path),
            "--messages",
            "5",
            "--spaces",
            "1",
            "--last-activity",
            "stays",
            "--quota",
            "other=300",
            "--quota",
            "messages=600",
            "--fixed-latency",
            "0.15",
            "--item-latency",
            "0.0003",
            "--page-limit",
            "500",
            "--page-limit-space",
            "r=200",
            "--lock-head",
        ],
    )
    assert made.exit_code == 0, made.output
    assert json.loads(path.read_text())["settings"] == SCENARIO
    again = tmp_path / "again.json"
    over = runner.invoke(
        main,
        ["emulator", "--data", str(path), "--dump", str(again), "--last-activity", "moves"],
    )
    assert over.exit_code == 0, over.output
    moves = {k: v for k, v in SCENARIO.items() if k != "lastActivity"}  # the default: not written
    assert json.loads(again.read_text())["settings"] == moves
    bad = runner.invoke(main, ["emulator", "--quota", "other=many"])
    assert bad.exit_code == 2 and "'other=many' is not NAME=N" in bad.output
    nan = runner.invoke(main, ["emulator", "--fixed-latency", "nan"])
    assert nan.exit_code == 2 and "'nan' is not a finite number" in nan.output

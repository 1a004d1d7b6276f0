"""Faults fire exactly when asked, and never otherwise."""

from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import group_room
from webex_emulator import Faults, Rule


def test_no_fault_unless_asked(emu, http):
    statuses = {http.get(f"{emu.api_url}/rooms").status_code for _ in range(60)}
    assert statuses == {200}
    assert {e.fault for e in emu.log.entries()} == {""}


def test_429_at_a_request_number_with_retry_after(emu, http):
    emu.add_fault(Rule("status", 429, at=[2], retry_after=5))
    assert http.get(f"{emu.api_url}/rooms").status_code == 200
    limited = http.get(f"{emu.api_url}/rooms")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "5"
    assert "too many requests" in limited.json()["message"]
    assert http.get(f"{emu.api_url}/rooms").status_code == 200
    assert [(e.number, e.status, e.fault) for e in emu.log.entries()] == [
        (1, 200, ""),
        (2, 429, "status"),
        (3, 200, ""),
    ]


def test_429_without_retry_after_and_with_an_html_body(emu, http):
    emu.add_fault(Rule("status", 429, at=[1], html_body=True))
    response = http.get(f"{emu.api_url}/rooms")
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<html>")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(emu, http, status):
    emu.add_fault(Rule("status", status, at=[1]))
    response = http.get(f"{emu.api_url}/rooms")
    assert response.status_code == status and response.json()["trackingId"]


def test_rate_faults_are_seeded_and_limited_to_a_path(dataset):
    from webex_emulator import Emulator

    faults = Faults(rules=[Rule("status", 503, rate=0.5, path="/v1/messages")], seed=3)
    with Emulator(dataset, faults) as emu, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {emu.token}"
        room = group_room(dataset)
        rooms = [http.get(f"{emu.api_url}/rooms").status_code for _ in range(20)]
        messages = [
            http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]}).status_code
            for _ in range(40)
        ]
    assert set(rooms) == {200}
    assert set(messages) == {200, 503} and 8 < messages.count(503) < 32


def test_times_caps_a_fault(emu, http):
    emu.add_fault(Rule("status", 503, rate=1.0, times=2))
    assert [http.get(f"{emu.api_url}/rooms").status_code for _ in range(4)] == [503, 503, 200, 200]


def test_dropped_connection_mid_body(emu, http, dataset):
    emu.add_fault(Rule("drop", at=[1]))
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        http.get(f"{emu.api_url}/messages", params={"roomId": group_room(dataset)["id"]})
    assert http.get(f"{emu.api_url}/rooms").status_code == 200  # the next request is fine


def test_slow_response_times_out_the_client(emu, http):
    emu.add_fault(Rule("delay", at=[1], seconds=1.5))
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{emu.api_url}/rooms", timeout=0.3)


def test_malformed_json_and_empty_page_with_link(emu, http, dataset):
    room = group_room(dataset)
    emu.add_fault(Rule("malformed", at=[1]))
    emu.add_fault(Rule("empty_page", at=[2]))
    broken = http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]})
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    empty = http.get(f"{emu.api_url}/messages", params={"roomId": room["id"], "max": 5})
    assert empty.json() == {"items": []}
    again = http.get(empty.links["next"]["url"])
    assert len(again.json()["items"]) == 5


def test_latency_applies_to_every_request(emu, http):
    emu.faults.latency_ms = 120
    started = time.monotonic()
    for _ in range(3):
        http.get(f"{emu.api_url}/rooms")
    assert time.monotonic() - started >= 0.36


def test_token_expires_after_n_requests(emu, http):
    emu.faults.expire_token_after = 3
    assert [http.get(f"{emu.api_url}/rooms").status_code for _ in range(5)] == [
        200,
        200,
        200,
        401,
        401,
    ]


def test_file_scanning_locked_infected_unscannable(emu, http, dataset):
    emu.faults.lock_files = 2
    emu.faults.lock_retry_after = 4
    content = next(iter(dataset.contents.values()))
    url = f"{emu.api_url}/contents/{content.id}"
    first, second, third = (http.get(url) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (423, 423, 200)
    assert first.headers["Retry-After"] == "4"
    assert third.content == content.body()
    content.scan = "infected"
    assert http.get(url).status_code == 410
    content.scan = "unscannable"
    assert http.get(url).status_code == 428
    assert http.get(url, params={"allow": "unscannable"}).content == content.body()


def test_fail_at_specs_parse():
    assert Rule.parse("5=429") == Rule("status", 429, at=[5], retry_after=1)
    assert Rule.parse("7=drop") == Rule("drop", at=[7])
    assert Rule.parse("2=empty") == Rule("empty_page", at=[2])
    assert Rule.parse("9=slow") == Rule("delay", at=[9], seconds=30.0)
    for bad in ("x=429", "5", "5=teapot"):
        with pytest.raises(ValueError, match=r"N=WHAT|WHAT must be"):
            Rule.parse(bad)
    with pytest.raises(ValueError, match="unknown fault kind"):
        Rule("explode")


def test_faults_over_http(emu, http):
    rules = {"rules": [{"kind": "status", "status": 502, "at": [1]}], "latency_ms": 0}
    put = requests.put(f"{emu.url}/_emulator/faults", json=rules, timeout=5)
    assert put.status_code == 200 and put.json()["rules"][0]["status"] == 502
    assert http.get(f"{emu.api_url}/rooms").status_code == 502
    log = requests.get(f"{emu.url}/_emulator/log", timeout=5).json()["items"]
    assert [(e["method"], e["path"], e["status"]) for e in log] == [("GET", "/v1/rooms", 502)]
    assert requests.delete(f"{emu.url}/_emulator/log", timeout=5).status_code == 204
    assert requests.get(f"{emu.url}/_emulator/log", timeout=5).json() == {"items": []}
    bad = requests.put(f"{emu.url}/_emulator/faults", json={"nonsense": 1}, timeout=5)
    assert bad.status_code == 400 and "nonsense" in bad.json()["message"]

"""WebexClient against the emulator over real HTTP: paging, retries, waits and errors."""

from __future__ import annotations

import pytest

from etl.api import (
    AuthError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    WebexClient,
)
from tests.conftest import expected_ids, group_room
from webex_emulator import Emulator, Faults, Quirks, Rule

FAST = RetryPolicy(tries=4, backoff=0.01, backoff_cap=0.05, default_retry_after=0.2)


@pytest.fixture
def client(emu):
    notes: list[str] = []
    with WebexClient(emu.token, emu.api_url, retry=FAST, notify=notes.append) as webex:
        webex.notes = notes
        yield webex


def message_ids(client, room_id, **params):
    return [
        m["id"] for page in client.pages("messages", {"roomId": room_id, **params}) for m in page
    ]


def test_pages_follow_links_and_reuse_one_connection(client, emu, dataset):
    room = group_room(dataset)
    assert message_ids(client, room["id"], max=7) == expected_ids(dataset, room["id"])
    assert client.stats.requests == len(emu.log.entries()) == 18
    assert client.stats.bytes > 10_000


def test_dropped_filters_are_put_back_but_never_the_cursor(client, emu, dataset):
    room = group_room(dataset)
    parent = next(
        m for m in dataset.messages.values() if m["roomId"] == room["id"] and "parentId" in m
    )["parentId"]
    replies = message_ids(client, room["id"], parentId=parent, max=1)
    expected = [
        m
        for m in expected_ids(dataset, room["id"])
        if dataset.messages[m].get("parentId") == parent
    ]
    assert replies == expected and len(expected) >= 1
    paths = [e.path for e in emu.log.entries()]
    assert all(f"parentId={parent}" in p for p in paths)
    assert all(p.count("beforeMessage=") <= 1 for p in paths)


def test_429_waits_retry_after_and_says_so(client, emu, dataset):
    emu.add_fault(Rule("status", 429, at=[2], retry_after=1))
    room = group_room(dataset)
    assert message_ids(client, room["id"], max=50) == expected_ids(dataset, room["id"])
    log = emu.log.entries()
    assert [e.status for e in log] == [200, 429, 200, 200]
    assert log[2].started - log[1].started >= 1.0
    assert client.notes == ["rate-limited by Webex (429): waiting 1 s as Retry-After asks"]


def test_429_without_retry_after_uses_the_default(client, emu):
    emu.add_fault(Rule("status", 429, at=[1], html_body=True))
    assert client.get_json("people/me")["id"]
    log = emu.log.entries()
    assert log[1].started - log[0].started >= 0.2


def test_5xx_bursts_drops_and_malformed_bodies_are_retried(client, emu, dataset):
    for number, kind, status in (
        (1, "status", 503),
        (2, "status", 502),
        (4, "drop", 0),
        (6, "malformed", 0),
    ):
        emu.add_fault(Rule(kind, status or 503, at=[number]))
    room = group_room(dataset)
    assert message_ids(client, room["id"], max=50) == expected_ids(dataset, room["id"])
    assert client.stats.retries == 4
    assert len(client.notes) == 4 and "HTTP 503" in client.notes[0]


def test_permanent_500_gives_up_with_a_clear_message(client, emu):
    emu.add_fault(Rule("status", 500, rate=1.0))
    with pytest.raises(ServerError, match=r"kept failing \(HTTP 500\) after several tries"):
        client.get_json("rooms")
    assert len(emu.log.entries()) == FAST.tries


def test_timeouts_are_retried_then_reported(emu):
    emu.add_fault(Rule("delay", seconds=0.5, rate=1.0))
    with (
        WebexClient(emu.token, emu.api_url, timeout=(1, 0.1), retry=FAST) as client,
        pytest.raises(NetworkError, match="no answer within the timeout"),
    ):
        client.get_json("rooms")


def test_unreachable_api():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        WebexClient("t", f"http://127.0.0.1:{port}/v1", retry=FAST) as client,
        pytest.raises(NetworkError, match=f"cannot reach Webex at 127.0.0.1:{port}"),
    ):
        client.get_json("rooms")


def test_typed_errors(emu, dataset):
    with (
        WebexClient("wrong", emu.api_url, retry=FAST) as client,
        pytest.raises(AuthError, match="wrong or expired"),
    ):
        client.get_json("rooms")
    with pytest.raises(AuthError, match="no Webex token"):
        WebexClient("  ", emu.api_url)
    with WebexClient(emu.token, emu.api_url, retry=FAST) as client:
        with pytest.raises(NotFoundError, match="404") as missing:
            client.get_json("rooms/nope")
        assert missing.value.tracking_id.startswith("ROUTER_")
    with (
        WebexClient(dataset.bot_token(), emu.api_url, retry=FAST) as bot,
        pytest.raises(ForbiddenError, match="Failed to get activity"),
    ):
        next(bot.pages("messages", {"roomId": group_room(dataset)["id"]}))


def test_expired_token_mid_run(client, emu, dataset):
    emu.faults.expire_token_after = 2
    pages = client.pages("messages", {"roomId": group_room(dataset)["id"], "max": 10})
    next(pages), next(pages)
    with pytest.raises(AuthError):
        next(pages)


def test_next_link_to_another_host_is_refused(dataset):
    with Emulator(dataset) as emu:
        # The client was configured with "localhost", the emulator links to 127.0.0.1.
        api_url = emu.api_url.replace("127.0.0.1", "localhost")
        with (
            WebexClient(emu.token, api_url, retry=FAST) as client,
            pytest.raises(ServerError, match="another host"),
        ):
            list(client.pages("messages", {"roomId": group_room(dataset)["id"], "max": 5}))


def test_rate_limit_pause_is_shared_by_all_threads(emu, dataset):
    import threading
    import time

    emu.faults = Faults(rules=[Rule("status", 429, at=[1], retry_after=1)])
    with WebexClient(emu.token, emu.api_url, retry=FAST) as client:
        client.get_json("people/me")  # the 429, then the retry after 1 s
        started = time.monotonic()
        emu.faults.rules.append(Rule("status", 429, at=[3], retry_after=1))
        threads = [threading.Thread(target=client.get_json, args=("rooms",)) for _ in range(3)]
        threads[0].start()
        threads[0].join()
        for thread in threads[1:]:
            thread.start()
        for thread in threads[1:]:
            thread.join()
        assert time.monotonic() - started >= 1.0
        later = [e for e in emu.log.entries() if e.number > 3]
        assert all(e.started >= emu.log.entries()[2].started + 1.0 for e in later)


def test_a_relative_next_link_is_resolved_against_the_page(dataset):
    """RFC 8288 allows ``Link: </v1/messages?...>``: it is the page's own host, not another."""
    room_id = group_room(dataset)["id"]
    with Emulator(dataset, quirks=Quirks(relative_links=True)) as emu:
        with WebexClient(emu.token, emu.api_url, retry=FAST) as client:
            pages = list(client.pages("messages", {"roomId": room_id, "max": 7}))
        links = [e.path for e in emu.log.entries()]
    ids = [m["id"] for page in pages for m in page]
    assert ids == expected_ids(dataset, room_id)
    assert len(pages) > 3 and all(p.startswith("/v1/messages?roomId=") for p in links)


def test_a_relative_next_link_to_another_host_is_still_refused(dataset):
    room_id = group_room(dataset)["id"]
    with Emulator(dataset) as emu:
        emu.add_fault(Rule("next_link", rate=1.0, location="//evil.example/v1/messages"))
        with (
            WebexClient(emu.token, emu.api_url, retry=FAST) as client,
            pytest.raises(ServerError, match=r"another host \(http://evil.example:80\)"),
        ):
            list(client.pages("messages", {"roomId": room_id, "max": 7}))


def test_a_redirect_within_the_api_keeps_the_token(emu, client, dataset):
    me = dataset.tokens[emu.token]
    emu.add_fault(Rule("redirect", status=307, rate=1.0, times=1, path="/v1/people/me",
                       location=f"/v1/people/{me}"))  # fmt: skip
    assert client.get_json("people/me")["id"] == me  # the second hop was authenticated
    assert [(e.path, e.status) for e in emu.log.entries()] == [
        ("/v1/people/me", 307),
        (f"/v1/people/{me}", 200),
    ]


def test_a_redirect_loop_ends_with_one_line(emu, client):
    emu.add_fault(Rule("redirect", rate=1.0, path="/v1/rooms", location=f"{emu.api_url}/rooms"))
    with pytest.raises(ServerError, match=r"^more than 10 redirects \(the last to 'http://"):
        client.get_json("rooms")
    assert len(emu.log.entries()) == 11

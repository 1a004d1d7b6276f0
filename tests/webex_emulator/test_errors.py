"""Every error in Webex's shape: status, JSON body with trackingId, TrackingID header."""

from __future__ import annotations

import requests

from tests.conftest import expected_ids, group_room

UNAUTHORISED = "The request requires a valid access token set in the Authorization request header."


def assert_error(response: requests.Response, status: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "errors", "trackingId"}
    assert body["errors"] == [{"description": body["message"]}]
    assert body["trackingId"].startswith("ROUTER_")
    assert response.headers["TrackingID"] == body["trackingId"]
    if message is not None:
        assert body["message"] == message


def test_missing_and_unknown_tokens_get_401(emu):
    assert_error(requests.get(f"{emu.api_url}/rooms", timeout=5), 401, UNAUTHORISED)
    bad = requests.get(f"{emu.api_url}/rooms", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert_error(bad, 401, UNAUTHORISED)
    not_bearer = requests.get(
        f"{emu.api_url}/rooms", headers={"Authorization": f"Basic {emu.token}"}, timeout=5
    )
    assert_error(not_bearer, 401)
    assert_error(requests.get(f"{emu.api_url}/contents/x", timeout=5), 401)
    assert requests.head(f"{emu.api_url}/contents/x", timeout=5).status_code == 401


def test_every_success_carries_a_tracking_id(emu, http):
    response = http.get(f"{emu.api_url}/rooms")
    assert response.status_code == 200 and response.headers["TrackingID"].startswith("ROUTER_")
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_unknown_ids_get_404(emu, http, dataset):
    assert_error(http.get(f"{emu.api_url}/rooms/Y2lzY29zcGFyazovL3VzL1JPT00veA"), 404)
    assert_error(http.get(f"{emu.api_url}/messages/nope"), 404)
    assert_error(http.get(f"{emu.api_url}/people/nope"), 404)
    assert_error(http.get(f"{emu.api_url}/contents/nope"), 404)
    assert_error(http.get(f"{emu.api_url}/nothing-here"), 404)
    assert_error(http.get(f"{emu.api_url}/messages", params={"roomId": "nope"}), 404)


def test_deleted_message_is_404_and_so_is_a_cursor_on_it(emu, http, dataset):
    room = group_room(dataset)
    ordered = expected_ids(dataset, room["id"])
    emu.delete_message(ordered[5])
    assert_error(http.get(f"{emu.api_url}/messages/{ordered[5]}"), 404)
    stale = http.get(
        f"{emu.api_url}/messages", params={"roomId": room["id"], "beforeMessage": ordered[5]}
    )
    assert_error(stale, 404)


def test_bad_parameters_get_400(emu, http, dataset):
    room = group_room(dataset)
    assert_error(http.get(f"{emu.api_url}/messages"), 400, "roomId cannot be null or empty.")
    for params in (
        {"max": "0"},
        {"max": "ten"},
        {"before": "yesterday"},
        {"mentionedPeople": "someone-else"},
    ):
        assert_error(
            http.get(f"{emu.api_url}/messages", params={"roomId": room["id"], **params}), 400
        )
    assert_error(http.get(f"{emu.api_url}/rooms", params={"sortBy": "title"}), 400)
    assert_error(http.get(f"{emu.api_url}/rooms", params={"type": "team"}), 400)
    assert_error(http.get(f"{emu.api_url}/rooms", params={"cursor": "!!!"}), 400)
    assert_error(http.get(f"{emu.api_url}/memberships"), 400)


def test_wrong_method_gets_405(emu, http):
    assert_error(http.post(f"{emu.api_url}/rooms", json={}), 405)


def test_a_room_one_is_not_in_is_404(emu, http, dataset):
    room = group_room(dataset, 1)
    me = dataset.tokens[emu.token]
    mine = next(m for m in dataset.memberships[room["id"]] if m["personId"] == me)
    emu.remove_member(mine["id"])
    assert_error(http.get(f"{emu.api_url}/rooms/{room['id']}"), 404)
    assert_error(http.get(f"{emu.api_url}/messages", params={"roomId": room["id"]}), 404)


def test_bot_needs_mentioned_people_in_group_rooms(emu, dataset):
    bot = requests.Session()
    bot.headers["Authorization"] = f"Bearer {dataset.bot_token()}"
    room = group_room(dataset)
    assert_error(
        bot.get(f"{emu.api_url}/messages", params={"roomId": room["id"]}),
        403,
        "Failed to get activity.",
    )
    bot_id = dataset.tokens[dataset.bot_token()]
    posted = emu.post_message(room["id"], text="Archive Bot please", mentioned_people=[bot_id])
    mine = bot.get(
        f"{emu.api_url}/messages",
        params={"roomId": room["id"], "mentionedPeople": "me", "max": 500},
    )
    assert [m["id"] for m in mine.json()["items"]] == [posted["id"]]
    assert "Link" not in mine.headers
    for index in range(100):
        emu.post_message(room["id"], text=f"ping {index}", mentioned_people=[bot_id])
    page = bot.get(
        f"{emu.api_url}/messages",
        params={"roomId": room["id"], "mentionedPeople": "me", "max": 500},
    )
    assert len(page.json()["items"]) == 100 and "max=100&" in page.headers["Link"]
    # The real next link drops mentionedPeople, so following it blindly fails for bots.
    assert_error(bot.get(page.links["next"]["url"]), 403)

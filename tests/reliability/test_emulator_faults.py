"""The emulator's faults this suite added, seen from a plain HTTP client (no etl code).

They must look like what Webex does, or the fault matrix proves nothing: a key-server failure
is a 200 whose item carries ``errors``; a deleted cursor is a 404 on ``beforeMessage``; a
removed space is a 404 from then on; ``page_cap`` clamps ``max`` and still links on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.reliability.helpers import group_room_id, reliability_dataset
from webex_emulator import Emulator, Rule


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(reliability_dataset(messages=30, seed=3)) as emulator:
        yield emulator


def test_fail_at_names_the_new_kinds() -> None:
    assert Rule.parse("3=errors") == Rule("item_errors", at=[3])
    assert Rule.parse("4=delete-cursor") == Rule("delete_cursor", at=[4])
    assert Rule.parse("5=remove-room") == Rule("remove_room", at=[5])


def test_an_undecrypted_item_is_a_200_with_errors(emu: Emulator, http: requests.Session) -> None:
    room = group_room_id(emu.dataset)
    emu.add_fault(Rule("item_errors", at=[1, 2, 3]))
    messages = http.get(f"{emu.api_url}/messages", params={"roomId": room, "max": 5})
    first = messages.json()["items"][0]
    assert messages.status_code == 200 and first["errors"]["text"]["code"] == "kms_failure"
    assert first["text"].startswith("eyJ") and "html" not in first and "markdown" not in first
    assert all("errors" not in m for m in messages.json()["items"][1:])
    members = http.get(f"{emu.api_url}/memberships", params={"roomId": room}).json()["items"]
    assert members[0]["errors"]["personDisplayName"]["code"] == "kms_failure"
    me = http.get(f"{emu.api_url}/people/me").json()  # not a list: untouched
    assert "errors" not in me


def test_a_cursor_deleted_between_pages_answers_404(emu: Emulator, http: requests.Session) -> None:
    room = group_room_id(emu.dataset)
    page = http.get(f"{emu.api_url}/messages", params={"roomId": room, "max": 5})
    cursor = page.links["next"]["url"]
    emu.add_fault(Rule("delete_cursor", at=[2]))
    assert http.get(cursor).status_code == 404
    assert page.json()["items"][-1]["id"] not in emu.dataset.messages


def test_a_removed_space_answers_404_from_then_on(emu: Emulator, http: requests.Session) -> None:
    room = group_room_id(emu.dataset)
    emu.add_fault(Rule("remove_room", at=[1]))
    assert http.get(f"{emu.api_url}/messages", params={"roomId": room}).status_code == 404
    assert http.get(f"{emu.api_url}/rooms/{room}").status_code == 404
    assert room not in {r["id"] for r in http.get(f"{emu.api_url}/rooms").json()["items"]}


def test_page_cap_clamps_max_and_links_on(emu: Emulator, http: requests.Session) -> None:
    room = group_room_id(emu.dataset)
    emu.faults.page_cap = 7
    page = http.get(f"{emu.api_url}/messages", params={"roomId": room, "max": 1000})
    assert len(page.json()["items"]) == 7 and "max=7" in page.links["next"]["url"]


def test_malformed_strikes_json_only_and_drop_cuts_a_head(
    emu: Emulator, http: requests.Session
) -> None:
    content = next(iter(emu.dataset.contents.values()))
    url = f"{emu.api_url}/contents/{content.id}"
    emu.add_fault(Rule("malformed", at=[1]))
    assert http.get(url).content == content.body()  # file bytes are not JSON: untouched
    emu.add_fault(Rule("drop", at=[2]))
    with pytest.raises(requests.ConnectionError):
        http.head(url)
    assert http.head(url).status_code == 200

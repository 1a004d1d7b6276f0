"""The emulator's OAuth state from outside: control endpoints (revoke, who signs in, new
integrations, lifetimes) and the data-set file with its integrations, over real HTTP."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from tests.conftest import make_dataset
from tests.webex_emulator.oauth_helpers import (
    CID,
    REDIRECT,
    SECRET,
    authorize,
    exchange,
    get_code,
    me,
    oauth_error,
    refresh,
    tokens,
)
from webex_emulator import DataSet, Emulator, Rule
from webex_emulator.cli import main
from webex_emulator.integrations import OAuthSettings


def test_control_endpoints_revoke_choose_the_person_and_add_integrations(emu):
    control = emu.url + "/_emulator"
    first = tokens(emu)
    assert requests.delete(f"{control}/integrations/{CID}/grants", timeout=10).json() == {
        "revoked": 1
    }
    assert me(emu, first["access_token"]).status_code == 401
    oauth_error(refresh(emu, first["refresh_token"]), 400, "invalid_grant")
    other = next(p for p in emu.dataset.people.values() if p["displayName"] == "Grace Hopper")
    put = requests.put(
        f"{control}/oauth", json={"signedIn": other["id"], "codeSeconds": 5}, timeout=10
    )
    assert put.json()["signedIn"] == other["id"] and put.json()["settings"]["codeSeconds"] == 5
    assert put.json()["settings"]["accessTokenSeconds"] == 1_209_600
    assert "Grace Hopper" in authorize(emu).text
    assert me(emu, tokens(emu)["access_token"]).json()["id"] == other["id"]
    assert (
        requests.put(f"{control}/oauth", json={"signedIn": "nobody"}, timeout=10).status_code == 404
    )
    assert (
        requests.put(f"{control}/oauth", json={"refreshRotation": "x"}, timeout=10).status_code
        == 400
    )
    added = {"clientId": "Cn", "clientSecret": "sn", "redirectUris": ["http://127.0.0.1:1/cb"]}
    assert requests.post(f"{control}/integrations", json=added, timeout=10).status_code == 201
    assert requests.post(f"{control}/integrations", json=added, timeout=10).status_code == 400
    bad = {**added, "clientId": "Cb", "redirectUris": ["http://x/cb#frag"]}
    assert requests.post(f"{control}/integrations", json=bad, timeout=10).status_code == 400
    listed = requests.get(f"{control}/oauth", timeout=10).json()["integrations"]
    assert [i["clientId"] for i in listed] == [CID, "Cn"]
    assert requests.delete(f"{control}/integrations/Cnone/grants", timeout=10).status_code == 404


def test_data_file_round_trip_with_cli_lifetimes(tmp_path):
    dumped = tmp_path / "dump.json"
    runner = CliRunner()
    result = runner.invoke(main, ["--messages", "5", "--dump", str(dumped)])
    assert result.exit_code == 0, result.output
    data = json.loads(dumped.read_text())
    assert data["integrations"] == [
        {
            "name": "Webex Archive (emulated)",
            "clientId": CID,
            "clientSecret": SECRET,
            "redirectUris": [REDIRECT, "http://127.0.0.1:8765/callback"],
            "scopes": [
                "spark:rooms_read",
                "spark:messages_read",
                "spark:memberships_read",
                "spark:people_read",
            ],
            "grantTypes": ["authorization_code", "refresh_token"],
        }
    ]
    assert data["oauth"] == {
        "accessTokenSeconds": 1_209_600,
        "refreshTokenSeconds": 7_776_000,
        "codeSeconds": 600,
        "refreshRotation": "rotate",
    }
    data["integrations"].append(
        {"clientId": "C2", "clientSecret": "s2", "redirectUris": [REDIRECT]}
    )
    data["oauth"]["refreshRotation"] = "renew"
    dumped.write_text(json.dumps(data))
    again = tmp_path / "again.json"
    args = ["--data", str(dumped), "--dump", str(again), "--access-token-seconds", "2"]
    args += ["--refresh-token-seconds", "3", "--code-seconds", "0.5"]
    assert runner.invoke(main, args).exit_code == 0
    loaded = DataSet.load(again)
    assert list(loaded.integrations) == [CID, "C2"]
    assert loaded.integrations["C2"].scopes == loaded.integrations[CID].scopes
    assert loaded.oauth == OAuthSettings(2, 3, 0.5, "renew")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"integrations": [{"clientId": "C", "clientSecret": "s"}]}, "at least one redirect URI"),
        (
            {
                "integrations": [
                    {"clientId": "C", "clientSecret": "s", "redirectUris": ["ftp://x/"]}
                ]
            },
            "redirect URI",
        ),
        ({"oauth": {"accessTokenSeconds": -1}}, "accessTokenSeconds"),
        ({"oauth": {"refreshRotation": "never"}}, "refreshRotation"),
    ],
)
def test_bad_oauth_data_is_a_usage_error(tmp_path, change, message):
    data = make_dataset(messages=5).to_json()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**data, **change}))
    result = CliRunner().invoke(main, ["--data", str(path), "--dump", str(tmp_path / "o.json")])
    assert result.exit_code == 2 and "Invalid value for '--data'" in result.output
    assert message in result.output and "Traceback" not in result.output


def test_an_old_data_file_has_no_integrations():
    data = make_dataset(messages=5).to_json()
    del data["integrations"], data["oauth"]
    with Emulator(DataSet.from_json(data)) as emu:
        assert authorize(emu).status_code == 400
        assert emu.dataset.oauth == OAuthSettings()


def test_a_data_set_without_a_user_cannot_sign_in():
    data = make_dataset(messages=5).to_json()
    data["tokens"] = {}
    with Emulator(DataSet.from_json(data)) as emu:
        page = authorize(emu)
        assert page.status_code == 400 and "Nobody can sign in" in page.text


def test_faults_and_the_log_cover_the_token_endpoint(emu):
    emu.add_fault(Rule("status", 503, rate=1.0, path="/v1/access_token", times=1))
    code = get_code(emu)
    assert exchange(emu, code).status_code == 503  # before the code is looked at
    assert exchange(emu, code).status_code == 200  # so it still works once
    logged = [(e.method, e.path.split("?")[0], e.status) for e in emu.log.entries()]
    assert logged == [
        ("GET", "/v1/authorize", 200),
        ("POST", "/v1/authorize", 302),
        ("POST", "/v1/access_token", 503),
        ("POST", "/v1/access_token", 200),
    ]

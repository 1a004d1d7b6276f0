"""``sync --org`` / ``--custodian`` / ``--custodians`` and ``spaces`` as a compliance officer
runs them, and as anyone else is told they cannot."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.conftest import group_room
from tests.test_cli import assert_one_line_error, run


@pytest.fixture
def env(emu, tmp_path):
    return {
        "WEBEX_API_URL": emu.api_url,
        "WEBEX_ARCHIVE_TOKEN": emu.token,
        "WEBEX_ARCHIVE_DIR": str(tmp_path / "archive"),
    }


def test_a_non_officer_asking_for_org_gets_one_line(env, emu, tmp_path):
    for args in (["--org"], ["--custodian", "ada@example.com"]):
        result = run("sync", *args, env=env)
        assert_one_line_error(
            result, "need a compliance officer's token", "Compliance Officer role in Control Hub",
            "spark-compliance:events_read",
        )  # fmt: skip
    assert not (tmp_path / "archive" / "archive.db").exists()  # refused before the archive


def test_usage_errors(env, tmp_path):
    result = run("sync", "--org", "--all", env=env)
    assert_one_line_error(result, "--org and --custodian choose the spaces", code=2)
    result = run("sync", "--custodian", "not-an-email", env=env)
    assert_one_line_error(result, "'not-an-email' is not an email address", code=2)
    empty = tmp_path / "nobody.txt"
    empty.write_text("# nobody yet\n")
    result = run("sync", "--custodians", str(empty), env=env)
    assert_one_line_error(result, "names no custodian", "--custodians", code=2)


def test_officer_collects_a_custodian_then_the_org(env, emu, dataset, tmp_path):
    officer = {**env, "WEBEX_ARCHIVE_TOKEN": emu.officer_token()}
    listed = run("spaces", env=officer)
    assert listed.returncode == 0 and "this token is a compliance officer's" in listed.stdout
    assert "compliance officer" not in run("spaces", env=env).stdout
    status = run("auth", "status", env=officer)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == (
        "  role: compliance officer: the organisation's events feed and every space it owns "
        "(sync --org, --custodian; see docs/compliance.md)"
    )
    assert json.loads(run("whoami", "--json", env=officer).stdout)["compliance_officer"] is True
    assert json.loads(run("whoami", "--json", env=env).stdout)["compliance_officer"] is False
    owner = dataset.people[dataset.tokens[emu.token]]
    custodians = tmp_path / "custodians.txt"
    custodians.write_text(f"{owner['emails'][0]}  # the whole legal hold\n")
    result = run("sync", "--custodians", str(custodians), "--download", "no", env=officer)
    assert result.returncode == 0, result.stderr
    assert "synced 4 spaces" in result.stderr
    room = group_room(dataset)
    posted = emu.post_message(room["id"], text="posted, then deleted")
    emu.delete_message(posted["id"])
    result = run("sync", "--org", "--download", "no", env=officer)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("synced 1 space: 1 new, 0 edited, 1 deleted, ")
    status = json.loads(run("status", "--json", env=env).stdout)
    assert sum(s["deleted"] for s in status) == 1
    # the recovered message shows as deleted, with its content and the time it was deleted
    rendered = run("render", room["id"], "--format", "html,json", "--tz", "UTC", env=env)
    assert rendered.returncode == 0, rendered.stderr
    folder = tmp_path / "archive" / "Project Atlas"
    page = (folder / "Project Atlas.html").read_text()
    when = dataset.deleted[posted["id"]][1]
    moment = datetime.strptime(when[:16], "%Y-%m-%dT%H:%M")
    shown = f"{moment:%a} {moment.day} {moment:%b %Y %H:%M}"  # as the page shows a time
    article = page[page.index("posted, then deleted") :][:600]
    assert f"deleted in Webex {shown}" in article and "noticed" not in article
    document = json.loads((folder / "Project Atlas.json").read_text())
    items = [m for t in document["messages"] for m in [t, *t["replies"]]]
    [recovered] = [m for m in items if m["text"] == "posted, then deleted"]
    assert recovered["deleted"].startswith(when[:19])

"""``render --avatars link`` puts only plain https avatar URLs into ``<img src>`` (issue 13).

An avatar URL is data from Webex (or from whoever wrote the archive's people table): a
``javascript:``, ``data:``, ``http:`` or protocol-relative URL in ``src`` would load from (or
run) anything. Those people get the initials avatar instead.
"""

from __future__ import annotations

import re
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from render import RenderOptions, render_spaces
from tests.render.conftest import SPACE_ID
from webex_archive.render_command import render as command

KEPT = "https://avatar-prod.webexcontent.com/Avatar~80?x=1&y=2"
HOSTILE = {
    "p-bob": "javascript:window.__pwned=1",
    "p-carol": "data:image/svg+xml,<svg onload=alert(1)>",
    "p-eve": "//evil.example/avatar.png",
}
MORE_HOSTILE = ["http://avatar.example/a.png", "HTTPS://evil\\@avatar.example/", " https://a.example/",
                "https://user@avatar.example/", "https://a.example/a b", "https://a.example%2f/",
                "https://[::1]/a", "jAvAsCrIpT:alert(1)", "https:\\\\evil.example/"]  # fmt: skip


def page_avatars(archive, people: dict[str, str]) -> list[str]:
    conn = sqlite3.connect(archive / "archive.db")
    with conn:
        conn.executemany(
            "UPDATE people SET avatar = ? WHERE id = ?", [(v, k) for k, v in people.items()]
        )
    conn.close()
    options = RenderOptions(zone=ZoneInfo("Europe/Amsterdam"), zone_name="Europe/Amsterdam",
                            avatars="link")  # fmt: skip
    [page] = [p for p in render_spaces(archive, [SPACE_ID], False, options) if p.suffix == ".html"]
    return re.findall(r'<img class="avatar" src="([^"]*)"', page.read_text())


def test_only_https_avatar_urls_reach_img_src(small_archive):
    sources = page_avatars(small_archive, {"p-alice": KEPT, **HOSTILE})
    assert set(sources) == {KEPT.replace("&", "&amp;")}  # Alice's, on each of her articles


@pytest.mark.parametrize("url", MORE_HOSTILE)
def test_other_unclear_urls_give_the_initials(small_archive, url):
    assert page_avatars(small_archive, dict.fromkeys(["p-alice", "p-bob", "p-carol"], url)) == []


def test_auto_is_the_default_the_downloaded_avatar_else_initials(small_archive):
    """``--avatars auto`` (issue 18): whoever synced with ``--avatars download`` sees those
    avatars without knowing ``--avatars local``; people without a stored one get initials."""
    with sqlite3.connect(small_archive / "archive.db") as conn:
        conn.execute(
            "INSERT INTO avatars (space_id, person_id, url, local_path, fetched_at) "
            "VALUES (?, 'p-alice', ?, 'Project Falcon/avatars/alice example.png', '2024-04-05')",
            [SPACE_ID, KEPT],
        )
        conn.execute("UPDATE people SET avatar = ?", [KEPT])
    assert RenderOptions().avatars == "auto"
    [avatars] = [p for p in command.params if p.name == "avatars"]
    assert avatars.default == "auto"
    pages = {}
    for mode in ("auto", "local", "initials"):
        options = RenderOptions(zone=ZoneInfo("UTC"), zone_name="UTC", avatars=mode)
        [page] = render_spaces(small_archive, [SPACE_ID], False, options)
        text = page.read_text(encoding="utf-8")
        pages[mode] = (
            sorted(set(re.findall(r'<img class="avatar" src="([^"]*)"', text))),
            len(re.findall(r'<span class="avatar hue-', text)),
        )
    # Alice's five headers show her file, everyone else's nine their initials; no URL is used.
    assert pages["auto"] == pages["local"] == (["avatars/alice%20example.png"], 9)
    assert pages["initials"] == ([], 14)

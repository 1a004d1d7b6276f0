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

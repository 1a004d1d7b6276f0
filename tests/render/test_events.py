"""``render --events``: members joining and leaving in the timeline, in HTML, TXT and JSON,
between whole threads at their time; without it, nothing changes (the golden file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from render import query
from render.html import write_html
from render.page import RenderOptions, build_page
from render.query import Filters
from tests.render.conftest import SPACE_ID, insert
from tests.render.test_text_json import AMSTERDAM, document, render

JOINED = "2024-03-11T09:00:00.000Z"  # between msg-04 (a reply, 03-10) and msg-05 (03-12)
LEFT = "2024-03-19T09:00:00.000Z"  # between msg-07 (03-18) and msg-08 (03-20)


def with_changes(archive: Path) -> Path:
    conn = sqlite3.connect(archive / "archive.db")
    with conn:
        insert(conn, "memberships", [{
            "id": "mem-frank", "space_id": SPACE_ID, "person_id": "p-frank",
            "person_email": "frank@partner.org", "person_display_name": "Frank Visitor",
            "person_org_id": "org-b", "created": JOINED, "raw": "{}",
            "first_seen_at": JOINED, "last_seen_at": JOINED, "left_at": LEFT,
        }])  # fmt: skip
    conn.close()
    return archive


def test_txt_shows_joins_and_leaves_between_threads(small_archive):
    archive = with_changes(small_archive)
    lines = render(archive, "txt", events=True).read_text().splitlines()
    joined = lines.index("Mon 2024-03-11 10:00  -- Frank Visitor joined the space")
    left = lines.index("Tue 2024-03-19 10:00  -- Frank Visitor left the space")
    draft = next(i for i, line in enumerate(lines) if "Draft is ready" in line)
    budget = next(i for i, line in enumerate(lines) if "Budget approved" in line)
    slides = next(i for i, line in enumerate(lines) if "Slides and a photo" in line)
    poll = next(i for i, line in enumerate(lines) if "Poll: lunch" in line)
    # msg-01's thread (its reply of 03-10) stays whole; the join comes after it
    assert budget < joined < draft < poll < left < slides
    # Dave left on 04-05 (outside nothing: --since 2024-03-01 has no end)
    assert "Dave Departed left the space" in "\n".join(lines)
    plain = render(archive, "txt").read_text()
    assert "joined the space" not in plain and "left the space" not in plain


def test_newest_first_and_bounds(small_archive):
    archive = with_changes(small_archive)
    text = render(archive, "txt", Filters(since="2024-03-12", sort="newest"), events=True)
    lines = text.read_text().splitlines()
    left = lines.index("Tue 2024-03-19 10:00  -- Frank Visitor left the space")
    slides = next(i for i, line in enumerate(lines) if "Slides and a photo" in line)
    poll = next(i for i, line in enumerate(lines) if "Poll: lunch" in line)
    assert slides < left < poll
    assert "Frank Visitor joined" not in "\n".join(lines)  # 03-11: before the window


def test_html_marks_each_change_and_shows_the_next_author_again(small_archive):
    archive = with_changes(small_archive)
    page = render_html(archive, events=True)
    article = page[page.index('id="ev-left-mem-frank"') :]
    article = article[: article.index("</article>")]
    assert 'datetime="2024-03-19T10:00:00.000+01:00">Tue 19 Mar 2024 10:00</time>' in article
    assert article.endswith("Frank Visitor left the space")
    after = page[page.index('id="msg-msg-08"') :][:400]
    assert "Alice Example" in after  # the message after a change has its author header
    assert "ev-" not in render_html(archive)


def test_json_lists_the_changes_and_blur_hides_names(small_archive):
    archive = with_changes(small_archive)
    doc = document(archive, events=True)
    frank = [c for c in doc["membership_changes"] if c["person"]["name"] == "Frank Visitor"]
    assert [(c["type"], c["created"]) for c in frank] == [("joined", JOINED), ("left", LEFT)]
    assert frank[0]["person"] == {"id": "p-frank", "name": "Frank Visitor",
                                  "email": "frank@partner.org", "external": True}  # fmt: skip
    assert frank[1]["local_time"] == "2024-03-19T10:00:00+01:00"
    assert "membership_changes" not in document(archive)
    blurred = document(archive, events=True, blur=True)
    names = {c["person"]["name"] for c in blurred["membership_changes"]}
    assert "Frank Visitor" not in names and all(n.startswith("Person ") for n in names)
    assert all(c["person"]["id"] is None for c in blurred["membership_changes"])


def render_html(archive: Path, **options) -> str:
    """The HTML page, made as test_text_json.render makes the other formats."""
    conn = query.connect(archive)
    try:
        space = query.find_spaces(conn, [SPACE_ID], False)[0]
        settings = RenderOptions(filters=Filters(since="2024-03-01"), zone=AMSTERDAM, **options)
        page = build_page(conn, archive, space, settings, "html", query.meta(conn))
        write_html(page)
        return page.path.read_text()
    finally:
        conn.close()


def test_an_events_page_is_valid_html5(small_archive):
    from tests.security.test_vnu import vnu

    archive = with_changes(small_archive)
    render_html(archive, events=True)
    page = archive / "Project Falcon" / "Project Falcon.html"
    assert vnu([page]) == []

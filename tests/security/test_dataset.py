"""The hostile data set covers every input issue 6 lists, and reaches the archive over HTTP.

A suite that passes on a catalogue missing half the attacks proves little, so the catalogue is
checked category by category: scripts, event handlers, javascript:/data: URLs in links and in
images, CSS, unbalanced and deep markup, a 1 MB message, bidi overrides, zero-width and
combining characters, emoji, NUL and every control, ``</script>`` in text, entities, markdown
link tricks; hostile titles, display names and emails; file names with traversal, absolute
paths, reserved names, huge lengths and normalisation twins. The generator's own data set
(what every other test syncs) must carry the light part of it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pytest

from tests.conftest import make_dataset
from tests.security.conftest import Hostile
from webex_emulator import hostile, hostile_spaces

BODIES = [text + "\n" + (html or "") for text, html in hostile.MESSAGES + hostile.HEAVY_MESSAGES]
NAMES = [name for name, _ in hostile.PEOPLE] + [hostile.DISPLAY_NAME]
EMAILS = [email for _, email in hostile.PEOPLE]
TITLES = [*hostile.SPACE_TITLES, hostile.TITLE]
FILES = hostile.FILE_NAMES + hostile.MORE_FILE_NAMES + hostile.IMAGE_NAMES


def any_body(pattern: str) -> bool:
    return any(re.search(pattern, body, re.I | re.S) for body in BODIES)


def nfc_twins(names: list[str]) -> bool:
    """Two different names that are one name after NFC normalisation."""
    seen: dict[str, str] = {}
    for name in names:
        first = seen.setdefault(unicodedata.normalize("NFC", name), name)
        if first != name:
            return True
    return False


CATEGORIES: dict[str, Callable[[], bool]] = {
    "<script> in text": lambda: any("<script>" in t for t, _ in hostile.MESSAGES),
    "<script> in html": lambda: any("<script" in (h or "").lower() for _, h in hostile.MESSAGES),
    "event handler attributes": lambda: any_body(r"<\w+[^>]*\son(error|load|click|toggle)="),
    "javascript: link": lambda: any_body(r"<a[^>]+href=\"\s*javascript:"),
    "javascript: image": lambda: any_body(r"<img[^>]+src=\"javascript:"),
    "data: link": lambda: any_body(r"<a[^>]+href=\"data:"),
    "data: image": lambda: any_body(r"<img[^>]+src=\"data:"),
    "remote image": lambda: any_body(r"<img[^>]+src=\"https://"),
    "CSS injection": lambda: any_body(r"<style>") and any_body(r"style=\"[^\"]*url\("),
    "unbalanced tags": lambda: any_body("<div><div><b><i>unbalanced") and any_body("</b></i>"),
    "deeply nested tags": lambda: any(body.count("<blockquote>") >= 2_000 for body in BODIES),
    "nesting beyond the sanitiser's limit": lambda: any(b.count("<div>") > 10_000 for b in BODIES),
    "a 1 MB message": lambda: any(len(t) == hostile.MEGABYTE for t, _ in hostile.HEAVY_MESSAGES),
    "RTL override": lambda: any_body("\u202e") and any_body("\u2067"),
    "zero-width characters": lambda: any_body("\u200b") and any_body("\u2060"),
    "combining characters": lambda: any_body("\u0301{500}"),
    "emoji": lambda: any_body("\U0001f468\u200d\U0001f469") and any_body("\U0001f1f3\U0001f1f1"),
    "NUL": lambda: any_body("\x00"),
    "every C0 and C1 control": lambda: any(set(hostile.C0_C1) <= set(b) for b in BODIES),
    "terminal escapes": lambda: any_body("\x1b\\]0;") and any_body("\x1b\\[2J"),
    "</script> inside text": lambda: any(t.startswith("</script>") for t, _ in hostile.MESSAGES),
    "HTML entities": lambda: any_body("&lt;") and any_body("&#x3C;") and any_body("&NotAnEntity;"),
    "markdown link tricks": lambda: any_body(r"\]\(javascript:") and any_body(r"!\[pixel\]"),
    "template syntax": lambda: any_body(r"\{\{ 7\*7 \}\}"),
    "title with markup": lambda: any("<script>" in t for t in TITLES),
    "title with controls": lambda: any("\x00" in t and "\x1b" in t for t in TITLES),
    "title twins": lambda: nfc_twins(TITLES),
    "title that cleans to nothing": lambda: ".." in TITLES and "\u202e\u200b" in TITLES,
    "display name with markup": lambda: any("<script>" in n for n in NAMES),
    "display name with controls": lambda: any("\x00" in n and "\x1b" in n for n in NAMES),
    "display name with bidi": lambda: any("\u202e" in n for n in NAMES),
    "email with markup": lambda: any("<script>" in e for e in EMAILS),
    "email with controls": lambda: any("\x00" in e for e in EMAILS),
    "homoglyph email domain": lambda: any("\u0430" in e for e in EMAILS),
    "path traversal": lambda: all(any(p in f for f in FILES) for p in ("../", "..\\", "..%2F")),
    "absolute paths": lambda: any(f.startswith("/") for f in FILES) and "C:\\Windows\\win.ini"
    in FILES,
    "reserved names": lambda: {"CON.txt", "aux", "NUL", "com1.txt", "LPT9.tar.gz"} <= set(FILES),
    "huge names": lambda: max(map(len, FILES)) >= 10_000 and max(len(f.encode()) for f in FILES
                                                                 if f.startswith("文")) > 800,
    "normalisation twins": lambda: nfc_twins(FILES),
    "same name twice": lambda: len(FILES) > len(set(FILES)),
    "empty and dot names": lambda: {"", " ", "..", "..."} <= set(FILES),
    "names that need percent-encoding": lambda: {"100% #1?.txt", "a%20b.txt"} <= set(FILES),
    "files whose bytes lie": lambda: any(b"<script>" in data for _, _, data in hostile.LYING_FILES),
}  # fmt: skip


@pytest.mark.parametrize("category", CATEGORIES)
def test_the_catalogue_covers(category: str) -> None:
    assert CATEGORIES[category]()


def test_the_generator_plants_every_light_message_and_name() -> None:
    """Every test that syncs a generated data set meets hostile.MESSAGES and FILE_NAMES."""
    dataset = make_dataset()
    bodies = {(m.get("text"), m.get("html")) for m in dataset.messages.values()}
    assert set(hostile.MESSAGES) <= bodies
    names = {content.filename for content in dataset.contents.values()}
    assert set(hostile.FILE_NAMES) <= names
    assert any(r["title"] == hostile.TITLE for r in dataset.rooms.values())
    assert any(p["displayName"] == hostile.DISPLAY_NAME for p in dataset.people.values())


def test_add_spaces_is_deterministic_and_leaves_the_generated_data_alone() -> None:
    from datetime import datetime, timezone

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    plain = make_dataset().to_json()
    first, second = make_dataset(), make_dataset()
    hostile_spaces.add_spaces(first, start)
    hostile_spaces.add_spaces(second, start)
    assert first.to_json() == second.to_json()
    added = first.to_json()
    for key in ("rooms", "people", "messages"):
        ids = {item["id"] for item in added[key]}
        assert {item["id"] for item in plain[key]} < ids  # the originals, plus the new ones
    assert len(added["rooms"]) == len(plain["rooms"]) + 1 + len(hostile.SPACE_TITLES)


def test_every_hostile_space_reached_the_archive(hostile_archive: Hostile) -> None:
    with hostile_archive.db() as conn:
        titles = {row[0] for row in conn.execute("SELECT title FROM spaces")}
        names = {row[0] for row in conn.execute("SELECT display_name FROM people")}
        emails = {row[0] for row in conn.execute("SELECT email FROM people")}
    assert set(TITLES) <= titles
    assert set(NAMES) <= names
    assert set(EMAILS) <= emails

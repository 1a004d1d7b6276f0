"""TXT and JSON keep hostile content exactly, and interpret none of it.

JSON is the machine-readable copy: a message's text must come back from ``json.loads`` exactly
as Webex sent it and the archive stored it (NUL, every C0 and C1 control, bidi overrides,
combining marks, the 1 MB message), while the file itself carries no raw control character
(they are written as ``\\uXXXX``), so no terminal, editor or JavaScript parser trips over it.

TXT is for people and ``grep``: markup-looking text stays literal text (a ``<script>`` message
reads as ``<script>``, ``&lt;`` stays ``&lt;``), and nothing a terminal would act on (ESC
sequences, other controls, bidi overrides) reaches the file.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest

from render.search_index import index_path
from tests.security.conftest import Hostile
from webex_emulator import hostile

# Everything but \n that a terminal or a JavaScript string literal treats specially.
RAW_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def space_ids(hostile_archive: Hostile) -> list[str]:
    with hostile_archive.db() as conn:
        return [row[0] for row in conn.execute("SELECT id FROM spaces ORDER BY id")]


def stored(hostile_archive: Hostile, space_id: str) -> dict[str, str | None]:
    """Message id → text as the archive holds it."""
    with hostile_archive.db() as conn:
        rows = conn.execute("SELECT id, text FROM messages WHERE space_id = ?", [space_id])
        return dict(rows.fetchall())


def refuse(name: str) -> None:
    """NaN and Infinity are not JSON: a strict reader must never meet them."""
    raise ValueError(f"{name} is not JSON")


def flattened(document: dict) -> dict[str, dict]:
    """Every message object of a JSON document (thread starts and replies) by id."""
    found = {}
    for thread in document["messages"]:
        for message in [thread, *thread["replies"]]:
            found[message["id"]] = message
    return found


def test_the_archive_stores_every_text_exactly_as_sent(hostile_archive: Hostile) -> None:
    sent = {m["id"]: m.get("text") for m in hostile_archive.dataset.messages.values()}
    with hostile_archive.db() as conn:
        kept = dict(conn.execute("SELECT id, text FROM messages").fetchall())
    assert kept == sent
    assert len(kept[next(i for i, t in sent.items() if t and len(t) == hostile.MEGABYTE)]) == (
        hostile.MEGABYTE
    )


@pytest.mark.parametrize("variant", ["page", "blur"])
def test_json_files_are_strict_json_without_raw_controls(
    hostile_archive: Hostile, variant: str
) -> None:
    documents = [p for p in hostile_archive.rendered[variant] if p.suffix == ".json"]
    assert len(documents) == len(space_ids(hostile_archive))
    for path in documents:
        data = path.read_bytes()
        text = data.decode("utf-8")  # strict: no lone surrogate or other invalid UTF-8
        assert RAW_CONTROLS.findall(text) == [], path.name
        json.loads(text, parse_constant=refuse)


def test_json_gives_back_every_text_byte_for_byte(hostile_archive: Hostile) -> None:
    checked = 0
    for space_id in space_ids(hostile_archive):
        path = hostile_archive.page("page", space_id, ".json")
        messages = flattened(json.loads(path.read_text(encoding="utf-8")))
        texts = stored(hostile_archive, space_id)
        assert set(messages) == set(texts)
        for message_id, text in texts.items():
            if text is not None:  # html-only messages get the html's text instead
                assert messages[message_id]["text"].encode() == text.encode(), message_id
                checked += 1
    catalogue = hostile_archive.catalogue["id"]
    texts = set(stored(hostile_archive, catalogue).values())
    assert {text for text, _ in hostile.MESSAGES + hostile.HEAVY_MESSAGES} <= texts
    assert checked > 400


def test_json_escapes_what_it_must_and_only_that(hostile_archive: Hostile) -> None:
    """The control-character message is written with escapes that round-trip."""
    path = hostile_archive.page("page", hostile_archive.catalogue["id"], ".json")
    raw = path.read_text(encoding="utf-8")
    assert "\\u0000" in raw and "\\u001b" in raw and "\\u202e" in raw and "\\u2028" in raw
    assert "\\u0085" in raw and "\\u009f" in raw and "\\u007f" in raw
    assert "<script>window.__pwned=1</script>" in raw  # JSON text, not markup: kept as is


def test_txt_interprets_nothing_and_keeps_markup_as_text(hostile_archive: Hostile) -> None:
    path = hostile_archive.page("page", hostile_archive.catalogue["id"], ".txt")
    data = path.read_bytes()
    assert b"\x1b" not in data and b"\r" not in data and b"\x00" not in data
    text = data.decode("utf-8")
    assert RAW_CONTROLS.findall(text) == []
    for literal in (
        "<script>window.__pwned=1</script>",
        "</script><script>window.__pwned=1</script>",
        "&lt;not a tag&gt; &amp;amp; &#x3C;script&#x3E;",
        "{{ 7*7 }} {% if true %}jinja{% endif %} ${7*7}",
        "[trust me](javascript:window.__pwned=1)",
        "</SCRIPT ><script >window.__pwned=1</script >",
        "&NotAnEntity; &amp &lt &#x26;lt; &#60;script&#62;",
        "e\u0301\u0301\u0301 combining marks",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    ):
        assert literal in text, literal


def test_txt_keeps_the_megabyte_message_line_for_line(hostile_archive: Hostile) -> None:
    """Every full line of the 1 MB message is in the transcript, minus only what a terminal
    would act on (NUL, the ESC sequence, the bidi override and its end; CR LF becomes LF,
    a tab four spaces)."""
    path = hostile_archive.page("page", hostile_archive.catalogue["id"], ".txt")
    text = path.read_text(encoding="utf-8")
    big = hostile.HEAVY_MESSAGES[0][0]
    first = big.split("\r\n", 1)[0]
    cleaned = (
        first.replace("\x00", "").replace("\x1b[31m", "").replace("\u202e", "")
        .replace("\u202c", "").replace("\t", "    ")
    )  # fmt: skip
    assert cleaned.startswith("1 MB <script>window.__pwned=1</script> &amp; evil e\u0301")
    assert text.count(cleaned) == big.count(first + "\r\n")


def search_text(page: Path) -> str:
    """A page's search file (render/search_index.py) as the browser reads it: its title and
    its text, inflated."""
    script = index_path(page).read_text(encoding="ascii")
    data = json.loads(script[script.index(".push(") + len(".push(") : script.rindex(")")])
    return data["title"] + "\n" + gzip.decompress(base64.b64decode(data["text"])).decode()


@pytest.mark.parametrize("suffix", [".html", ".json", ".txt", ".search.js"])
def test_blur_leaves_no_hostile_name_or_email(hostile_archive: Hostile, suffix: str) -> None:
    """--blur replaces names and emails everywhere, however odd they are: in the pages, the
    exports and the pages' search files."""
    leaks = []
    for path in hostile_archive.rendered["blur"]:
        if suffix == ".search.js" and path.suffix == ".html":
            text = search_text(path)
        elif path.suffix != suffix:
            continue
        else:
            text = path.read_text(encoding="utf-8")
        for name, email in hostile.PEOPLE:
            for value in (email, RAW_CONTROLS.sub("", email)):
                if value in text or json.dumps(value)[1:-1] in text:
                    leaks.append((path.name, value))
            visible = RAW_CONTROLS.sub("", name).strip()
            if len(visible) > 3 and visible in text and "<" not in visible and "&" not in visible:
                leaks.append((path.name, visible))
    assert leaks == []

"""The search file beside each HTML page (render/search_index.py): what it holds, exactly.

Decoded as the browser does (base64, then gzip), it must hold one line per article in page
order (a --split part's file its own; the index's lists the parts' files), nothing a page
does not show (no names under --blur), and nothing that could end a string or a script.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import re
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote
from zoneinfo import ZoneInfo

from render import RenderOptions, render_spaces
from render.search_index import BLOCK, SearchIndex, index_path
from tests.render.conftest import PEOPLE, SPACE_ID

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PREFIX = "(window.webexArchiveSearch = window.webexArchiveSearch || []).push("

# The articles of the page, in its order (threads together, replies under their start).
LINES = [
    "Kick-off notes: - scope - budget",  # msg-01; the text's new lines are spaces
    "Budget approved.",  # msg-04, its reply
    "Thanks for having us.",
    "Hi Alice Example and Bob Builder, see the plan.",  # html only: its text
    "Draft is ready (v2).",
    "Wrong space, sorry.",
    "Poll: lunch on Friday?",
    "Slides and a photo attached. slides.pdf photo.png",  # attachments' names too
    "Before the clock change.",
    "Noted.",
    "Two lines.",
    "After the clock change.",
    "",  # the placeholder for msg-00, a parent the archive never had
    "Replying to a lost message.",
    # ESC, NUL, BEL and the bidi override gone, as on the page
    "[2J[31mred alert </script><script>alert(1)</script> line two evil31m",
]


def render(archive: Path, **options) -> list[Path]:
    options = RenderOptions(zone=AMSTERDAM, zone_name="Europe/Amsterdam", **options)
    return render_spaces(archive, [SPACE_ID], False, options)


def read(page: Path) -> tuple[dict, list[str]]:
    """The search file of ``page``: its data, and its text's lines."""
    script = page.with_name(page.stem + ".search.js").read_text(encoding="ascii")
    assert script.startswith(PREFIX) and script.endswith(");\n")
    data = json.loads(script[len(PREFIX) : -3])
    text = gzip.decompress(base64.b64decode(data.pop("text"))).decode("utf-8")
    if not data["parts"]:  # a --split index page's: no articles
        assert text == ""
        return data, []
    assert text.endswith("\n")
    return data, text[:-1].split("\n")


def test_the_whole_page_has_one_line_per_article(small_archive: Path):
    [page] = render(small_archive)
    data, lines = read(page)
    assert data == {"v": 2, "title": "Project Falcon", "parts": ["Project Falcon.html"],
                    "counts": [15], "sources": [], "split": False}  # fmt: skip
    assert lines == LINES
    html = page.read_text(encoding="utf-8")
    assert html.count("<article") == 15
    assert '<div class="find" role="search" hidden data-index="Project%20Falcon.search.js">' \
        in html  # fmt: skip


def test_each_split_part_has_its_file_and_the_index_lists_them(small_archive: Path):
    """A part's file holds its own articles and names no other part (a part kept by an
    incremental rendering stays right when months come and go); the index's file holds none
    and lists the parts' files in page order; every page's box loads the index's file."""
    index, *parts = render(small_archive, split="month")
    names = ["Project Falcon-2024-02", "Project Falcon-2024-03", "Project Falcon-2024-04"]
    assert [p.stem for p in parts] == names
    data, lines = read(index)
    sources = [quote(name) + ".search.js" for name in names]
    assert data == {"v": 2, "title": "Project Falcon", "parts": [], "counts": [],
                    "sources": sources, "split": False}  # fmt: skip
    assert lines == []
    found = []
    for page, count in zip(parts, [3, 9, 3], strict=True):
        data, lines = read(page)
        assert data == {"v": 2, "title": "Project Falcon", "parts": [page.name],
                        "counts": [count], "sources": [], "split": True}  # fmt: skip
        assert len(lines) == count
        found += lines
    assert found == LINES
    for page in [index, *parts]:
        html = page.read_text(encoding="utf-8")
        assert 'data-index="Project%20Falcon.search.js">' in html


def test_the_file_is_inert_and_the_same_each_time(small_archive: Path):
    """ASCII only, no ``<`` at all (so no ``</script>``), and byte for byte the same from one
    rendering to the next (gzip without a time in it)."""
    [page] = render(small_archive)
    path = page.with_name("Project Falcon.search.js")
    first = path.read_bytes()
    assert first.isascii() and b"<" not in first
    render(small_archive)
    assert path.read_bytes() == first


def test_blur_leaves_no_name_in_the_file(small_archive: Path):
    [page] = render(small_archive, blur=True)
    assert page.parent.name == "blurred"
    script = page.with_name(page.stem + ".search.js").read_text(encoding="ascii")
    data, lines = read(page)
    assert lines[3] == "Hi Person 1 and Person 2, see the plan."
    words = script + json.dumps(data) + "\n".join(lines)
    for _, name, email, _ in PEOPLE:
        for value in (name, email, *name.split()):
            if len(value) > 3 and re.fullmatch(r"[\w.@ -]+", value):
                assert value not in words, value


def test_an_output_file_gets_its_search_file_beside_it(small_archive: Path, tmp_path: Path):
    [page] = render(small_archive, output=tmp_path / "out" / "report.html")
    assert page == tmp_path / "out" / "report.html"
    data, lines = read(page)
    assert data["parts"] == ["report.html"] and lines == LINES


def test_a_text_of_many_blocks_is_written_whole(tmp_path):
    """The compressed text goes through a temporary file and is base64-encoded block by block
    (flat memory at a million messages): across blocks it must decode to every line, the
    JSON around it unchanged, its keys in order with the text last."""
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789 "
    # whole batches: none is packed inside write, which alone is measured
    lines = ["".join(rng.choices(letters, k=400)).strip() for _ in range(8000)]
    index = SearchIndex('Tit"le', "page.search.js")
    index.part("page.html")
    for line in lines:
        index.add(SimpleNamespace(plain=line, files=[]))
    page = tmp_path / "page.html"
    tracemalloc.start()
    try:
        index.write(index_path(page), tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    script = index_path(page).read_text(encoding="ascii")
    data = json.loads(script[len(PREFIX) : -3])
    assert list(data) == ["v", "title", "parts", "counts", "sources", "split", "text"]
    packed = len(base64.b64decode(data["text"]))
    assert packed > 10 * BLOCK  # many blocks
    assert peak < packed / 2, (peak, packed)  # a block at a time (whole: about 4 times packed)
    words = [" ".join(line.split()) for line in lines]
    assert read(page)[1] == words
    assert data["title"] == 'Tit"le' and data["counts"] == [8000]

"""``--blur`` names nobody: not in any output file's bytes, not in any output path.

The class: a person's name or email reaching a blurred rendering by any route — the text,
the title, the file names a render chooses (a direct space's folder is the other person's
name), the links between --split parts, JSON metadata (folder, local paths), links to
downloaded files. So every format and every split is rendered from a synced archive with
downloads, and every file written is searched for every name and email in the data set, in
every form a writer could give it (as is, cleaned, HTML-escaped, percent-encoded,
JSON-escaped).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import RenderOptions, render_spaces
from render.model import Pseudonyms
from render.page import blurred_stem, blurred_title
from render.sanitize import clean_inline, strip_unsafe
from tests.render.test_html import parse

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@pytest.fixture
def downloaded(emu, dataset, tmp_path) -> Path:
    """The data set (three group spaces and the direct space "Grace Hopper"), files too,
    among them files named after people, in the direct space and in a group space."""
    for room in dataset.rooms.values():
        emu.post_message(room["id"], text="The files, Ada Lovelace", files=[
            {"filename": "Ada Lovelace notes.txt", "contentType": "text/plain", "data": b"x"},
            {"filename": "photo.png", "contentType": "image/png", "data": PNG},
        ])  # fmt: skip
    archive = tmp_path / "archive"
    db = store.open_archive(archive)
    with WebexClient(emu.token, emu.api_url) as client:
        options = SyncOptions(download="files", archive_dir=archive)
        sync_spaces(db, client, list(dataset.rooms), options)
    db.conn.close()
    return archive


def forms(value: str) -> set[str]:
    """``value`` as each writer could put it into a file or a path, lowercased."""
    shown = {value, strip_unsafe(value), clean_inline(value)}
    out = set()
    for text in shown:
        out |= {text, html.escape(text), html.escape(text, quote=False), quote(text),
                quote(text, safe="/"), json.dumps(text)[1:-1],
                json.dumps(text, ensure_ascii=False)[1:-1]}  # fmt: skip
    return {form.casefold() for form in out if len(form) > 2}


def secrets(dataset) -> set[str]:
    found: set[str] = set()
    for person in dataset.people.values():
        for value in (person["displayName"], *person["emails"]):
            found |= forms(value)
    return found


def files_under(folder: Path) -> set[Path]:
    """The files in ``folder``, but archive.db's own (a reader may add ``archive.db-shm``)."""
    return {p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("archive.db")}


@pytest.mark.parametrize("split", ["none", "year", "month"])
def test_blurred_output_names_nobody(downloaded, dataset, split):
    before = files_under(downloaded)
    options = RenderOptions(formats=("html", "json", "txt"), blur=True, split=split)
    written = render_spaces(downloaded, [], True, options)
    new = files_under(downloaded) - before
    assert set(written) <= new and len(written) >= 3 * len(dataset.rooms)
    direct = [r for r in dataset.rooms.values() if r["type"] == "direct"]
    assert direct and direct[0]["title"] == "Grace Hopper"
    hidden = secrets(dataset)
    leaks = []
    for path in sorted(new):
        where = str(path.relative_to(downloaded)).casefold()
        leaks += [(where, "in the path", s) for s in hidden if s in where]
        text = path.read_bytes().decode("utf-8").casefold()
        leaks += [(where, "in the file", s) for s in hidden if s in text]
    assert leaks == [], "\n".join(map(str, leaks))
    assert any("Person " in path.read_text(encoding="utf-8") for path in written)


def test_blurred_links_still_lead_somewhere(downloaded, dataset):
    """The names change, the links between parts keep working: every relative link of every
    blurred page names a file that exists."""
    options = RenderOptions(blur=True, split="month")
    written = render_spaces(downloaded, [], True, options)
    for page in written:
        for target in _relative_links(page.read_text(encoding="utf-8")):
            assert (page.parent / target).is_file(), (page.name, target)


def _relative_links(text: str) -> list[str]:
    targets = [h.split("#", 1)[0] for h in parse(text).hrefs]
    return [unquote(t) for t in targets if t and ":" not in t]


def test_a_direct_space_title_is_hidden_even_when_no_name_matches():
    """A direct space is titled with the other person's name, which the archive may know by
    no other row (renamed, removed): the title goes all the same; a group title stays."""
    blur = Pseudonyms.build([("p1", "Ada Lovelace", "ada@example.com")])
    assert blurred_title("Grace Hopper", {"type": "direct"}, blur) == "direct space"
    assert blurred_title("Ada Lovelace", {"type": "direct"}, blur) == "Person 1"
    assert blurred_title("Lunch with Ada Lovelace", {"type": "group"}, blur) == (
        "Lunch with Person 1"
    )
    stem = blurred_stem("CON: a/b. ", "space-1")
    assert stem.startswith("CON_ a_b-") and len(stem) == len("CON_ a_b-") + 8

"""A rendering removes what the previous rendering of the same page wrote and this one did
not (the month pages of an earlier ``--split month``), and nothing else: never a file a
person put in the folder, whatever the manifest lists."""

from __future__ import annotations

import json
from pathlib import Path

from render import RenderOptions, render_spaces
from render.custody import SUFFIX as CUSTODY
from render.manifest import manifest_path
from tests.render.conftest import SPACE_ID


def render(archive: Path, **options) -> list[Path]:
    return render_spaces(archive, [SPACE_ID], False, RenderOptions(**options))


def names(folder: Path) -> list[str]:
    """The pages in ``folder``: not the bookkeeping, nor the custody manifest (whose tests are
    tests/render/test_custody.py)."""
    return sorted(path.name for path in folder.iterdir()
                  if not path.name.startswith(".") and not path.name.endswith(CUSTODY))  # fmt: skip


def test_a_plain_render_after_a_split_one_leaves_only_its_page(small_archive):
    folder = small_archive / "Project Falcon"
    months = render(small_archive, split="month", formats=("html", "txt"))
    # Each HTML page has its search file, which goes with it.
    searches = [p.stem + ".search.js" for p in months if p.suffix == ".html"]
    assert names(folder) == sorted([*(p.name for p in months), *searches]) == [
        "Project Falcon-2024-02.html", "Project Falcon-2024-02.search.js",
        "Project Falcon-2024-03.html", "Project Falcon-2024-03.search.js",
        "Project Falcon-2024-04.html", "Project Falcon-2024-04.search.js",
        "Project Falcon.html", "Project Falcon.search.js", "Project Falcon.txt",
    ]  # fmt: skip
    (folder / "Project Falcon-notes.html").write_text("mine")  # a person's files
    (folder / "Project Falcon-2023.html").write_text("mine too: not in the manifest")
    (folder / "Project Falcon-2023.search.js").write_text("mine as well")
    render(small_archive, split="year", formats=("json",))  # another format: HTML untouched
    assert {p.name for p in months} <= set(names(folder))
    [page] = render(small_archive)
    assert names(folder) == sorted(["Project Falcon.html", "Project Falcon.txt",
                                    "Project Falcon.json", "Project Falcon-notes.html",
                                    "Project Falcon-2023.html",
                                    "Project Falcon-2023.search.js",
                                    "Project Falcon.search.js"])  # fmt: skip
    assert json.loads(manifest_path(page).read_text()) == {
        "html": ["Project Falcon.html"], "json": ["Project Falcon.json"],
        "txt": ["Project Falcon.txt"],
    }  # fmt: skip


def test_a_manifest_never_removes_what_the_renderer_did_not_name(small_archive, tmp_path):
    folder = small_archive / "Project Falcon"
    [page] = render(small_archive)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    (folder / "Project Falcon-2024.html").symlink_to(outside)
    (folder / "notes.html").write_text("keep")
    manifest_path(page).write_text(json.dumps({"html": [
        "Project Falcon.html", "notes.html", "../../precious.txt", str(outside),
        "Project Falcon-2024.html", 7, None, ["x"],
    ]}))  # fmt: skip
    render(small_archive)
    assert outside.read_text() == "keep" and (folder / "notes.html").read_text() == "keep"
    assert (folder / "Project Falcon-2024.html").is_symlink()
    manifest_path(page).write_text("not json")
    assert render(small_archive) == [page] and page.is_file()

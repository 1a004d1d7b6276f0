"""What the last rendering of a page wrote, so that the next one removes what it no longer
writes: a plain render after ``--split month`` must not leave the month pages beside the new
page, linking to nothing and showing old messages.

Beside each rendered page ``X.html`` (``X.json``, ``X.txt``) lies ``.X.rendered.json``, the
names each format's last rendering wrote in that folder: ``{"html": ["X.html",
"X-2024-03.html", ...], "json": [...]}``. Each format is tidied on its own (a JSON render
leaves the HTML pages alone). A file is removed only when the manifest lists it, its name is
one this renderer gives (``X.<fmt>``, a ``--split`` part ``X-YYYY[-MM].html``, an RSMF
day ``X-YYYY-MM-DD[-N].rsmf``) and it is a
plain file in that folder: never a file a person put there, whatever the manifest says.
Pages rendered before manifests existed are not known to be ours, and stay. An HTML page's
search file (``X.search.js``, render/search_index.py) goes with the page.

A ``--split`` rendering also records under ``"built"`` what each part was built from (a
digest per part file, render/incremental.py), so that the next one rewrites only the parts
whose inputs changed, and under ``"cache"`` what an incremental rendering needs to read only
the months that changed since: the archive's marks, the parts in page order, each part's
months and share of the statistics (render/incremental.py). Any other rendering of the HTML
clears both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from webex_layout import atomic_write

from .page import Page
from .search_index import index_path

SUFFIX = ".rendered.json"
BUILT = "built"
CACHE = "cache"
# What the renderer adds to a page's stem for its parts: --split's ``-2024`` and ``-2024-03``,
# RSMF's days ``-2024-03-31`` and their later files ``-2024-03-31-2``.
PARTS = r"(-\d{4}(-\d{2}(-\d{2}(-\d+)?)?)?)?"


def manifest_path(page: Path) -> Path:
    return page.with_name(f".{page.stem}{SUFFIX}")


def tidy(
    rendered: Page,
    fmt: str,
    written: list[Path],
    built: dict[str, str] | None = None,
    cache: dict | None = None,
) -> None:
    """After ``fmt`` was rendered (``written``: the page and its parts, kept or written):
    remove what the previous rendering of ``fmt`` wrote there and this one did not, and
    record this one; ``built``: the digest of each --split part's inputs, by file name;
    ``cache``: what the next incremental rendering starts from."""
    page = rendered.path
    record = read_manifest(page)
    names = sorted(path.name for path in written if path.parent == page.parent)
    ours = re.compile(rf"{re.escape(page.stem)}{PARTS}\.{re.escape(fmt)}")
    for name in record.get(fmt, []):
        if not isinstance(name, str) or name in names or not ours.fullmatch(name):
            continue
        target = page.parent / name
        for path in [target, index_path(target)] if fmt == "html" else [target]:
            if path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
    record[fmt] = names
    if fmt == "html":
        record.pop(BUILT, None)
        record.pop(CACHE, None)
        if built:
            record[BUILT] = built
        if cache:
            record[CACHE] = cache
    with atomic_write(manifest_path(page), rendered.root) as out:
        out.write(json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def read_manifest(page: Path) -> dict:
    """The manifest of ``page``, or nothing when it is missing or not one (then nothing is
    removed and every part is written): per format a list of names, and ``built``."""
    try:
        record = json.loads(manifest_path(page).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    kept: dict = {fmt: names for fmt, names in record.items() if isinstance(names, list)}
    built = record.get(BUILT)
    if isinstance(built, dict):
        kept[BUILT] = {k: v for k, v in built.items() if isinstance(v, str)}
    if isinstance(record.get(CACHE), dict):
        kept[CACHE] = record[CACHE]
    return kept


def built_parts(page: Path) -> dict[str, str]:
    """What each --split part of ``page`` was built from, by file name (render/incremental.py)."""
    return read_manifest(page).get(BUILT, {})

"""Prove a refactoring changed no rendered byte: render a matrix of options with two checkouts.

A change that must not alter output (docs/design.md, "Render") is checked by rendering the same
archives with the code before and after it and comparing every file. The archives are built
once, from the emulator's data sets with a fixed end date (so they are the same on every run):
the demo's four spaces (hostile titles, names, bodies and file names included, with their
files and avatars downloaded) and one space large enough for the bodies worker. Each checkout
then renders every space, in all three formats, under each combination of the matrix below.

    python tools/compare_renders.py build /tmp/cmp/archives
    python tools/compare_renders.py render /tmp/cmp/archives /tmp/cmp/before --checkout /old/tree
    python tools/compare_renders.py render /tmp/cmp/archives /tmp/cmp/after
    python tools/compare_renders.py compare /tmp/cmp/before /tmp/cmp/after

``render`` runs ``python -m webex_archive`` inside the checkout given (by default this one),
with that checkout's own virtualenv if it has one. The CSP nonce is random per page and each
output names the moment it was made: those are the differences ``compare`` forgives.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
END = datetime(2026, 1, 1, tzinfo=timezone.utc)
# (archive folder, generate() arguments): the demo's spaces, and one space past the worker's
# threshold (render/bodies.py CHUNK) so that the second-core path is compared too.
ARCHIVES = {
    "demo": {"seed": 1, "messages": 300},
    "large": {"seed": 7, "spaces": 1, "messages": 4500, "people": 40},
}
BASE = ["--tz", "UTC"]
# --days is --since counted back from the moment of rendering, which moves: --since stands for it.
MATRIX: dict[str, list[str]] = {
    "plain": [],
    "newest": ["--sort", "newest"],
    "blur": ["--blur"],
    "blur-year": ["--blur", "--split", "year"],
    "year": ["--split", "year"],
    "month": ["--split", "month"],
    "month-newest": ["--split", "month", "--sort", "newest"],
    "last": ["--last", "57"],
    "since": ["--since", "2025-03-01"],
    "until": ["--until", "2024-11-30"],
    "window": ["--since", "2024-06-01", "--until", "2025-02-15T12:00"],
    "window-blur-month": [
        "--since",
        "2024-06-01",
        "--until",
        "2025-02-15",
        "--blur",
        "--split",
        "month",
    ],
    "kolkata": ["--tz", "Asia/Kolkata"],
    "newyork-month": ["--tz", "America/New_York", "--split", "month"],
    "link": ["--avatars", "link"],
    "local": ["--avatars", "local"],
    "local-blur": ["--avatars", "local", "--blur"],
    "dark": ["--theme", "dark"],
    "light-last": ["--theme", "light", "--last", "1"],
}
# What differs between two renderings of the same archive by the same code: the CSP nonce, and
# the moment of rendering (TXT's header line, JSON's generated_at, HTML's summary row).
VOLATILE = re.compile(
    rb"nonce(=\"|-)[A-Za-z0-9_-]{16,}|Generated at: +[^\n]*|\"generated_at\": \"[^\"]*\""
    rb"|<dt>Generated</dt><dd>[^<]*</dd>"
)


def build(target: Path) -> None:
    """Sync each data set into its own archive with this checkout's code."""
    sys.path.insert(0, str(ROOT))
    from etl import store
    from etl.api import WebexClient
    from etl.spaces import list_spaces
    from etl.sync import SyncOptions, sync_spaces
    from webex_emulator import Emulator, generate

    for name, spec in ARCHIVES.items():
        with Emulator(generate(end=END, **spec)) as emulator:
            db = store.open_archive(target / name)
            with WebexClient(emulator.token, emulator.api_url) as client:
                ids = [space["id"] for space in list_spaces(client)]
                options = SyncOptions(
                    download="files", avatars="download", archive_dir=target / name
                )
                sync_spaces(db, client, ids, options)
            db.close()
        print(f"built {target / name}")


def render(archives: Path, target: Path, checkout: Path) -> int:
    """Every space of every archive under every combination; returns the renderings made."""
    venv = checkout / ".venv" / "bin" / "python"
    python = str(venv) if venv.exists() else sys.executable
    made = 0
    for archive in sorted(p for p in archives.iterdir() if p.is_dir()):
        for combo, options in MATRIX.items():
            out = target / archive.name / combo
            out.mkdir(parents=True)
            command = [python, "-m", "webex_archive", "--quiet", "--archive", str(archive),
                       "render", "--all", "--format", "html,json,txt", "--output", str(out),
                       *BASE, *options]  # fmt: skip
            subprocess.run(command, cwd=checkout, check=True)
            made += sum(1 for p in out.rglob("*") if p.suffix in (".html", ".json", ".txt"))
    print(f"{made} renderings into {target}")
    return made


def compare(before: Path, after: Path) -> list[str]:
    """The files that differ (or exist on one side only), nonce and render time aside."""
    names_before = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names_after = {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    differ = sorted(str(p) + " (one side only)" for p in names_before ^ names_after)
    for name in sorted(names_before & names_after):
        a, b = before / name, after / name
        if filecmp.cmp(a, b, shallow=False):
            continue
        if VOLATILE.sub(b"", a.read_bytes()) != VOLATILE.sub(b"", b.read_bytes()):
            differ.append(str(name))
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("build").add_argument("archives", type=Path)
    run = verbs.add_parser("render")
    run.add_argument("archives", type=Path)
    run.add_argument("target", type=Path)
    run.add_argument("--checkout", type=Path, default=ROOT)
    check = verbs.add_parser("compare")
    check.add_argument("before", type=Path)
    check.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.verb == "build":
        build(args.archives)
    elif args.verb == "render":
        render(args.archives, args.target, args.checkout.resolve())
    else:
        differ = compare(args.before, args.after)
        total = sum(1 for p in args.before.rglob("*") if p.is_file())
        for name in differ:
            print(f"differs: {name}")
        print(f"{total - len(differ)} of {total} files identical")
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

"""The documents' promises hold: the SQL recipes answer, the migration table is the code's,
every module is on design.md's map, every link resolves, and the README's test command is the
one CI runs, installing only what is missing."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from tests.conftest import group_room

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
DESIGN = DOCS / "design.md"
CI = ROOT / ".ci" / "run"
INSTALL = ROOT / "tools" / "install-test-deps"

# Files other branches add, named in the documents before they land. Once one exists, a test
# says so: take it out of the list (the lead empties it after merging those branches).
PENDING_MODULES: set[str] = set()
PENDING = PENDING_MODULES


# The folders whose files the documents name by path (`etl/walk.py`, `tests/security/`).
TREES = ("etl", "render", "webex_emulator", "webex_archive", "tests", "benchmarks", "tools", "docs")


def test_sql_recipes_answer(emu, dataset, tmp_path):
    room = group_room(dataset)["id"]
    recent = emu.add_messages(room, 3, seed=5)
    db = store.open_archive(tmp_path)
    with WebexClient(emu.token, emu.api_url) as client:
        sync_spaces(db, client, [room], SyncOptions())
        emu.edit_message(recent[0]["id"], text="a later thought")
        emu.delete_message(recent[1]["id"])
        sync_spaces(db, client, [room], SyncOptions())
    queries = re.findall(r"```sql\n(.*?)```", (DOCS / "sql-recipes.md").read_text(), re.S)
    assert len(queries) == 8
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        answers = [conn.execute(query).fetchall() for query in queries]
    assert all(answers), [len(a) for a in answers]
    changed = answers[-1]
    assert [(row[3], row[4] is not None) for row in changed] == [
        ("a later thought", False),
        (recent[1]["text"], True),
    ]
    # The same recipe through the sqlite-utils command line gives the same rows.
    tool = Path(sys.executable).with_name("sqlite-utils")
    result = subprocess.run(
        [
            str(tool),
            "query",
            "--csv",
            "--no-headers",
            "--",
            str(tmp_path / "archive.db"),
            queries[1],
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(result.stdout.strip().splitlines()) == len(answers[1])


def test_migration_table_is_the_code_s():
    from webex_archive.config import migration_table

    text = (DOCS / "migrating.md").read_text()
    for key, flag in migration_table():
        assert f"| `{key}` | {flag.replace('|', chr(92) + '|')} |" in text


# ----- design.md's module map ----------------------------------------------------------------


def packages() -> list[str]:
    """The distribution's top-level packages, as pyproject.toml lists them for the wheel:
    a package added there is on the map's test at once."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.hatch.build.targets.wheel]", 1)[1]
    listed = re.search(r"packages\s*=\s*\[(.*?)\]", section, re.S)
    assert listed is not None
    return re.findall(r'"([^"]+)"', listed[1])


def project_modules() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for package in packages()
        for path in (ROOT / package).rglob("*.py")
    }


def mapped_modules() -> set[str]:
    text = DESIGN.read_text()
    section = text.split("\n## Module map\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `([\w/]+\.py)`: \S", section, re.M))


def test_every_module_is_on_the_map():
    missing = sorted(project_modules() - mapped_modules())
    assert not missing, f"add to docs/design.md's module map, one line each: {missing}"


def test_pending_files_are_still_pending():
    landed = sorted(name for name in PENDING if (ROOT / name).exists())
    assert not landed, f"{landed} exist now: take them out of PENDING in tests/test_docs.py"


def test_every_module_on_the_map_exists():
    named = mapped_modules()
    assert named >= PENDING_MODULES, "name the pending modules on the map"
    gone = sorted(named - project_modules() - PENDING_MODULES)
    assert not gone, f"docs/design.md's module map names modules that do not exist: {gone}"


def test_packages_cover_the_map():
    """The map's modules all belong to a listed package (the test above would miss others)."""
    assert {name.split("/")[0] for name in mapped_modules()} == set(packages())


# ----- links ---------------------------------------------------------------------------------


def documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md")), ROOT / "benchmarks" / "RESULTS.md"]


def without_code(text: str) -> str:
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, and
    ``-1``, ``-2``… after repeated headings."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", without_fences(path.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in found:
            number += 1
            candidate = f"{slug}-{number}"
        found.add(candidate)
    return found


def without_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def relative_links(path: Path) -> list[str]:
    targets = re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", without_code(path.read_text()))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_anchors_follow_github():
    sample = DOCS / "design.md"
    assert {"sync-precisely", "module-map", "rules-the-tests-enforce"} <= anchors(sample)
    assert "run-and-the-ini" in anchors(DOCS / "migrating.md")


def resolves(path: Path, link: str) -> bool:
    """Whether ``link`` (relative to ``path``) names a file, and a heading in it if it has
    an ``#anchor``."""
    target, _, anchor = link.partition("#")
    file = (path.parent / target).resolve() if target else path
    if not file.exists():
        return False
    return not anchor or (file.suffix == ".md" and anchor in anchors(file))


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(path):
    broken = [link for link in relative_links(path) if not resolves(path, link)]
    assert not broken, f"{path.name}: links to nothing: {broken}"


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_named_files_exist(path):
    """A file of the project named by its path (`etl/walk.py`) exists: moves and renames
    must take the documents along."""
    pattern = "`((?:" + "|".join(TREES) + r")/[\w./-]*)[`\s]"
    named = set(re.findall(pattern, path.read_text())) - PENDING
    gone = sorted(name for name in named if not (ROOT / name).exists())
    assert not gone, f"{path.name} names files that do not exist: {gone}"


def test_readme_links_every_document():
    linked = {link.partition("#")[0] for link in relative_links(README)}
    assert {f"docs/{p.name}" for p in DOCS.glob("*.md")} <= linked


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= 200


# ----- the test command and CI ---------------------------------------------------------------


def readme_commands() -> list[str]:
    block = re.match(r"# [^\n]+\n\n```sh\n(.*?)```", README.read_text(), re.S)
    assert block is not None, "the README must open with its two commands"
    return block[1].splitlines()


def test_readme_opens_with_the_demo_and_the_tests():
    demo, tests = readme_commands()
    assert demo.endswith("webex-archive demo")
    assert tests.startswith("tools/install-test-deps && ")
    assert tests.endswith(".venv/bin/python -m pytest -q")


def test_ci_runs_exactly_the_readme_test_command():
    lines = [line for line in CI.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == readme_commands()[1]
    assert not [line for line in lines[:-1] if re.search(r"\b(apt-get|npm|pip)\b", line)]
    assert os.access(CI, os.X_OK) and os.access(INSTALL, os.X_OK)


def fake_machine(tmp_path: Path, has: set[str]) -> tuple[Path, Path]:
    """A PATH holding only bash, a few coreutils and stand-ins for the tools in ``has``; apt-get and
    npm record their arguments, and apt-get "installs" npm by adding its stand-in."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "basename", "cp"):
        (bin_dir / tool).symlink_to(shutil.which(tool) or tool)
    recorder = f'#!/usr/bin/env bash\necho "$(basename "$0") $*" >> {log}\n'
    installer = recorder + (
        f'case " $* " in *" npm "*) cp "{bin_dir}/apt-get" "{bin_dir}/npm";; esac\n'
    )
    tools = {"apt-get": installer, "npm": recorder, "chromium": "", "java": "", "python3": ""}
    for tool, script in tools.items():
        if tool in has | {"apt-get"}:
            (bin_dir / tool).write_text(script or "#!/usr/bin/env bash\n")
            (bin_dir / tool).chmod(0o755)
    if "npm" in has:  # a recorder of its own, not the installer's copy
        (bin_dir / "npm").write_text(recorder)
    return bin_dir, log


def install_calls(tmp_path: Path, has: set[str]) -> list[str]:
    bin_dir, log = fake_machine(tmp_path, has)
    i18n = tmp_path / "i18n"  # glibc's locale sources, where localedef looks (I18NPATH)
    if "locales" in has:
        (i18n / "locales").mkdir(parents=True)
        (i18n / "locales" / "de_DE").write_text("")
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "I18NPATH": str(i18n)}
    result = subprocess.run([str(INSTALL)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines() if log.exists() else []


NPM_CI = "npm ci --prefix tools/vnu --ignore-scripts --no-audit --no-fund --loglevel=error"


@pytest.mark.parametrize(
    ("has", "installed"),
    [
        ({"python3", "chromium", "java", "npm", "locales"}, None),
        ({"python3", "npm", "locales"}, "chromium default-jre-headless"),  # NodeSource's npm
        ({"python3", "chromium", "java", "locales"}, "npm"),
        ({"chromium", "java", "npm", "locales"}, "python3-venv"),  # python3 without its venv
        ({"python3", "chromium", "java", "npm"}, "locales"),
        (set(), "python3-venv chromium default-jre-headless npm locales"),
    ],
    ids=["all-there", "nodesource-npm", "no-npm", "no-venv", "no-locales", "bare"],
)
def test_install_test_deps_installs_only_what_is_missing(tmp_path, has, installed):
    calls = install_calls(tmp_path, has)
    apt = [] if installed is None else ["apt-get update -qq", f"apt-get install -y -qq {installed}"]
    assert calls == [*apt, NPM_CI]

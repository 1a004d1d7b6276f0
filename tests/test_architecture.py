"""The architecture's rules, executable (docs/design.md explains them).

- The import-linter contracts in pyproject.toml hold: etl, render and webex_emulator share
  nothing, library code never imports the command line, no package has an import cycle among
  its modules.
- No module of the project reaches itself again through its imports. Every import statement
  counts, also one inside a function or under ``if TYPE_CHECKING:``: a function-level import is
  how a cycle stayed hidden before.
- No function is above radon's grade C (cyclomatic complexity over 20).

Each check is also shown to fail on a breach, so that a green run means the rules hold.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from radon.complexity import add_inner_blocks, cc_visit
from radon.visitors import Function

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("etl", "render", "webex_emulator", "webex_archive", "webex_layout")
CONTRACTS = 4
MAX_COMPLEXITY = 20  # the top of radon's grade C

Graph = Mapping[str, set[str]]


# ----- the import graph, from the source --------------------------------------------------------


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of ``packages`` under ``root`` by dotted name (a package is its __init__)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, package: str, known: set[str]) -> set[str]:
    """The project modules one import statement loads (``package`` is where relative imports
    start): ``from x import y`` loads the submodule x.y if there is one, else x for its y."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    base = node.module or ""
    if node.level:
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    names = {f"{base}.{alias.name}" for alias in node.names}
    return {name if name in known else base for name in names} & known


def imports_of(path: Path, importer: str, known: set[str]) -> set[str]:
    """The project modules ``importer`` imports anywhere in its file, itself left out."""
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= _imported(node, package, known)
    return found - {importer}


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    modules = module_files(root, packages)
    return {name: imports_of(path, name, set(modules)) for name, path in modules.items()}


def reachable(graph: Graph, start: str) -> set[str]:
    """Every module ``start`` loads through a chain of one or more imports."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return seen


def cycles(graph: Graph) -> list[list[str]]:
    """The groups of modules that import each other through some chain, each sorted."""
    after = {module: reachable(graph, module) for module in graph}
    groups = {tuple(sorted(m for m in after[module] if module in after[m])) for module in graph}
    return sorted(list(group) for group in groups if group)


# ----- complexity ------------------------------------------------------------------------------


def complexities(source: str) -> dict[str, int]:
    """Cyclomatic complexity of every function, method and nested function, by its name."""
    blocks = add_inner_blocks(cc_visit(source))
    return {b.fullname: b.complexity for b in blocks if isinstance(b, Function)}


def too_complex(root: Path, packages: Iterable[str]) -> set[tuple[str, str]]:
    found = set()
    for path in module_files(root, packages).values():
        for name, complexity in complexities(path.read_text(encoding="utf-8")).items():
            if complexity > MAX_COMPLEXITY:
                found.add((path.relative_to(root).as_posix(), name))
    return found


# ----- import-linter -----------------------------------------------------------------------------


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` from this interpreter's environment, over the packages in ``folder``
    (it puts its working folder first on the import path) and that folder's pyproject.toml."""
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "lint-imports is not installed: pip install -e '.[test]'"
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [command, "--no-cache"], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {CONTRACTS} kept, 0 broken." in result.stdout


SHARE_NOTHING = "etl, render and webex_emulator share nothing: none imports another"
NO_COMMAND_LINE = "library code never imports the command line"
NO_CYCLE = "no import cycle among the modules of any package"
STANDS_ALONE = "the archive's layout rules stand alone: webex_layout imports no other package"
LATE = "def late():\n    "  # a function-level import
TYPING = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    "


@pytest.mark.parametrize(
    ("modules", "broken"),
    [
        ({"render/breach.py": "import etl"}, SHARE_NOTHING),
        ({"etl/breach.py": LATE + "import render"}, SHARE_NOTHING),
        ({"etl/files/breach.py": TYPING + "import webex_emulator"}, SHARE_NOTHING),
        ({"webex_emulator/breach.py": "from etl import errors"}, SHARE_NOTHING),
        ({"render/breach.py": LATE + "import webex_archive"}, NO_COMMAND_LINE),
        ({"webex_emulator/breach.py": TYPING + "import webex_archive"}, NO_COMMAND_LINE),
        ({"webex_layout/breach.py": LATE + "from etl import store"}, STANDS_ALONE),
        (
            {
                "etl/store/breach_a.py": "from . import breach_b",
                "etl/store/breach_b.py": LATE + "from . import breach_a",
            },
            NO_CYCLE,
        ),
    ],
)
def test_import_contracts_catch_a_breach(tmp_path: Path, modules: dict[str, str], broken: str):
    """A copy of the packages with one forbidden import added breaks exactly its contract."""
    for package in PACKAGES:
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for name, text in modules.items():
        (tmp_path / name).write_text(text + "\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = result.stdout.splitlines()
    assert [row.partition(" BROKEN")[0] for row in rows if " BROKEN" in row] == [broken]


# ----- no import cycle ---------------------------------------------------------------------------


def test_no_import_cycle_among_the_projects_modules():
    assert cycles(import_graph(ROOT, PACKAGES)) == []


def test_the_graph_has_every_kind_of_import(tmp_path: Path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from .a import VALUE\n",
        "a.py": "VALUE = 1\n\ndef late():\n    from .b import helper\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
        "c.py": "import pkg.sub.d\nfrom pkg import b\nimport os\n",
        "sub/__init__.py": "",
        "sub/d.py": "from .. import c\nfrom ..a import VALUE\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    graph = import_graph(tmp_path, ["pkg"])
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.a"},
        "pkg.c": {"pkg.sub.d", "pkg.b"},
        "pkg.sub": set(),
        "pkg.sub.d": {"pkg.c", "pkg.a"},
    }
    assert cycles(graph) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.sub.d"]]


# ----- complexity ------------------------------------------------------------------------------


def test_no_function_above_grade_c():
    assert too_complex(ROOT, PACKAGES) == set(), "split these functions (radon cc -s -n D)"


def test_complexity_counts_methods_and_nested_functions_up_to_the_limit():
    def function(name: str, branches: int, indent: str) -> str:
        body = "".join(
            f"{indent}    if x == {n}:\n{indent}        return {n}\n" for n in range(branches)
        )
        return f"{indent}def {name}(x):\n{body}{indent}    return -1\n"

    source = "".join(
        [
            function("limit", MAX_COMPLEXITY - 1, ""),
            "class Holder:\n",
            function("over", MAX_COMPLEXITY, "    "),
            "def outer():\n",
            function("inner", MAX_COMPLEXITY + 5, "    "),
        ]
    )
    assert complexities(source) == {
        "limit": MAX_COMPLEXITY,
        "Holder.over": MAX_COMPLEXITY + 1,
        "outer": 1,
        "outer.inner": MAX_COMPLEXITY + 6,
    }

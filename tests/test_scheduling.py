"""tests/scheduling.py's list of long tests names tests that exist, and its scheduler hands
them out first, each to the worker with the least of them."""

from __future__ import annotations

import re
from pathlib import Path

from tests.scheduling import HEAVY, heavy_groups, named

ROOT = Path(__file__).resolve().parents[1]


def test_every_heavy_name_is_a_test_that_exists() -> None:
    """A renamed or removed test would silently drop out of the list: its function is
    defined in its file, and a parameter named is one the file spells."""
    for _, path, names in HEAVY:
        source = (ROOT / "tests" / path).read_text(encoding="utf-8")
        for name in names:
            function, _, param = name.partition("[")
            assert re.search(rf"^def {re.escape(function)}\(", source, re.M), name
            if param:
                value = param.removesuffix("]")
                assert value.isdigit() or f'"{value}"' in source, name


def test_a_name_is_the_test_or_its_parameters() -> None:
    assert named("t.py::test_a[x]", "t.py::test_a")
    assert named("t.py::test_a[x]", "t.py::test_a[x]")
    assert not named("t.py::test_a[y]", "t.py::test_a[x]")
    assert not named("t.py::test_ab", "t.py::test_a")


def test_groups_keep_the_list_order_and_skip_what_was_not_collected() -> None:
    (seconds, path, [name]), *_ = HEAVY
    last, last_path, [last_name] = HEAVY[-1]
    collection = [
        "tests/x.py::test_other",
        f"tests/{last_path}::{last_name}",
        f"tests/{path}::{name}",
    ]
    assert heavy_groups(collection) == [(seconds, [2]), (last, [1])]

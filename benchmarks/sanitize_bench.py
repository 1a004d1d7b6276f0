"""Sanitising hostile message bodies: time per input, and whether it grows linearly.

    python benchmarks/sanitize_bench.py [--repeat N]

A message body is untrusted and may be made to be slow: deep nesting, 100,000 unclosed tags,
a megabyte of ``<a``, comment openers or a URL. For each such input this prints the seconds
that ``message_html`` (and ``strip_tags`` or ``text_html``, as a message of that shape would
need) take, the fastest of N runs, next to a budget: the time limits the test suite asserted
before (1 s, 5 s, and 10 s for the four megabyte inputs together). tests/render/test_sanitize.py
keeps the correctness half of those tests: a time limit on a shared CI machine is a flaky
test, and belongs here. Each input is also timed at a quarter of its size: the ``x4`` column
is the growth for four times the input, about 4 when linear, 16 when quadratic (on a loaded
machine it wanders, so it is for reading, not a verdict). Exits 1 when an input is over its
budget.

``--archive DIR`` times instead the everyday case: every HTML body of an archive, CPU
seconds, with a digest of the output (the same digest: the same bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from render.sanitize import MAX_TAGS, message_html, strip_tags, text_html


def deep(n: int) -> str:
    return "<blockquote>" * n + "deep" + "</blockquote>" * n + "<div>" * n + "deep" + "</div>" * n


def unclosed_name(n: int) -> str:
    return "<b>" * (MAX_TAGS + 1) + "<" + "a" * n


def pathological(n: int) -> str:
    return "<div>" * n + "<script>x</script>deep &amp; <b>bold</b>"


# name, input for a size, full size, budget in seconds, the functions a message of it meets
CASES: list[tuple[str, Callable[[int], str], int, float, tuple[Callable[[str], str], ...]]] = [
    ("deep nesting (300 levels)", deep, 300, 1.0, (message_html,)),
    (f"{100_000:,} unclosed <div> (> MAX_TAGS {MAX_TAGS:,})", pathological, 100_000, 5.0,
     (message_html, strip_tags)),
    ("1 MB of unclosed <a", lambda n: "<a" * (n // 2), 10**6, 2.5, (message_html, text_html)),
    ("1 MB of lone <", lambda n: "<" * n, 10**6, 2.5, (message_html, text_html)),
    ("1 MB of comment openers", lambda n: "<!--" * (n // 4), 10**6, 2.5,
     (message_html, text_html)),
    ("1 MB URL", lambda n: "https://" + "." * n, 10**6, 2.5, (message_html, text_html)),
    (f"1 MB unclosed tag name (> MAX_TAGS {MAX_TAGS:,})", unclosed_name, 10**6, 2.5,
     (message_html, strip_tags)),
]  # fmt: skip


def seconds(source: str, functions: tuple[Callable[[str], str], ...], repeat: int) -> float:
    """The fastest of ``repeat`` runs of every function over ``source``."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for function in functions:
            function(source)
        best = min(best, time.perf_counter() - started)
    return best


def archived(archive: Path, repeat: int) -> None:
    """The CPU seconds of ``message_html`` over every HTML body of an archive (the fastest of
    ``repeat`` runs) and a digest of what it made: the everyday cost, where the cases above
    are the hostile ones; a change to the sanitiser keeps the digest or changes the output."""
    conn = sqlite3.connect(f"{(archive / 'archive.db').resolve().as_uri()}?mode=ro", uri=True)
    bodies = [html for (html,) in conn.execute("SELECT html FROM messages WHERE html IS NOT NULL")]
    conn.close()
    best, made = float("inf"), []
    for _ in range(repeat):
        started = time.process_time()
        made = [message_html(html) for html in bodies]
        best = min(best, time.process_time() - started)
    digest = hashlib.sha256("\0".join(made).encode()).hexdigest()[:16]
    print(f"{len(bodies):,} bodies of {archive}: {best:.3f} CPU s, output sha256 {digest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--archive", type=Path, help="time an archive's bodies instead")
    args = parser.parse_args()
    if args.archive:
        archived(args.archive, args.repeat)
        return
    print(f"{'input':<42} {'seconds':>8} {'budget':>7} {'x4':>5}")
    failed = False
    for name, make, size, budget, functions in CASES:
        full = seconds(make(size), functions, args.repeat)
        growth = full / max(seconds(make(size // 4), functions, args.repeat), 1e-9)
        over = full > budget
        failed |= over
        print(
            f"{name:<42} {full:>8.3f} {budget:>7.1f} {growth:>5.1f}{'  OVER' if over else ''}",
            flush=True,
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

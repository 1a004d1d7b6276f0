"""How xdist hands out the suite's tests: the long ones first, spread over the workers.

xdist's default ``load`` scheduler sends each worker a chunk of consecutive tests (a quarter
of its share, some 110 of 1,765), then smaller chunks as workers run dry. Consecutive tests
come from one module, so the parts of a long test that were split to run side by side did
not: the fuzz's three shards, the Nu checker's three variants and Chromium's three ran one
after another on one worker (29 + 23 + 10 s, 21 + 16 + 16 s, 42 + 23 + 16 s on 2026-12-07),
and a 28 s test late in the alphabet (``tests/test_packaging.py``) started when the other
workers were nearly done. ``HeavyFirst`` is the same scheduler, except that before the first
chunks each worker is given its share of the tests in ``HEAVY``, longest first, each to the
worker with the least of them so far; everything else is scheduled as xdist does, so the
run ends on short tests that the idle workers share.

``HEAVY`` lists the tests that hold a worker for many seconds (the figures are their wall
seconds in a whole run on two loaded cores: what matters is their order). An entry names a
test function (all its parameters) or one parameter (``name[param]``); the names of an entry
go to one worker in that order, where they share what the first one made in that process
(``judged()``'s visits in ``tests/security/test_browser.py``). ``tests/test_scheduling.py``
checks that every name is a test that exists.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdist.scheduler import LoadScheduling

# (seconds, file under tests/, test names): the names go to one worker in this order
HEAVY: tuple[tuple[float, str, tuple[str, ...]], ...] = (
    (42, "reliability/test_kill_events.py",
     ("test_kill_9_during_an_events_driven_sync_resumes_identically",)),
    # the catalogue page is visited once, by the first; the other two reuse the visit
    (40, "security/test_browser.py",
     ("test_every_page_is_inert_in_chromium[page]",
      "test_the_catalogue_page_really_exercises_the_browser",
      "test_hostile_messages_stay_inert_in_search[page]")),
    (30, "reliability/test_kill.py", ("test_kill_9_at_random_moments_never_loses_or_duplicates",)),
    (30, "test_packaging.py", ("test_wheel_installs_and_runs_the_demo_elsewhere",)),
    (29, "test_benchmarks.py", ("test_search_bench_runs_on_a_tiny_data_set",)),
    (25, "test_fuzz.py", ("test_any_message_is_stored_and_rendered[0]",)),
    (25, "test_fuzz.py", ("test_any_message_is_stored_and_rendered[1]",)),
    (25, "test_fuzz.py", ("test_any_message_is_stored_and_rendered[2]",)),
    (23, "security/test_browser.py", ("test_every_page_is_inert_in_chromium[blur]",)),
    (21, "security/test_vnu.py", ("test_every_rendered_page_is_valid_html5[page]",)),
    (17, "security/test_browser.py", ("test_every_page_is_inert_in_chromium[split]",)),
    (17, "reliability/test_render_writes.py", ("test_a_killed_render_leaves_the_last_whole_page",)),
    (16, "security/test_vnu.py", ("test_every_rendered_page_is_valid_html5[blur]",)),
    (16, "security/test_vnu.py", ("test_every_rendered_page_is_valid_html5[split]",)),
    (11, "reliability/test_render_writes.py", ("test_concurrent_renders_each_write_whole_pages",)),
    (10, "etl/test_sync.py", ("test_a_failure_at_any_request_leaves_a_resumable_archive",)),
    (10, "render/test_rsmf.py", ("test_blurred_rsmf_names_nobody",)),
    (10, "test_login.py", ("test_a_sync_outlives_several_access_tokens",)),
    (10, "test_feedback.py", ("test_a_render_whose_filters_choose_nothing_says_so",)),
    (9, "test_login.py", ("test_the_listener_times_out_in_one_line_and_a_busy_port_is_said",)),
    (8, "test_fuzz.py", ("test_a_page_of_any_messages_becomes_rows",)),
)  # fmt: skip


def named(nodeid: str, name: str) -> bool:
    """Whether ``nodeid`` is the test ``name`` names: itself, or one of its parameters."""
    return nodeid == name or ("[" not in name and nodeid.startswith(name + "["))


def heavy_groups(collection: Sequence[str]) -> list[tuple[float, list[int]]]:
    """The collected tests ``HEAVY`` names, as (seconds, indices) per entry, in its order."""
    groups = []
    for seconds, path, names in HEAVY:
        indices = [
            i
            for name in names
            for i, nodeid in enumerate(collection)
            if named(nodeid, f"tests/{path}::{name}")
        ]
        if indices:
            groups.append((seconds, indices))
    return groups


class HeavyFirst(LoadScheduling):
    """xdist's ``load`` scheduling with ``HEAVY`` handed out before the first chunks."""

    def schedule(self) -> None:
        if self.collection is not None or not self._check_nodes_have_same_collection():
            super().schedule()  # a node added later, or collections that differ: as xdist does
            return
        collection = next(iter(self.node2collection.values()))
        groups = heavy_groups(collection)
        if not groups or len(collection) < 2 * len(self.nodes):
            super().schedule()
            return
        first = [i for _, indices in groups for i in indices]
        taken = set(first)
        self.collection = collection
        self.pending[:] = first + [i for i in range(len(collection)) if i not in taken]
        if self.maxschedchunk is None:
            self.maxschedchunk = len(collection)
        load = dict.fromkeys(self.nodes, 0.0)
        for seconds, indices in groups:  # longest first, each to the least loaded worker
            node = min(self.nodes, key=load.__getitem__)
            load[node] += seconds
            self._send_tests(node, len(indices))
        chunk = max(2, min(len(collection) // len(self.nodes) // 4, self.maxschedchunk))
        for node in self.nodes:
            self._send_tests(node, chunk)
        if not self.pending:
            for node in self.nodes:
                node.shutdown()

"""The Slack export's worker (render/slack.py) must not change a byte: the same ZIP, whole,
with the entries made and the days gathered in a forked worker as in one process; forked only
from FORK_FROM messages in the window; a failure in the worker fails the space as it does
in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.render.forked import FORKS, fresh

# Run in a fresh process: the suite's own has threads (emulator, browser), where render never
# forks. ``export`` writes the test space's ZIP with a fixed generation time (the ZIP's
# member times) and counts the tasks handed to the worker.
PRELUDE = """
import sys
from pathlib import Path
from render import query, slack, worker
from render.page import RenderOptions, build_page
from render.query import Filters
from tests.render.conftest import SPACE_ID
from tests.render.test_text_json import AMSTERDAM, GENERATED

archive, out = Path(sys.argv[1]), Path(sys.argv[2])
tasks = []
submit = worker.Worker.submit
worker.Worker.submit = lambda self, *task: (tasks.append(task), submit(self, *task))[1]


def export(name, filters=Filters(), **options):
    conn = query.connect(archive)
    space = query.find_spaces(conn, [SPACE_ID], False)[0]
    chosen = RenderOptions(zone=AMSTERDAM, output=out / name, filters=filters, **options)
    page = build_page(conn, archive, space, chosen, "slack", query.meta(conn))
    page.generated_at = GENERATED
    before = len(tasks)
    try:
        slack.write_slack(page)
        return page.path.read_bytes(), len(tasks) - before, page.stats["in_window"]
    finally:
        page.items.close()  # a failed writer leaves the row stream open
        conn.close()
"""

SAME_BYTES = (
    PRELUDE
    + """
slack.BATCH = 2  # many batches, the last one short or empty
for filters in (Filters(), Filters(since="2024-03-10", until="2024-03-11")):
    for blur in (False, True):
        slack.FORK_FROM = 1
        forked, handed_out, _ = export(f"forked-{blur}", filters, blur=blur)
        slack.can_fork = lambda: False
        alone, none, _ = export(f"alone-{blur}", filters, blur=blur)
        slack.can_fork = worker.can_fork
        assert none == 0, "in-process: no task handed out"
        assert forked == alone, (filters, blur)
        print(blur, handed_out > 2, len(forked) > 1000)
"""
)


@FORKS
def test_the_workers_give_the_same_zip_byte_for_byte(small_archive, tmp_path):
    """Batches of two messages (threads cut across batches, the thread started in one batch
    ending in the last), with and without --blur, all messages and a window whose thread
    starts are outside it: the whole ZIP is the same bytes."""
    result = fresh(SAME_BYTES, str(small_archive), str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["False True True", "True True True"] * 2


THRESHOLD = (
    PRELUDE
    + """
_, _, messages = export("count")
for fork_from in (messages + 1, messages):
    slack.FORK_FROM = fork_from
    data, handed_out, _ = export(f"from-{fork_from}")
    print(fork_from - messages, handed_out)
"""
)


@FORKS
def test_a_worker_is_forked_from_fork_from_messages_in_the_window(small_archive, tmp_path):
    """One message below FORK_FROM: no task leaves this process; at FORK_FROM the entries go
    out in one batch with the last mark, and each day file is asked for by a task of its own."""
    result = fresh(THRESHOLD, str(small_archive), str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["1 0", "0 13"]  # 1 batch, 12 day files


FAILURE = (
    PRELUDE
    + """
from render import slack_entries
spread = slack_entries._spread


def failing(message_id):
    if message_id == "msg-06":
        raise ValueError("a fault in the entries")
    return spread(message_id)


slack_entries._spread = failing  # the forked worker inherits it
for fork_from in (1, 10**9):
    slack.FORK_FROM = fork_from
    before = len(tasks)
    try:
        export(f"failed-{fork_from}")
    except ValueError as error:
        print(len(tasks) > before, error)
    print(sorted(p.name for p in (out / f"failed-{fork_from}").iterdir()))
"""
)


@FORKS
def test_an_error_in_the_worker_is_raised_here_as_in_process(small_archive, tmp_path):
    """A fault making one message's entry (an impossible time did it once; those are shown
    without a time now, tests/render/test_impossible_times.py): the worker's ValueError is
    raised in this process (the space fails in one line, as in-process), the worker is gone
    and no ZIP is left."""
    result = fresh(FAILURE, str(small_archive), str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    message = "a fault in the entries"
    assert result.stdout.splitlines() == [
        f"True {message}", "[]", f"False {message}", "[]"
    ]  # fmt: skip


def test_a_small_space_stays_in_one_process(small_archive, monkeypatch):
    """Below FORK_FROM (the default) the export forks nothing, even where it could."""
    from render import slack
    from tests.render.test_slack import export

    monkeypatch.setattr("render.slack.can_fork", lambda: True)
    monkeypatch.setattr(slack, "Worker", pytest.fail)  # forking would fail the test
    _, entries = export(small_archive)
    assert len([name for name in entries if name.startswith("project-falcon/")]) == 12


def test_render_writes_the_export_from_a_fresh_process(small_archive, tmp_path):
    """As a user runs it (one thread, so the worker is forked where it can): the same
    members as the in-process rendering."""
    import zipfile

    from tests.render.test_slack import export

    here, _ = export(small_archive)
    expected = zipfile.ZipFile(here)
    env_code = (
        "import atexit, runpy, sys; import render.slack as s; s.FORK_FROM = 1; "
        "forked = []; s.Worker = lambda *task, W=s.Worker: forked.append(1) or W(*task); "
        "atexit.register(lambda: print('forked', len(forked), file=sys.stderr)); "
        "sys.argv = ['webex-archive'] + sys.argv[1:]; "
        "runpy.run_module('webex_archive', run_name='__main__')"
    )
    command = ["render", "--all", "--format", "slack", "--tz", "Europe/Amsterdam"]
    result = fresh(env_code, "-q", "--archive", str(small_archive), *command,
                   "--output", str(tmp_path))  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "forked 1\n")
    written = zipfile.ZipFile(next(Path(tmp_path).glob("*.slack.zip")))
    assert written.namelist() == expected.namelist()
    for name in expected.namelist():
        assert written.read(name) == expected.read(name), name

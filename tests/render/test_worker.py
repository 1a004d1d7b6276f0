"""The forked worker (render/worker.py): results in order, errors carried back, no deadlock on
full pipes, and no way to outlive the process that forked it.

Every worker here is forked by a fresh ``python -c`` process, as ``webex-archive render`` forks
it: the suite's own process may have threads (emulator, browser), where forking is unsafe.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from render import worker
from tests.reliability.processes import running, wait_until
from tests.render.forked import fresh

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; the worker's Linux guarantees"
)


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return fresh(script, *args, timeout=60)


def test_fork_only_where_safe(monkeypatch):
    """A second thread, macOS, no fork, one core: in-process (the true case, a one-thread
    process on Linux, is tests/render/test_bodies.py's fresh process)."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not worker.can_fork()
    finally:
        stop.set()
        thread.join()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert worker.can_fork() == ((os.cpu_count() or 1) >= 2)
    with monkeypatch.context() as patch:
        patch.setattr(sys, "platform", "darwin")
        assert not worker.can_fork()
    with monkeypatch.context() as patch:
        patch.setattr(os, "cpu_count", lambda: 1)
        assert not worker.can_fork()
    monkeypatch.delattr(os, "fork")
    assert not worker.can_fork()


RESULTS = """
from render.worker import Worker
def work(n, payload):
    if n == 3:
        raise ValueError(f"bad task {n}")
    return n, payload + payload
size = 2 << 20  # far more than a pipe holds, both ways
with Worker(work) as w:
    for n in range(6):
        w.submit(n, bytes([n]) * size)  # none collected: a blocking feed would deadlock
    for n in range(6):
        try:
            got, payload = w.result()
            print(got, len(payload), payload == bytes([n]) * 2 * size)
        except ValueError as error:
            print("error", error)
"""


def test_results_in_order_errors_carried_and_no_deadlock():
    result = run(RESULTS)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"{n} {4 << 20} True" if n != 3 else "error bad task 3" for n in range(6)
    ]


MAP = """
from render.worker import Worker
def work(n):
    return n * n
made = []
def jobs():
    for n in range(7):
        made.append(n)
        yield f"job {n}", (n,)
with Worker(work) as w:
    for context, result in w.map(jobs(), 3):
        print(context, result, len(made))  # how far the jobs were read: at most 3 ahead
"""


def test_map_pairs_each_context_with_its_result_in_order_at_most_ahead_in_flight():
    result = run(MAP)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "job 0 0 3", "job 1 1 4", "job 2 4 5", "job 3 9 6", "job 4 16 7",
        "job 5 25 7", "job 6 36 7",
    ]  # fmt: skip


OVERLAP = """
import sys, time
from pathlib import Path
from render.worker import Worker
done = Path(sys.argv[1])
def work(n, payload):
    with done.open("a") as log:
        log.write(f"{n}\\n")
    return n
with Worker(work) as w:
    for n in range(3):
        w.submit(n, b"x" * (4 << 20))  # each far more than a pipe holds
    deadline = time.monotonic() + 30
    while len(done.read_text().split()) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)  # no result asked for: the worker must be fed meanwhile
    print(done.read_text().split())
    print([w.result() for _ in range(3)])
"""


def test_the_worker_is_fed_while_this_process_does_other_work(tmp_path):
    """Tasks reach the worker while the parent reads the next rows, not only while it waits
    for a result: otherwise the two processes take turns and the second core sits idle."""
    done = tmp_path / "done"
    done.write_text("")
    result = run(OVERLAP, str(done))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["['0', '1', '2']", "[0, 1, 2]"]


FDS = """
import os
from pathlib import Path
from render.worker import Worker
def descriptors():
    found = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            pass  # the listing's own descriptor, closed already
    return found
kept = open("/proc/self/stat")  # a file the worker must not inherit
with Worker(descriptors) as w:
    w.submit()
    theirs = {fd: target for fd, target in w.result().items() if fd > 2}
    mine = descriptors()
    tasks, results = mine[w._tasks], mine[w._results]
print(sorted(theirs.values()) == sorted([tasks, results]))
print(list(mine.values()).count(tasks), list(mine.values()).count(results))
"""


def test_the_worker_keeps_only_its_own_pipe_ends():
    """It holds neither the parent's ends of its pipes nor anything else the parent opened;
    the parent holds neither of the worker's ends."""
    result = run(FDS)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "True\n1 1\n")


DIES = """
import os, signal, time
from render import worker
from render.query import RenderError
w = worker.Worker(time.sleep)
os.kill(w.pid, signal.SIGKILL)
w.submit(0)
try:
    w.result()
except RenderError as error:
    print(error)
"""


def test_a_worker_killed_is_a_render_error():
    result = run(DIES)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "the process that sanitises message bodies ended unexpectedly (out of memory?): "
        "render again\n"
    )
    result = run(DIES.replace("Worker(time.sleep)", 'Worker(time.sleep, "deflates days")'))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "the process that deflates days ended unexpectedly (out of memory?): render again\n"
    )


EARLY = """
import os, time
from render.worker import Worker
started = time.monotonic()
try:
    with Worker(time.sleep) as w:
        w.submit(60)
        raise KeyError("the consumer failed")
except KeyError:
    pass
try:
    os.waitpid(w.pid, os.WNOHANG)
except ChildProcessError:
    print("reaped", time.monotonic() - started < 10)
"""


def test_leaving_early_ends_and_reaps_a_busy_worker():
    result = run(EARLY)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "reaped True\n")


ORPHAN = """
import sys, time
from render import worker
if sys.argv[1] == "eof":  # no PR_SET_PDEATHSIG: end-of-file on the task pipe must do
    def no_libc(*args, **kwargs):
        raise OSError("no prctl here")
    worker.ctypes.CDLL = no_libc
w = worker.Worker(time.sleep)
if sys.argv[1] == "busy":  # asleep in a task: only the kernel's signal can end it now
    w.submit(600)
print(w.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("how", ["eof", "busy"])
def test_a_worker_ends_with_its_killed_parent(how):
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHAN, how], stdout=subprocess.PIPE, text=True
    )
    pid = int(parent.stdout.readline())
    try:
        assert running(pid)
        parent.kill()
        parent.wait(timeout=10)
        assert wait_until(lambda: not running(pid), timeout=1), f"worker {pid} outlived it"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if running(pid):  # not to leave it to the rest of the suite
            os.kill(pid, signal.SIGKILL)


def test_a_parent_gone_before_the_worker_asked_is_noticed():
    """The race PR_SET_PDEATHSIG leaves: the parent died between fork and prctl. The worker
    sees a parent that is not the one it was forked by, and ends."""
    result = run("from render import worker\nworker._die_with(-1)\nprint('alive')")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


SINK = """
import os, signal, sys
from render.query import RenderError
from render.worker import Sink

def put(path, text):
    if text == "fail":
        raise ValueError("no room for " + path)
    with open(path, "a") as out:
        out.write(text)

folder = sys.argv[1]
with Sink(put) as sink:  # the tasks run in order, in the sink; finish waits for them all
    for n in range(2000):
        sink.submit(os.path.join(folder, "log"), f"{n},")
    sink.finish()
print(open(os.path.join(folder, "log")).read() == "".join(f"{n}," for n in range(2000)))
try:
    with Sink(put) as sink:  # an error ends the sink; the next submit or finish raises it
        sink.submit(folder, "fail")
        for n in range(100000):
            sink.submit(os.path.join(folder, "late"), "x" * 1000)
        sink.finish()
except ValueError as error:
    print(str(error) == "no room for " + folder, os.path.exists(folder + "/late"))
try:
    with Sink(put) as sink:  # killed: said in one line, not a hang
        os.kill(sink.pid, signal.SIGKILL)
        sink.finish()
except RenderError as error:
    print(error)
with Sink(put) as sink:  # left by an exception: killed and reaped at once
    sink.submit(os.path.join(folder, "log"), "more")
try:
    os.waitpid(sink.pid, os.WNOHANG)
except ChildProcessError:
    print("reaped")
"""


def test_a_sink_runs_tasks_in_order_and_raises_its_first_error_here(tmp_path):
    result = run(SINK, str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "True",
        "True False",
        "the process that writes the files ended unexpectedly (out of memory?): render again",
        "reaped",
    ]

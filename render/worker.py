"""A forked helper process that cannot outlive the process that forked it.

A render may end any way at all: finished, Ctrl-C, an exception, or SIGKILL from a timeout in
cron or systemd. A worker that outlived it would sleep forever, re-parented to init, holding
its memory (issue 19). So the worker ends when its parent does, by three independent means:

* it keeps only its own ends of its two pipes (every other descriptor is closed after the
  fork), so the parent's end of the task pipe closing, however the parent ends, is end-of-file
  to the worker, and a result it writes to a dead parent fails (works on every POSIX system);
* on Linux the kernel sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``);
* it checks that its parent is still the process that forked it, after asking for that
  signal: a parent that died in between would otherwise never send it.

Forking is only safe where the process is single-threaded (a fork copies locks another thread
may hold) and not on macOS, where system frameworks loaded before a fork can crash the child:
``can_fork`` says where. After the fork, a thread of this process writes the tasks while the
main thread builds the next chunk and reads results: a task is far larger than a pipe holds,
so a writer that only wrote while waiting for a result would leave the worker idle while rows
are read, and the two processes would take turns instead of working at once. Neither side can
block the other with a full pipe: each pipe has one reader that never waits on the other.

``Sink`` is the one-way kind (the mail writers: they write the mbox's parts, the EML files):
tasks go to it, nothing comes back until the end, so it needs no thread and is tied to its
parent in the same three ways.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import queue
import signal
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .query import RenderError

HEADER = struct.Struct("!Q")  # the length of the pickled message that follows
READ_SIZE = 1 << 20
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
T = TypeVar("T")


def can_fork() -> bool:
    """Whether forking a worker is safe and worth it here: a platform with ``fork`` other than
    macOS, two cores or more, and no thread besides this one."""
    if not hasattr(os, "fork") or sys.platform == "darwin" or (os.cpu_count() or 1) < 2:
        return False
    return threading.active_count() == 1


def _fork(
    loop: Callable[..., None], function: Callable[..., Any], keep: tuple[int, ...] = ()
) -> tuple[int, int, int]:
    """Fork a process that runs ``loop(function, tasks, results, parent, keep)`` and exits (it
    never returns into the caller's code); return its pid, the writing end of its task pipe
    and the reading end of its results. ``keep``: descriptors the process uses besides its
    pipes (a file it writes), which it keeps open."""
    parent = os.getpid()
    tasks_r, tasks_w = os.pipe()
    results_r, results_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            loop(function, tasks_r, results_w, parent, keep)
            code = 0
        finally:
            os._exit(code)
    os.close(tasks_r)
    os.close(results_w)
    return pid, tasks_w, results_r


class Worker:
    """One forked process that runs ``function(*task)`` for each task submitted, in order.

    Use it as a context manager: leaving it closes the pipes, so the worker ends, and reaps it
    (killing it first if tasks are still in flight, as after an exception)."""

    def __init__(self, function: Callable[..., Any], job: str = "sanitises message bodies"):
        self.pid, self._tasks, self._results = _fork(_serve, function)
        self.job = job  # what the process does, for the error that says it died
        self._in_flight = 0
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send, name="worker-tasks", daemon=True)
        self._sender.start()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, *task: Any) -> None:
        """Queue a task; the sender thread writes it to the worker."""
        self._outbox.put(pickle.dumps(task, pickle.HIGHEST_PROTOCOL))
        self._in_flight += 1

    def result(self) -> Any:
        """The result of the oldest task not yet collected (its exception re-raised here)."""
        message = _read_message(self._results)
        if message is None:
            raise RenderError(
                f"the process that {self.job} ended unexpectedly (out of memory?): render again"
            )
        ok, value = pickle.loads(message)
        self._in_flight -= 1
        if not ok:
            raise value
        return value

    def map(self, jobs: Iterable[tuple[T, tuple]], ahead: int) -> Iterator[tuple[T, Any]]:
        """Each job's ``context`` with its task's result, in order, for ``(context, task)``
        jobs; at most ``ahead`` tasks in flight, so memory stays flat for any number of jobs
        while this process makes the next job as the worker runs the last."""
        pending: deque[T] = deque()
        for context, task in jobs:
            self.submit(*task)
            pending.append(context)
            if len(pending) >= ahead:
                yield pending.popleft(), self.result()
        while pending:
            yield pending.popleft(), self.result()

    def close(self) -> None:
        if self._tasks < 0:
            return
        if self._in_flight:  # it may be busy with a chunk nobody will read
            os.kill(self.pid, signal.SIGKILL)  # a write the sender is blocked in fails too
        self._outbox.put(None)
        self._sender.join()
        os.close(self._tasks)  # end-of-file: an idle worker exits
        os.close(self._results)
        self._tasks = self._results = -1
        os.waitpid(self.pid, 0)

    def _send(self) -> None:
        """The sender thread: each task in order, until told to stop or the worker is gone
        (then reading its results says so)."""
        while (payload := self._outbox.get()) is not None:
            try:
                _write_all(self._tasks, payload)
            except OSError:  # BrokenPipeError: the worker ended; drop what is left
                while self._outbox.get() is not None:
                    pass
                return


class Sink:
    """One forked process that runs ``function(*task)`` for each task sent, answering only
    once, at the end: for work whose result is a side effect (files written), so that this
    process never waits for it until ``finish``.

    It has no sender thread (a task is written here; a full pipe makes this process wait for
    the sink, which only reads), so a ``Worker`` may still be forked after it (``can_fork``).
    The first error ends the sink; the next ``submit`` or ``finish`` raises it here.
    ``keep``: descriptors of this process the sink writes to (the mbox being written, a
    file of records), kept open in it where every other one is closed."""

    def __init__(self, function: Callable[..., Any], keep: tuple[int, ...] = ()):
        self.pid, self._tasks, self._results = _fork(_drain, function, keep)
        _widen(self._tasks)

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tasks >= 0:  # left by an exception: the work is abandoned
            os.kill(self.pid, signal.SIGKILL)
            self._end()

    def submit(self, *task: Any) -> None:
        try:
            _write_all(self._tasks, pickle.dumps(task, pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:  # the sink ended: its error says why
            self.finish()

    def finish(self) -> None:
        """Wait until every task is done; raise the error that ended the sink, if one did."""
        os.close(self._tasks)  # end-of-file: the sink answers and exits
        self._tasks = -1
        message = _read_message(self._results)
        self._end()
        if message is None:
            raise RenderError(
                "the process that writes the files ended unexpectedly (out of memory?): "
                "render again"
            )
        ok, value = pickle.loads(message)
        if not ok:
            raise value

    def _end(self) -> None:
        if self._tasks >= 0:
            os.close(self._tasks)
            self._tasks = -1
        os.close(self._results)
        os.waitpid(self.pid, 0)


def _widen(fd: int) -> None:
    """A 1 MB pipe where Linux allows it (64 kB by default): the writer fills it while the
    reader works, instead of waiting for it after every 64 kB."""
    try:
        import fcntl  # POSIX only, as fork is

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError):
        pass


def _drain(function: Callable[..., Any], tasks: int, results: int, parent: int,
           keep: tuple[int, ...]) -> None:  # fmt: skip
    """The sink's life: tied to its parent, it runs tasks until end-of-file or an error, then
    answers once."""
    _die_with(parent)
    _close_all_but(tasks, results, *keep)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.freeze()
    reply: tuple[bool, Any] = (True, None)
    try:
        while (task := _read_message(tasks)) is not None:
            function(*pickle.loads(task))
    except Exception as error:
        reply = (False, error)
    os.close(tasks)  # the parent's next submit fails at once
    with contextlib.suppress(BrokenPipeError):
        _write_all(results, pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))


def _serve(function: Callable[..., Any], tasks: int, results: int, parent: int,
           keep: tuple[int, ...]) -> None:  # fmt: skip
    """The worker's life: tied to its parent, it answers tasks until end-of-file."""
    _die_with(parent)
    _close_all_but(tasks, results, *keep)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.freeze()  # the inherited objects: never collected here (nor copied by the collector)
    while (task := _read_message(tasks)) is not None:
        try:
            reply = (True, function(*pickle.loads(task)))
        except Exception as error:
            reply = (False, error)
        try:
            _write_all(results, pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            return  # the parent is gone


def _die_with(parent: int) -> None:
    """Ask Linux for SIGKILL when the parent dies; then make sure it has not already."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # end-of-file on the task pipe still ends the worker
    if os.getppid() != parent:
        os._exit(0)


def _close_all_but(*keep: int) -> None:
    """Close every inherited descriptor except the standard ones and ``keep``: the parent's
    ends of these pipes above all, but also its files, database and other pipes."""
    try:
        top = max(int(name) for name in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        top = min(os.sysconf("SC_OPEN_MAX"), 1 << 16)
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, top)


def _read_message(fd: int) -> bytes | None:
    """One length-prefixed message, or None at end-of-file (the parent closed or died)."""
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    return _read_exactly(fd, HEADER.unpack(header)[0])


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, min(size - len(data), READ_SIZE))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]

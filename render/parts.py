"""One output file made by forked processes, batch and batch about, then put together in order.

The mail formats' CPU is in making the mails, so for a large space SINKS forked processes
(render/worker.py's ``Sink``) make them while this one reads the rows: render/mbox.py's mbox
and render/eml_zip.py's ZIP. Each sink appends its batches to a part file of its own beside
the output and writes a line per batch to its log: the batch's size in bytes first, then
whatever else the writer wants back (render/eml_zip.py: its count of mails and their newest
time). The batches are then copied into the output in the order they were handed out, by
the kernel where it can (``copy_file_range``: no trip through this process's memory; a read
of the page cache). The part files are temporary files of the archive's kind
(webex_layout's ``new_temp``: locked while their writer lives), removed after, or by the
next rendering of the space if this one is killed (render/output.py's ``clear_leftovers``).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol

from webex_layout import new_temp

from .mail import Task, write_all
from .worker import Sink


class Batches(Protocol):
    """What a sink runs: ``write`` makes one batch (into its part file, logged: ``log``);
    ``keep``: the descriptors it writes, kept open in the forked process."""

    keep: tuple[int, ...]

    def write(self, start: tuple | None, batch: list[tuple]) -> None: ...


def log(fd: int, *figures: int) -> None:
    """A batch's line in a sink's log: its size in bytes, then the writer's own figures."""
    write_all(fd, (" ".join(str(figure) for figure in figures) + "\n").encode("ascii"))


def fill(writers: list[Batches], tasks: Iterable[Task]) -> None:
    """Each task to the sinks in turn, a forked process per writer (for the parts: ``writers[n]``
    writing ``Parts.files[n]`` and ``Parts.logs[n]``; the EML folder's write files of their
    own); return once every sink is done."""
    with contextlib.ExitStack() as stack:
        sinks = [stack.enter_context(Sink(w.write, keep=w.keep)) for w in writers]
        for number, task in enumerate(tasks):
            sinks[number % len(sinks)].submit(*task)
        for sink in sinks:
            sink.finish()


@contextlib.contextmanager
def parts_beside(folder: Path, count: int) -> Iterator[Parts]:
    """``count`` part files in ``folder`` (the output's) with their logs, removed when the
    block is left, however it is left."""
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(_temporary(folder)) for _ in range(count)]
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(count)]
        yield Parts(files, logs)


class Parts:
    """Part files (``files``), each filled by a forked process with a log of its batches
    (``logs``), and put together in order."""

    def __init__(self, files: list[IO[bytes]], logs: list[IO[bytes]]):
        self.files, self.logs, self.count = files, logs, len(files)

    def copy(self, fd: int) -> Iterator[tuple[int, list[int]]]:
        """Each batch into the file ``fd`` (at its position), in the order the batches were
        handed out; yield, after each, the number of the part it came from and its log's
        figures (its size first)."""
        for part, journal in zip(self.files, self.logs, strict=True):
            os.lseek(part.fileno(), 0, os.SEEK_SET)
            journal.seek(0)
        lines = [iter(journal) for journal in self.logs]
        for number in itertools.count():
            part = number % self.count
            line = next(lines[part], None)
            if line is None:
                return
            figures = [int(figure) for figure in line.split()]
            _copy(self.files[part].fileno(), fd, figures[0])
            yield part, figures


@contextlib.contextmanager
def _temporary(folder: Path) -> Iterator[IO[bytes]]:
    """A temporary file in ``folder``, locked while open, removed after."""
    out, path = new_temp(folder)
    try:
        yield out
    finally:
        out.close()
        path.unlink(missing_ok=True)


def _copy(source: int, target: int, length: int) -> None:
    """``length`` bytes from the file ``source`` to ``target``, each at its position: by the
    kernel where it can (``copy_file_range``, Linux), else read and written."""
    while length:
        try:
            copied = os.copy_file_range(source, target, length)
        except (AttributeError, OSError):  # not Linux, or not between these two files
            data = os.read(source, min(length, 1 << 20))
            write_all(target, data)
            copied = len(data)
        if not copied:
            raise OSError("a part of the output ended before its recorded size: render again")
        length -= copied

"""The bytes of the .rsmf files: each manifest deflated into its zip, the message around it.

render/rsmf.py decides what each file holds (events, participants, attachments) and sends
``Zips`` commands, in order, one file at a time: ``start`` a day's zip, its ``events`` in
batches, ``end`` it with the manifest's tail, the files it attaches and the ``Summary`` its
message says; ``finish`` waits for the last. The message is written around the zip in
base64 chunks, so memory stays flat at any size; each finished message
is written (fsync, rename) by one of ``WORKERS`` threads while the next zip fills, so that
their fsyncs overlap. A zip is held in memory up to ``SPOOL`` bytes (most days' are a few
kB), beyond that in a file without a name in the space's folder: creating and removing a
named temporary file per day cost more than making its zip, and a nameless one is never
left behind, however the rendering ends.

Encoding the events, deflating and base64 are about a third of an RSMF rendering's CPU,
and the files' creation and fsyncs are most of its waiting. Done by threads of the
rendering process, they also slowed the reading of rows: every SQLite step releases the GIL,
and getting it back from a thread that is base64-encoding waits up to the switch interval
(a profile showed it as ``Window.rows`` taking 3.1 s against 0.6 s in other formats, whose
stepping alone is the same 0.5 CPU seconds). So for a large space ``Zips`` runs in a forked
``Sink`` (render/worker.py: it never outlives the render) on the other core, and its
threads live there; the commands reach it in order, so its files are the bytes this process
would write. A failed write fails the rendering; the zip being filled is removed either way.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from .json import dumps
from .rsmf_message import RSMF_VERSION, Summary, write_rsmf_message

MANIFEST = "rsmf_manifest.json"
WORKERS = 4  # messages written around their zips at once: their fsyncs overlap
SPOOL = 1 << 20  # bytes of a zip held in memory; a larger one goes on to a nameless file


class Zips:
    """The files of one rendering, written one after another into ``folder`` (already
    checked to be inside ``root``). Called as ``zips(command, *args)``: in this process, or
    as a ``Sink``'s function in a forked one (then its threads start there)."""

    def __init__(self, root: Path, folder: Path, collection: str):
        self.root, self.folder = root, folder
        self.head = (f'{{"version":"{RSMF_VERSION}","eventcollectionid":{dumps(collection)},'
                     '"events":[').encode()  # fmt: skip
        self.zip: _Zip | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.tasks: deque[Future] = deque()
        self.commands: dict[str, Callable[..., None]] = {
            "start": self.start, "events": self.events, "end": self.end,
            "finish": self.finish, "abandon": self.abandon,
        }  # fmt: skip

    def __call__(self, command: str, *args: Any) -> None:
        try:
            self.commands[command](*args)
        except BaseException:
            self.abandon()
            raise

    def start(self, day: str) -> None:
        """A new zip, its manifest entry open after the head (``day``: the entries' date)."""
        self.zip = _Zip(self.folder, day, self.head)

    def events(self, events: list[dict]) -> None:
        assert self.zip is not None
        self.zip.events(events)

    def end(self, participants: list[dict], conversation: dict,
            attached: list[tuple[Path, str]], summary: Summary) -> None:  # fmt: skip
        """Close the manifest and the zip (``attached``: each file and its name in the zip);
        a thread writes the message around it. At most 2 × WORKERS wait: finished zips do
        not pile up on disk."""
        assert self.zip is not None
        current, self.zip = self.zip, None
        data = current.close(participants, conversation, attached)
        if self.pool is None:
            self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="rsmf")
        self.tasks.append(self.pool.submit(_write, summary, self.root, data))
        while len(self.tasks) > 2 * WORKERS:
            self.tasks.popleft().result()

    def finish(self) -> None:
        """Wait for every message; the first failed write fails the rendering."""
        try:
            while self.tasks:
                self.tasks.popleft().result()
        finally:
            self._stop()

    def abandon(self) -> None:
        """After a failure: drop the zip being filled; the threads finish their files."""
        if self.zip is not None:
            self.zip.drop()
            self.zip = None
        for task in self.tasks:
            task.exception()  # waits; the failure is the one already being raised
        self.tasks.clear()
        self._stop()

    def _stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


def _write(summary: Summary, root: Path, data: IO[bytes]) -> None:
    """The message around the zip ``data`` (on a thread), then the zip dropped."""
    with data:
        write_rsmf_message(summary, root, data)


class _Zip:
    """One zip being made, its manifest entry streamed event batch by batch."""

    def __init__(self, folder: Path, day: str, head: bytes):
        self.day, self.written = day, 0
        self.handle = tempfile.SpooledTemporaryFile(SPOOL, dir=folder)  # noqa: SIM115 (see drop, _write)
        try:
            self.zip = zipfile.ZipFile(self.handle, "w", zipfile.ZIP_DEFLATED)
            self.out = self.zip.open(_entry(MANIFEST, day), "w", force_zip64=True)
            self.out.write(head)
        except BaseException:
            self.drop()
            raise

    def events(self, events: list[dict]) -> None:
        """One compressed write per batch, its events encoded together (``dumps`` of a list
        is its items' ``dumps`` joined by commas)."""
        if events:
            self.out.write(((",", "")[self.written == 0] + dumps(events)[1:-1]).encode())
            self.written += len(events)

    def close(self, participants: list[dict], conversation: dict,
              attached: list[tuple[Path, str]]) -> IO[bytes]:  # fmt: skip
        """The manifest's tail, the attached files, the zip's directory; the zip."""
        try:
            self.out.write(f'],"participants":{dumps(participants)},'
                           f'"conversations":[{dumps(conversation)}]}}'.encode())  # fmt: skip
            self.out.close()
            for source, name in attached:
                entry = self.zip.open(_entry(name, self.day), "w", force_zip64=True)
                with source.open("rb") as data, entry:
                    while chunk := data.read(1 << 20):
                        entry.write(chunk)
            self.zip.close()
        except BaseException:
            self.drop()
            raise
        return self.handle

    def drop(self) -> None:
        self.handle.close()


def _entry(name: str, day: str) -> zipfile.ZipInfo:
    """A zip entry dated the file's day (deterministic: the same archive gives the same zip),
    within what a zip can say: 1980 to 2107 (a message time can be anything)."""
    year, month, date = (int(part) for part in day.split("-")) if day else (1980, 1, 1)
    if not 1980 <= year <= 2107:
        year, month, date = (1980, 1, 1) if year < 1980 else (2107, 12, 31)
    info = zipfile.ZipInfo(name, (year, month, date, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info

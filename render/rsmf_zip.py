"""The bytes of the .rsmf files: each manifest deflated into its zip, the message around it.

render/rsmf.py decides what each file holds (events, participants, attachments) and sends
``Zips`` commands, in order, one file at a time: ``start`` a day's zip, its ``events`` (in
batches, encoded here as JSON), ``end`` it with the manifest's tail, the files it attaches
and the ``Summary`` its message says; ``finish`` waits for the last. The message is written
around the zip in base64 chunks to a temporary file, so memory stays flat at any size. A
zip is held in memory up to ``SPOOL`` bytes (most days' are a few kB), beyond that in a
file without a name in the space's folder: creating and removing a named temporary file
per day cost more than making its zip, and a nameless one is never left behind, however
the rendering ends.

Each finished file is synced and renamed by one of ``WORKERS`` threads while the next zip
fills: fsyncs that run at once share the file system's journal commits (one at a time: 150
to 280 files a second here; four at once: 1,500 to 2,200). The threads only wait on the
disk; every byte is made by the calling thread, so they hardly ever hold the GIL.

Deflating, base64 and writing the files are about a third of an RSMF rendering's CPU. Done
by threads of the rendering process, they also slowed the reading of rows: every SQLite step
releases the GIL, and taking it back from a thread that holds it waits up to the switch
interval (a profile showed it as ``Window.rows`` taking 3.1 s where other formats take
0.6 s; the stepping alone is 0.5 CPU seconds, with or without the revision queries between
steps). So for a large space ``Zips`` runs in forked ``Sink``s (render/worker.py: they never
outlive the render), each with its own threads, each making every other file; a file's
commands reach its sink in order, so its bytes are the ones this process would write. A
failed write fails the rendering; the zip and the file being made are removed either way.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from webex_layout import commit

from .json import dumps
from .output import begin_binary, identity
from .rsmf_message import RSMF_VERSION, Summary, write_rsmf_message

MANIFEST = "rsmf_manifest.json"
WORKERS = 4  # files synced and renamed at once: their fsyncs overlap
SPOOL = 1 << 20  # bytes of a zip held in memory; a larger one goes on to a nameless file


class Zips:
    """The files of one rendering, written one after another into ``folder`` (already
    checked to be inside ``root``). Called as ``zips(command, *args)``: in this process, or
    as a ``Sink``'s function in a forked one (then its threads start there)."""

    def __init__(self, root: Path, folder: Path, collection: str):
        self.root, self.folder = root, folder
        self.place = identity(folder)  # checked to be inside ``root`` (render/rsmf.py)
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

    def events(self, events: list[dict], more: bool) -> None:
        """A batch of events into the manifest (``more``: after an earlier batch). ``dumps``
        of a list is its items' ``dumps`` joined by commas: the batches make one list."""
        assert self.zip is not None
        text = dumps(events)[1:-1]
        self.zip.events(("," + text if more else text).encode())

    def end(self, participants: list[dict], conversation: dict,
            attached: list[tuple[Path, str]], summary: Summary) -> None:  # fmt: skip
        """Close the manifest and the zip (``attached``: each file and its name in the zip),
        write the message around it to a temporary file; a thread syncs and renames that
        (at most 2 × WORKERS wait, so that temporary files do not pile up)."""
        assert self.zip is not None
        current, self.zip = self.zip, None
        data = current.close(participants, conversation, attached)
        with data:
            out, temp = begin_binary(summary.path, self.root, self.place)
            try:
                write_rsmf_message(summary, out, data)
            except BaseException:
                out.close()
                temp.unlink(missing_ok=True)
                raise
        if self.pool is None:
            self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="rsmf")
        self.tasks.append(self.pool.submit(commit, out, temp, summary.path))
        while len(self.tasks) > 2 * WORKERS:
            self.tasks.popleft().result()

    def finish(self) -> None:
        """Wait for every file; the first failed write fails the rendering."""
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


class _Zip:
    """One zip being made, its manifest entry streamed event batch by batch."""

    def __init__(self, folder: Path, day: str, head: bytes):
        self.day = day
        self.handle = tempfile.SpooledTemporaryFile(SPOOL, dir=folder)  # noqa: SIM115 (see drop, _write)
        try:
            self.zip = zipfile.ZipFile(self.handle, "w", zipfile.ZIP_DEFLATED)
            self.out = self.zip.open(_entry(MANIFEST, day), "w", force_zip64=True)
            self.out.write(head)
        except BaseException:
            self.drop()
            raise

    def events(self, data: bytes) -> None:
        """A batch of encoded events (after the first, starting with a comma)."""
        self.out.write(data)

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

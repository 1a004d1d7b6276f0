"""The day files of the Slack export (render/slack.py): messages in, one file per day out.

The page streams threads in display order; a day file needs its day's messages in time
order. So the entries (render/slack_entries.py) are gathered in a temporary SQLite file, and
each day's file is made from it in day order once the page has ended: memory stays flat at
any size. ``Days`` does both, as tasks: ``add`` takes a batch of messages' fields, ``file``
gives the next day's file. The writer runs the tasks here or, for a large space, in a forked
worker (render/worker.py) while it reads the items and writes the ZIP: the same code either
way, so the same bytes. The temporary file is opened by the process that runs the tasks (a
SQLite connection must not cross a fork) and is deleted as soon as it is opened (SQLite's
private temporary file), so a killed worker leaves nothing behind.
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from collections.abc import Iterator

from .slack_entries import Entries, Fields

DayFile = tuple[str, bytes]  # (local day, the file's bytes)


class Days:
    """One export's days while they are gathered, then written."""

    def __init__(self, entries: Entries):
        self.entries = entries
        self.seen: set[str] = set()  # the days with entries (a few thousand at most)
        self._db: sqlite3.Connection | None = None
        self._files: Iterator[DayFile] | None = None

    def task(self, name: str, *args: object) -> object:
        """Run one task by name (the worker's one function): ``add`` or ``file``."""
        if name == "add":
            return self.add(*args)  # type: ignore[arg-type]
        return self.file()

    def add(self, messages: list[Fields], last: bool) -> int:
        """Gather a batch's entries (``last``: the page ends with it); return how many day
        files there are so far."""
        rows = self.entries.batch(messages, last)
        self.db.executemany("INSERT INTO entries VALUES (?, ?, ?)", rows)
        self.seen.update(day for day, _, _ in rows)
        return len(self.seen)

    def file(self) -> DayFile:
        """The next day's file, in day order, its messages in time order."""
        if self._files is None:
            self._files = self.files()
        return next(self._files)

    def files(self) -> Iterator[DayFile]:
        rows = self.db.execute("SELECT day, json FROM entries ORDER BY day, ts")
        for day, entries in itertools.groupby(rows, key=operator.itemgetter(0)):
            yield day, ("[\n" + ",\n".join(text for _, text in entries) + "\n]\n").encode()

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect("")  # a private temporary file, deleted once opened
            self._db.execute("PRAGMA journal_mode = OFF")  # nothing to roll back: dropped
            self._db.execute("CREATE TABLE entries (day TEXT, ts TEXT, json TEXT)")
            # Kept as the entries come (where the worker has time to spare), so the first day
            # file needs no sort of them all first; two entries of one ts (the same
            # millisecond and id digits) stay in the order they came, by rowid.
            self._db.execute("CREATE INDEX entries_order ON entries (day, ts)")
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

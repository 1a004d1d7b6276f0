"""The EML ZIP writer: ``--format eml``'s mails as members of one ``<stem>-eml.zip``.

Review platforms (Relativity, Nuix, Everlaw…) and compliance archives take a ZIP of .eml
files as readily as a folder, and one file is what a custodian hashes, copies and hands
over; a folder of 110,000 files costs the kernel 3.7-11 CPU seconds to create before any
mail is made. So ``--format eml-zip`` writes the mails ``--format eml`` writes, byte for
byte (render/mail.py's, CRLF, the same names ``YYYYMMDDTHHMMSSZ-<16 hex>.eml``), each a
member under the folder ``<stem>-eml/`` (then that folder's own entry, dated as its newest
mail), so unzipping it gives the EML folder. Members are in page order (threads together),
each dated by its message's UTC time (render/zip_stream.py: DOS time and the extended
timestamp), so the same archive and options give the same bytes.

How it is made: as the mbox is (render/mbox.py). For a large space SINKS forked processes
make the mails, batch and batch about, each writing a member's local header and data into
its part file (render/parts.py; a local header holds no absolute offset, so parts can be put
together in any place) and a fixed-size record per member (``RECORD``: its CRC, sizes,
offset within the part, time and name) into a temporary file. This process copies the
batches into the ZIP in order, then streams the central directory from the records, a batch
at a time (a million members' entries are never in memory), then the end records. A small
window is made here, straight into the ZIP. The ZIP is written under a temporary name and
renamed when whole (webex_layout's ``atomic_write``); the custody statement hashes it as it
does the mbox.

Why the members are stored, not deflated: each mail is deflated alone (a member is a stream
of its own), and a mail is about 1.4 kB, so deflate's work per block (its Huffman tables)
is most of its cost: at 100,000 messages it cost 4.6 CPU seconds more (13.7 against 9.1;
level 6 the same) for a ZIP 0.55 times the size (benchmarks/RESULTS.md), where the goal of
10 times the ``sqlite3`` floor leaves about 1. Stored mails compress well across members:
gzip of the whole ZIP, for a transfer, made it 6.6 times smaller (158.7 MB to 24.2 MB).
"""

from __future__ import annotations

import calendar
import contextlib
import tempfile
from datetime import date, timezone
from typing import IO

from webex_layout import atomic_write

from .clock import parse_utc
from .mail import FORK_FROM, SINKS, Maker, eml_name, tasks, write_all
from .page import Page
from .parts import fill, log, parts_beside
from .settle import settling
from .worker import can_fork
from .zip_stream import (
    DOS_FIRST,
    DOS_LAST,
    RECORD,
    Entry,
    Stamp,
    central_directory,
    central_header,
    end_records,
    member,
    stamp,
)

READ = 1024  # records turned into central directory entries at a time
DAYS = 4096  # days whose dates a writer keeps (``_Times``): some 0.5 MB
_NAMED = len("20240305T081500Z-0123456789abcdef.eml")  # a name that says a whole UTC second


class _Members(Maker):
    """Makes a batch's mails and writes each as a ZIP member at the end of the file ``fd``
    (the ZIP, or a forked process's part of it), its record to ``records``, and, into a part,
    the batch's size, count and newest time to ``journal`` (render/parts.py's ``log``)."""

    def __init__(self, page: Page, fd: int, records: int, journal: int | None = None):
        super().__init__(page, "\r\n")
        self.fd, self.records, self.journal = fd, records, journal
        self.keep = (fd, records) if journal is None else (fd, records, journal)
        self.prefix = folder_name(page)
        self.times = _Times()
        self.position = self.count = self.newest = 0  # what this writer has written

    def write(self, start: tuple | None, batch: list[tuple]) -> None:
        chunk, records, newest, position = [], [], 0, self.position
        prefix, folder, times = self.prefix, len(self.prefix), self.times
        for item, data in self.mails(start, batch):
            short = eml_name(item)
            when = times.stamp(short, item.created)
            name = prefix + short.encode("ascii")
            header, entry = member(name, data, when, position, folder)
            chunk += (header, data)
            records.append(entry)
            position += len(header) + len(data)
            if when[0] > newest:
                newest = when[0]
        write_all(self.fd, b"".join(chunk))
        write_all(self.records, b"".join(records))
        if self.journal is not None:
            log(self.journal, position - self.position, len(records), newest)
        self.position, self.count = position, self.count + len(records)
        self.newest = max(self.newest, newest)


Batches = list[tuple[int, int, int]]  # (records file, what to add to its offsets, members)


def write_eml_zip(page: Page) -> None:
    """Every mail of ``page`` into one ZIP, streamed; for a large space SINKS forked
    processes make the members while this one reads the rows; the bytes are the same."""
    forked = page.stats.get("in_window", 0) >= FORK_FROM and can_fork()
    with atomic_write(page.path, page.root, text=False) as out, contextlib.ExitStack() as stack:
        out.flush()  # nothing buffered: the members go to the file's descriptor itself
        fd = out.fileno()
        records = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(SINKS)]
        if forked:
            batches, end, newest = _in_parts(page, fd, records)
            with settling(fd, end) as behind:  # the members hashed and synced meanwhile
                _finish(fd, folder_name(page), records, batches, end, newest)
                page.digests[page.path] = behind.digest()
        else:
            writer = _Members(page, fd, records[0].fileno())
            for task in tasks(page.items):
                writer.write(*task)
            batches, end = [(0, 0, writer.count)], writer.position
            _finish(fd, folder_name(page), records, batches, end, writer.newest)


def _in_parts(page: Page, fd: int, records: list[IO[bytes]]) -> tuple[Batches, int, int]:
    """The members by SINKS forked processes into parts, copied into the ZIP ``fd`` in
    order; returns each batch's records (which file, the offset to add, how many), where
    the members end, and the newest member's time."""
    with parts_beside(page.path.parent, SINKS) as parts:
        writers = [_Members(page, part.fileno(), out.fileno(), journal.fileno())
                   for part, out, journal in zip(parts.files, records, parts.logs,
                                                 strict=True)]  # fmt: skip
        fill(writers, tasks(page.items))
        batches: Batches = []
        end, newest, starts = 0, 0, [0] * SINKS  # in the ZIP; in each part
        for part, (size, count, latest) in parts.copy(fd):
            batches.append((part, end - starts[part], count))
            starts[part] += size
            end += size
            newest = max(newest, latest)
    return batches, end, newest


def _finish(fd: int, prefix: bytes, records: list[IO[bytes]], batches: Batches, end: int,
            newest: int) -> None:  # fmt: skip
    """After the members (which end at ``end``): the folder's own entry, the central
    directory from the records, READ members at a time, and the end records."""
    header, _ = member(prefix, b"", stamp(newest), end, len(prefix))
    write_all(fd, header)
    start = end + len(header)
    size = count = 0
    for out in records:
        out.seek(0)
    for part, shift, members in batches:
        while members:
            take = min(members, READ)
            data = records[part].read(take * RECORD.size)
            if len(data) != take * RECORD.size:
                raise OSError("the records of the ZIP's members ended early: render again")
            entries = central_directory(data, prefix, shift)
            write_all(fd, entries)
            size, count, members = size + len(entries), count + take, members - take
    entries = central_header(Entry(prefix, 0, 0, end, stamp(newest)))  # the folder
    write_all(fd, entries + end_records(count + 1, start, size + len(entries)))


def folder_name(page: Page) -> bytes:
    """``<stem>-eml/``: the folder the members are in, named as ``--format eml`` names its
    folder beside this ZIP (``<stem>-eml.zip``), as the ZIP stores it (UTF-8)."""
    return (page.path.name.removesuffix(".zip") + "/").encode("utf-8", "surrogateescape")


class _Times:
    """Each member's ``Stamp``: the UTC second its name says (render/mail.py's ``eml_name``:
    ``20240305T081500Z-…``, the message's time), what a day's members share made once
    (``days``: its midnight and MS-DOS date); a name without one (a message with no time,
    or a time in another form) from the message's time."""

    def __init__(self) -> None:
        self.days: dict[str, tuple[int, int] | None] = {}

    def stamp(self, name: str, created: str | None) -> Stamp:
        day = self.days.get(name[:8], False) if len(name) == _NAMED else None
        if day is False:
            if len(self.days) >= DAYS:
                self.days.clear()
            day = self.days[name[:8]] = _day(name[:8])
        if day is not None:
            hour, rest = divmod(int(name[9:15]), 10000)  # HHMMSS: one conversion, not three
            minute, second = divmod(rest, 100)
            if hour < 24 and minute < 60 and second < 60:
                mtime = day[0] + hour * 3600 + minute * 60 + second
                return mtime, hour << 11 | minute << 5 | second >> 1, day[1]
        return stamp(seconds(created))


def _day(digits: str) -> tuple[int, int] | None:
    """The midnight (UTC seconds) and MS-DOS date of a day's ``YYYYMMDD``, if it is one
    MS-DOS's dates hold."""
    try:
        midnight = calendar.timegm(
            date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).timetuple()
        )
    except ValueError:
        return None
    if not DOS_FIRST <= midnight <= DOS_LAST - 86398:
        return None
    return midnight, stamp(midnight)[2]


def seconds(created: str | None) -> int:
    """A message's UTC time in whole seconds since 1970 (0 when it has none: the time its
    mail's name says, render/mail.py's ``eml_name``)."""
    if not created:
        return 0
    moment = parse_utc(created)
    if moment.tzinfo is None:  # the archive's times are UTC, with or without their Z
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() // 1)

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
"""

from __future__ import annotations

import contextlib
import struct
import tempfile
from collections.abc import Iterator
from datetime import timezone
from typing import IO

from webex_layout import atomic_write

from .clock import parse_utc
from .mail import FORK_FROM, SINKS, Maker, eml_name, tasks, write_all
from .page import Page
from .parts import log, parts_beside
from .worker import can_fork
from .zip_stream import Entry, central_header, end_records, folder, member

# A member as its writer records it: CRC-32, compressed and real size, offset of its local
# header in the writer's file (a part, or the ZIP), method, UTC time, length of its name,
# its name in the folder (render/mail.py's ``eml_name``: 37 ASCII characters at most).
RECORD = struct.Struct("<IQQQBqB40s")
READ = 1024  # records turned into central directory entries at a time


class _Members(Maker):
    """Makes a batch's mails and writes each as a ZIP member at the end of the file ``fd``
    (the ZIP, or a forked process's part of it), its record to ``records``, and, into a part,
    the batch's size, count and newest time to ``journal`` (render/parts.py's ``log``)."""

    def __init__(self, page: Page, fd: int, records: int, journal: int | None = None):
        super().__init__(page, "\r\n")
        self.fd, self.records, self.journal = fd, records, journal
        self.keep = (fd, records) if journal is None else (fd, records, journal)
        self.prefix = member_folder(page).encode("utf-8", "surrogateescape")
        self.position = self.count = self.newest = 0  # what this writer has written

    def write(self, start: tuple | None, batch: list[tuple]) -> None:
        chunk, records, newest, position = [], [], 0, self.position
        for item, data in self.mails(start, batch):
            name = eml_name(item).encode("ascii")
            mtime = seconds(item.created)
            entry, header = member(self.prefix + name, data, mtime)
            chunk += (header, data)
            records.append(RECORD.pack(entry.crc, entry.compressed, entry.size, position,
                                       entry.method, mtime, len(name), name))  # fmt: skip
            position += len(header) + entry.compressed
            newest = max(newest, mtime)
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
        else:
            writer = _Members(page, fd, records[0].fileno())
            for task in tasks(page.items):
                writer.write(*task)
            batches, end, newest = [(0, 0, writer.count)], writer.position, writer.newest
        _finish(fd, member_folder(page), records, batches, end, newest)


def _in_parts(page: Page, fd: int, records: list[IO[bytes]]) -> tuple[Batches, int, int]:
    """The members by SINKS forked processes into parts, copied into the ZIP ``fd`` in
    order; returns each batch's records (which file, the offset to add, how many), where
    the members end, and the newest member's time."""
    with parts_beside(page.path.parent, SINKS) as parts:
        writers = [_Members(page, part.fileno(), out.fileno(), journal.fileno())
                   for part, out, journal in zip(parts.files, records, parts.logs,
                                                 strict=True)]  # fmt: skip
        parts.fill(writers, tasks(page.items))
        batches: Batches = []
        end, newest, starts = 0, 0, [0] * SINKS  # in the ZIP; in each part
        for part, (size, count, latest) in parts.copy(fd):
            batches.append((part, end - starts[part], count))
            starts[part] += size
            end += size
            newest = max(newest, latest)
    return batches, end, newest


def _finish(fd: int, name: str, records: list[IO[bytes]], batches: Batches, end: int,
            newest: int) -> None:  # fmt: skip
    """After the members (which end at ``end``): the folder's own entry, the central
    directory from the records, batch after batch, and the end records."""
    prefix = name.encode("utf-8", "surrogateescape")
    last, header = folder(prefix, newest)
    last = last._replace(offset=end)
    write_all(fd, header)
    start = end + len(header)
    size = count = 0
    for out in records:
        out.seek(0)
    for part, shift, members in batches:
        for entries in _entries(records[part], prefix, shift, members):
            data = b"".join(central_header(entry) for entry in entries)
            write_all(fd, data)
            size, count = size + len(data), count + len(entries)
    data = central_header(last)
    write_all(fd, data + end_records(count + 1, start, size + len(data)))


def _entries(records: IO[bytes], prefix: bytes, shift: int, count: int) -> Iterator[list[Entry]]:
    """The next ``count`` members of a records file as central directory entries, READ at
    a time: their names under ``prefix``, their offsets moved by ``shift``."""
    while count:
        take = min(count, READ)
        data = records.read(take * RECORD.size)
        if len(data) != take * RECORD.size:
            raise OSError("the records of the ZIP's members ended early: render again")
        yield [Entry(prefix + name[:length], crc, compressed, size, offset + shift, method, mtime)
               for crc, compressed, size, offset, method, mtime, length, name
               in RECORD.iter_unpack(data)]  # fmt: skip
        count -= take


def member_folder(page: Page) -> str:
    """``<stem>-eml/``: the folder the members are in, named as ``--format eml`` names its
    folder beside this ZIP (``<stem>-eml.zip``)."""
    return page.path.name.removesuffix(".zip") + "/"


def seconds(created: str | None) -> int:
    """A message's UTC time in whole seconds since 1970 (0 when it has none: the time its
    mail's name says, render/mail.py's ``eml_name``)."""
    if not created:
        return 0
    moment = parse_utc(created)
    if moment.tzinfo is None:  # the archive's times are UTC, with or without their Z
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() // 1)

"""A ZIP file written as a stream, by the book (PKWARE's APPNOTE.TXT 6.3.x), from parts.

The standard library's ``zipfile`` writes a whole archive from one process and keeps a
``ZipInfo`` per member until it writes the central directory at the end. The EML ZIP
(render/eml_zip.py) is made otherwise: forked processes make the members into part files
that are put together later (render/parts.py), and a million members' entries must not be
held in memory. Both work because a member's **local header** holds no absolute offset: a
member is the same bytes wherever it lands, and only its **central directory entry** says
where (``Entry.offset``), so the central directory is written last, entry by entry, from
records kept on disk.

What is written, per APPNOTE:

* each member: a local file header (4.3.7) with its CRC-32 and both sizes known before it
  (the data is made first, so no data descriptor, flag bit 3), its name (UTF-8, flag bit 11,
  where it is not ASCII), the extended timestamp (Info-ZIP's 0x5455: the UTC modification
  time, which unzip, 7-Zip and libarchive show as it is), then its data, stored;
* the central directory (4.3.12), one entry per member in the order of the members, made by
  "Unix" (its external attributes are a mode: 0644 files, 0755 folders);
* ZIP64 where a value does not fit (4.3.14-4.3.16, 4.5.3): an entry whose size or offset is
  ``LIMIT`` or more carries the ZIP64 extra field with exactly the values its 32-bit fields
  mark as 0xFFFFFFFF, in APPNOTE's order, and needs version 4.5 (else 2.0); the archive gets
  the ZIP64 end of central directory record and its locator when its count of entries is
  ``COUNT_LIMIT`` or more or its central directory's size or offset is ``LIMIT`` or more.
  A value equal to the mark is escaped too: the mark means "see ZIP64" to a reader.

The DOS date and time of a member (2-second steps, 1980 to 2107) are its UTC time, clamped
to that range; the extended timestamp has the exact second. Nothing depends on the clock of
the machine: the same members give the same bytes.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

STORED = 0  # the compression method (4.4.5): none; render/eml_zip.py says why
MARK, COUNT_MARK = 0xFFFFFFFF, 0xFFFF  # a 32-bit or 16-bit field's "see the ZIP64 field"
LIMIT = MARK  # a size or offset this large does not fit its 32-bit field: ZIP64
COUNT_LIMIT = COUNT_MARK  # a count of entries this large does not fit its 16-bit field: ZIP64
UNIX = 3 << 8  # "version made by": the host whose file attributes the entries carry (4.4.2)
FILE, FOLDER = 0o100644 << 16, (0o040755 << 16) | 0x10  # external attributes (and MS-DOS's)
UTF8 = 1 << 11  # general purpose flag: the name is UTF-8 (4.4.4, appendix D)
DOS_FIRST, DOS_LAST = 315532800, 4354819198  # 1980-01-01 00:00:00, 2107-12-31 23:59:58 UTC
_TIME_LAST = 0x7FFFFFFF  # the extended timestamp's largest value read alike signed or unsigned
NAME = 48  # bytes of a member's name after its folder that a record holds
# What the central directory needs of a member besides its folder and where it lands, fixed
# size: CRC-32, size, offset (in the file its writer wrote), flags, DOS time and date,
# extended timestamp, then the name after the folder.
RECORD = struct.Struct(f"<IQQHHHIB{NAME}s")

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 4.3.7
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 4.3.12
_END = struct.Struct("<4sHHHHIIH")  # 4.3.16
_END64 = struct.Struct("<4sQHHIIQQQQ")  # 4.3.14
_LOCATOR = struct.Struct("<4sIQI")  # 4.3.15
_TIMESTAMP = struct.Struct("<HHBI")  # Info-ZIP's extended timestamp, the mtime only


Stamp = tuple[int, int, int]  # a member's time: UTC seconds since 1970, MS-DOS's time and date


class Entry(NamedTuple):
    """One member as the central directory lists it (stored: its size in the archive is
    its size)."""

    name: bytes  # as stored: UTF-8, ``/``-separated; a folder's ends with ``/``
    crc: int
    size: int
    offset: int  # where its local header starts in the archive
    when: Stamp


def member(name: bytes, data: bytes, when: Stamp, offset: int,
           folder: int) -> tuple[bytes, bytes]:  # fmt: skip
    """The local header of a member holding ``data`` (stored as it is), and its ``RECORD``
    (``offset``: where that header is in the file it is written to; its name after its first
    ``folder`` bytes, the folder the members share, which ``central_directory`` puts back).
    One call a member, no object made: it runs 100,000 times for 100,000 mails."""
    crc, size = zlib.crc32(data), len(data)
    mtime, dos_time, dos_date = when
    flags = 0 if name.isascii() else _flags(name)  # (the test, inline: most names are ASCII)
    short = name[folder:]
    if len(short) > NAME:
        raise ValueError(f"a member's name is longer than a record holds: {short!r}")
    if not 0 <= mtime <= _TIME_LAST:
        mtime = _timestamp(mtime)
    if size < LIMIT:
        header = _local(len(name)).pack(b"PK\x03\x04", 20, flags, STORED, dos_time, dos_date,
                                        crc, size, size, len(name), _TIMESTAMP.size, name,
                                        0x5455, 5, 1, mtime)  # fmt: skip
    else:  # 4.5.3: the ZIP64 extra field with both sizes, the 32-bit fields marked
        extra = struct.pack("<HHQQ", 1, 16, size, size) + _TIMESTAMP.pack(0x5455, 5, 1, mtime)
        header = _LOCAL.pack(b"PK\x03\x04", 45, flags, STORED, dos_time, dos_date, crc, MARK,
                             MARK, len(name), len(extra)) + name + extra  # fmt: skip
    return header, RECORD.pack(crc, size, offset, flags, dos_time, dos_date, mtime, len(short),
                               short)  # fmt: skip


def central_directory(records: bytes, folder: bytes, shift: int) -> bytes:
    """The central directory entries of the members ``records`` holds (``RECORD``s), their
    names under ``folder``, their offsets moved by ``shift``: where the file their writer
    wrote starts in the archive."""
    entries, packs = [], {}  # packs: by the length of a name after the folder
    for crc, size, offset, flags, dos_time, dos_date, mtime, length, short in RECORD.iter_unpack(
        records
    ):
        offset += shift
        if size < LIMIT and offset < LIMIT:  # one pack: 1 µs, where central_header takes 4
            pack = packs.get(length) or packs.setdefault(length, _central(len(folder), length))
            # the name is the folder, then ``short`` (a record's 48 bytes) cut to ``length``
            entries.append(pack(
                b"PK\x01\x02", UNIX | 20, 20, flags, STORED, dos_time, dos_date, crc, size,
                size, len(folder) + length, _TIMESTAMP.size, 0, 0, 0, FILE, offset, folder,
                short, 0x5455, 5, 1, mtime))  # fmt: skip
        else:
            entries.append(central_header(Entry(folder + short[:length], crc, size, offset,
                                                (mtime, dos_time, dos_date))))  # fmt: skip
    return b"".join(entries)


def central_header(entry: Entry) -> bytes:
    """The central directory entry of ``entry`` (4.3.12), with the ZIP64 extra field where
    one of its values needs it: those of size, compressed size and offset that do not fit,
    in that order (4.5.3)."""
    size, offset = entry.size, entry.offset
    wide = [size, size] if size >= LIMIT else []
    if offset >= LIMIT:
        wide.append(offset)
    mtime, dos_time, dos_date = entry.when
    extra = _TIMESTAMP.pack(0x5455, 5, 1, _timestamp(mtime))
    version = 20
    if wide:
        extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) + extra
        version = 45
    attributes = FOLDER if entry.name.endswith(b"/") else FILE
    size, offset = (MARK if size >= LIMIT else size), (MARK if offset >= LIMIT else offset)
    header = _CENTRAL.pack(b"PK\x01\x02", UNIX | version, version, _flags(entry.name),
                           STORED, dos_time, dos_date, entry.crc, size, size, len(entry.name),
                           len(extra), 0, 0, 0, attributes, offset)  # fmt: skip
    return b"".join((header, entry.name, extra))


def end_records(count: int, start: int, size: int) -> bytes:
    """What ends the archive after its central directory of ``count`` entries, ``size``
    bytes from ``start``: the ZIP64 end record and its locator where one of those values
    needs them (4.3.14, 4.3.15), then the end of central directory record (4.3.16)."""
    wide = count >= COUNT_LIMIT or size >= LIMIT or start >= LIMIT
    records = []
    if wide:
        end64 = start + size  # where the ZIP64 end record starts
        records.append(_END64.pack(b"PK\x06\x06", _END64.size - 12, UNIX | 45, 45, 0, 0,
                                   count, count, size, start))  # fmt: skip
        records.append(_LOCATOR.pack(b"PK\x06\x07", 0, end64, 1))
    count = COUNT_MARK if count >= COUNT_LIMIT else count  # what does not fit: "see ZIP64"
    size, start = (MARK if size >= LIMIT else size), (MARK if start >= LIMIT else start)
    records.append(_END.pack(b"PK\x05\x06", 0, 0, count, count, size, start, 0))
    return b"".join(records)


def stamp(mtime: int) -> Stamp:
    """A UTC time's ``Stamp``: MS-DOS's fields (4.4.6: 2-second steps) clamped to
    1980-2107, the seconds as they are."""
    moment = time.gmtime(min(max(mtime, DOS_FIRST), DOS_LAST))
    dos_time = (moment.tm_hour << 11) | (moment.tm_min << 5) | (moment.tm_sec // 2)
    dos_date = ((moment.tm_year - 1980) << 9) | (moment.tm_mon << 5) | moment.tm_mday
    return mtime, dos_time, dos_date


@cache
def _local(length: int) -> struct.Struct:
    """A local header with a name of ``length`` bytes and the extended timestamp."""
    return struct.Struct(f"<4sHHHHHIIIHH{length}sHHBI")


@cache
def _central(folder: int, length: int) -> Callable[..., bytes]:
    """The ``pack`` of a central directory entry whose name is a ``folder`` of that many bytes
    and ``length`` bytes after it, with the extended timestamp."""
    return struct.Struct(f"<4sHHHHHHIIIHHHHHII{folder}s{length}sHHBI").pack


def _flags(name: bytes) -> int:
    """Flag bit 11 for a name beyond ASCII that is UTF-8 (one that is not is left to be read
    as the bytes it is)."""
    if name.isascii():
        return 0
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return 0
    return UTF8


def _timestamp(mtime: int) -> int:
    """The extended timestamp's value (Info-ZIP's 0x5455 extra field, the modification time
    only, the same in the local header and the central directory) of a UTC time."""
    return min(max(mtime, 0), _TIME_LAST)

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
  time, which unzip, 7-Zip and libarchive show as it is), then its data, stored or deflated;
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
from typing import NamedTuple

STORED, DEFLATED = 0, 8  # compression methods (4.4.5)
LIMIT = 0xFFFFFFFF  # a size or offset this large does not fit its 32-bit field: ZIP64
COUNT_LIMIT = 0xFFFF  # a count of entries this large does not fit its 16-bit field: ZIP64
UNIX = 3 << 8  # "version made by": the host whose file attributes the entries carry (4.4.2)
FILE, FOLDER = 0o100644 << 16, (0o040755 << 16) | 0x10  # external attributes (and MS-DOS's)
UTF8 = 1 << 11  # general purpose flag: the name is UTF-8 (4.4.4, appendix D)
_DOS_FIRST, _DOS_LAST = 315532800, 4354819198  # 1980-01-01 00:00:00, 2107-12-31 23:59:58 UTC
_TIME_LAST = 0x7FFFFFFF  # the extended timestamp's largest value read alike signed or unsigned

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 4.3.7
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # 4.3.12
_END = struct.Struct("<4sHHHHIIH")  # 4.3.16
_END64 = struct.Struct("<4sQHHIIQQQQ")  # 4.3.14
_LOCATOR = struct.Struct("<4sIQI")  # 4.3.15
_TIMESTAMP = struct.Struct("<HHBI")  # Info-ZIP's extended timestamp, the mtime only


class Entry(NamedTuple):
    """One member as the central directory lists it."""

    name: bytes  # as stored: UTF-8, ``/``-separated; a folder's ends with ``/``
    crc: int
    compressed: int  # bytes of data in the archive
    size: int  # bytes of the member itself
    offset: int  # where its local header starts in the archive
    method: int  # STORED or DEFLATED
    mtime: int  # UTC seconds since 1970


def member(
    name: bytes, data: bytes, mtime: int, packed: bytes | None = None
) -> tuple[Entry, bytes]:
    """The entry (its ``offset`` 0: the caller's to set) and the local header of a member
    holding ``data``; ``packed``: its data deflated (``Deflater``), None to store it."""
    method = STORED if packed is None else DEFLATED
    compressed = len(data) if packed is None else len(packed)
    entry = Entry(name, zlib.crc32(data), compressed, len(data), 0, method, mtime)
    return entry, local_header(entry)


def folder(name: bytes, mtime: int) -> tuple[Entry, bytes]:
    """The entry and local header of a folder (``name`` ends with ``/``): no data."""
    return member(name, b"", mtime)


def local_header(entry: Entry) -> bytes:
    """The local file header of ``entry``, with its name and extra fields (4.3.7)."""
    extra = _timestamp(entry.mtime)
    compressed, size, version = entry.compressed, entry.size, 20
    if compressed >= LIMIT or size >= LIMIT:  # 4.5.3: then both sizes, and only here
        extra = struct.pack("<HHQQ", 1, 16, size, compressed) + extra
        compressed, size, version = LIMIT, LIMIT, 45
    dos_time, dos_date = dos_stamp(entry.mtime)
    header = _LOCAL.pack(b"PK\x03\x04", version, _flags(entry.name), entry.method, dos_time,
                         dos_date, entry.crc, compressed, size, len(entry.name),
                         len(extra))  # fmt: skip
    return b"".join((header, entry.name, extra))


def central_header(entry: Entry) -> bytes:
    """The central directory entry of ``entry`` (4.3.12), with the ZIP64 extra field where
    one of its values needs it."""
    wide, values = [], []
    for value in (entry.size, entry.compressed, entry.offset):  # APPNOTE's order
        if value >= LIMIT:
            wide.append(value)
        values.append(min(value, LIMIT))
    extra = _timestamp(entry.mtime)
    version = 20
    if wide:
        extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) + extra
        version = 45
    size, compressed, offset = values
    dos_time, dos_date = dos_stamp(entry.mtime)
    attributes = FOLDER if entry.name.endswith(b"/") else FILE
    header = _CENTRAL.pack(b"PK\x01\x02", UNIX | version, version, _flags(entry.name),
                           entry.method, dos_time, dos_date, entry.crc, compressed, size,
                           len(entry.name), len(extra), 0, 0, 0, attributes, offset)  # fmt: skip
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
    entries = min(count, COUNT_LIMIT)
    records.append(_END.pack(b"PK\x05\x06", 0, 0, entries, entries, min(size, LIMIT),
                             min(start, LIMIT), 0))  # fmt: skip
    return b"".join(records)


def dos_stamp(mtime: int) -> tuple[int, int]:
    """MS-DOS's time and date fields (4.4.6) of a UTC time, clamped to 1980-2107."""
    moment = time.gmtime(min(max(mtime, _DOS_FIRST), _DOS_LAST))
    dos_time = (moment.tm_hour << 11) | (moment.tm_min << 5) | (moment.tm_sec // 2)
    dos_date = ((moment.tm_year - 1980) << 9) | (moment.tm_mon << 5) | moment.tm_mday
    return dos_time, dos_date


class Deflater:
    """Deflates members one after another with one zlib stream (raw deflate): each member's
    data ends at a full flush, which empties the stream's history, so it refers to no earlier
    member, and then takes an empty final block of its own (RFC 1951 3.2.3: BFINAL set, fixed
    codes, end of block: the bits 1, 01, 0000000), so it is a whole deflate stream by itself.
    A fresh zlib stream per member cost 30-90 µs a mail in allocating its tables, more than
    deflating it."""

    FINAL = b"\x03\x00"

    def __init__(self, level: int):
        self.stream = zlib.compressobj(level, zlib.DEFLATED, -15)

    def pack(self, data: bytes) -> bytes:
        stream = self.stream
        return stream.compress(data) + stream.flush(zlib.Z_FULL_FLUSH) + self.FINAL


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


def _timestamp(mtime: int) -> bytes:
    """Info-ZIP's extended timestamp extra field (0x5455) with the modification time only:
    the same in the local header and the central directory."""
    return _TIMESTAMP.pack(0x5455, 5, 1, min(max(mtime, 0), _TIME_LAST))

"""A ZIP member whose deflate stream was made elsewhere (a worker on the other core).

Deflating is the largest single cost of writing a ZIP of many day files, and it is a pure
function of a member's bytes; but ``zipfile`` has no way to write bytes deflated by another
process. Its member writer asks a compressor object for the bytes it writes, so a stand-in
compressor that hands over the stream made by ``deflate`` gives the member exactly the bytes
``ZipFile.writestr`` would write: ``deflate`` makes the same calls on the same compressor
(``zlib.compressobj(Z_DEFAULT_COMPRESSION, DEFLATED, -15)``, one ``compress`` of the whole
data, then ``flush``), and zipfile itself still computes the CRC, the sizes, the local header
and the central directory entry from the data. Should a later Python rename the writer's
compressor attribute, zipfile deflates the data itself: the same bytes, on this core
(tests/render/test_deflate.py would say so).
"""

from __future__ import annotations

import zipfile
import zlib

_COMPRESSOR = type(zlib.compressobj())


def deflate(data: bytes) -> bytes:
    """The raw deflate stream zipfile writes for ``data`` in a ZIP_DEFLATED member."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


class _Made:
    """A compressor whose output was made already: all of it for the one ``compress``."""

    def __init__(self, deflated: bytes):
        self.deflated = deflated

    def compress(self, data: bytes) -> bytes:
        deflated, self.deflated = self.deflated, b""
        return deflated

    def flush(self) -> bytes:
        return b""


def write_deflated(archive: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes,
                   deflated: bytes) -> None:  # fmt: skip
    """``archive.writestr(info, data)`` for a ZIP_DEFLATED ``info``, with ``deflated``
    (``deflate(data)``) as the member's stream."""
    info.file_size = len(data)  # as writestr sets it: whether the member needs ZIP64
    with archive.open(info, "w") as member:
        if isinstance(getattr(member, "_compressor", None), _COMPRESSOR):
            member._compressor = _Made(deflated)  # type: ignore[attr-defined]
        member.write(data)

"""render/deflate.py: a member deflated elsewhere is the bytes ``writestr`` writes, and the
stream handed over is really the one written (else the worker would deflate for nothing)."""

from __future__ import annotations

import io
import random
import zipfile
import zlib

import pytest

from render.deflate import deflate, write_deflated

STAMP = (2024, 4, 5, 14, 0, 0)
TEXT = "".join(
    f'{{"type":"message","text":"line {n} ✓","ts":"{n}.000123"}},\n' for n in range(9000)
)
DATA = {
    "empty": b"",
    "short": b"[\n]\n",
    "text": TEXT.encode(),  # several deflate blocks
    "random": random.Random(7).randbytes(3 << 20),  # incompressible: stored blocks
}


def info(name: str) -> zipfile.ZipInfo:
    made = zipfile.ZipInfo(name, date_time=STAMP)
    made.compress_type = zipfile.ZIP_DEFLATED
    return made


def zipped(members: dict[str, bytes], elsewhere: bool) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            if elsewhere:
                write_deflated(archive, info(name), data, deflate(data))
            else:
                archive.writestr(info(name), data)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", DATA)
def test_a_member_deflated_elsewhere_is_the_bytes_writestr_writes(kind):
    members = {f"a/{kind}.json": DATA[kind], "b/next.json": TEXT[:500].encode()}
    assert zipped(members, elsewhere=True) == zipped(members, elsewhere=False)


def test_the_stream_handed_over_is_the_one_written():
    """A stream deflated at level 1 (other bytes than zipfile's own): the ZIP holds exactly
    it, and reads back as the data (zipfile checks the CRC it computed)."""
    data = DATA["text"]
    fast = zlib.compressobj(1, zlib.DEFLATED, -15)
    stream = fast.compress(data) + fast.flush()
    assert stream != deflate(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        write_deflated(archive, info("day.json"), data, stream)
    with zipfile.ZipFile(buffer) as archive:
        member = archive.getinfo("day.json")
        assert (member.compress_size, member.file_size) == (len(stream), len(data))
        assert archive.read("day.json") == data and archive.testzip() is None
    assert stream in buffer.getvalue()

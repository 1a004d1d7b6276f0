"""render/settle.py: a large output hashed and synced behind its writer. The digest is the
whole file's, however much was written after the threads started; a file shorter than
what they were told to hash is an error, not a wrong digest; the threads are gone when the
block is left, however it is left (the next space forks its sinks only in a one-thread
process)."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from render import settle
from webex_layout import new_temp


def _written(tmp_path, data: bytes) -> tuple[object, int]:
    out, _ = new_temp(tmp_path)  # the descriptor outputs are written through
    os.write(out.fileno(), data)
    return out, out.fileno()


@pytest.mark.parametrize("end", [0, 1, settle.CHUNK - 1, settle.CHUNK, 2 * settle.CHUNK + 7])
def test_the_digest_is_the_whole_file_s(tmp_path, end):
    """The first ``end`` bytes hashed by the thread (in chunks: around a chunk's size), the
    rest, written while it runs, here: the sha256 of all of it."""
    head = os.urandom(end)
    out, fd = _written(tmp_path, head)
    threads = threading.active_count()
    with settle.settling(fd, end) as behind:
        tail = b"the central directory" * 1000
        os.write(fd, tail)
        digest = behind.digest()
    assert digest == hashlib.sha256(head + tail).hexdigest()
    assert threading.active_count() == threads
    out.close()


def test_a_file_shorter_than_its_bulk_is_an_error(tmp_path):
    """Told to hash more than the file holds (it was cut under the writer): ``digest``
    raises, naming where the file ended, rather than give the digest of what is there."""
    out, fd = _written(tmp_path, b"x" * 100)
    with settle.settling(fd, 200) as behind, pytest.raises(OSError, match="ended at 100 bytes"):
        behind.digest()
    out.close()


def test_the_threads_end_with_the_block_when_the_writer_fails(tmp_path):
    """The writer's error leaves the block: the threads have ended, the error is the
    writer's."""
    out, fd = _written(tmp_path, b"y" * (3 * settle.CHUNK))
    threads = threading.active_count()
    with pytest.raises(RuntimeError, match="the writer's"), settle.settling(fd, 3 * settle.CHUNK):
        raise RuntimeError("the writer's")
    assert threading.active_count() == threads
    out.close()

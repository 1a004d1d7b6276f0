"""The MBOX writer: every mail of a space (render/mail.py's) in one ``<stem>.mbox``.

The classic "mboxo" form that Python's ``mailbox``, Thunderbird and mutt read: a ``From ``
line before each mail (its sender and UTC time), body lines that start with ``From ``
quoted as ``>From `` (render/mime.py's text parts). The file is written whole under a
temporary name (webex_layout's ``atomic_write``).

Why the parts: making the mails is most of the CPU of this format, and one forked process
making them all was the slowest of the three a large space runs (it, the one that reads the
rows and builds the items). So SINKS forked processes make the mails and their bodies,
batch and batch about, each into a temporary part file beside the mbox, with each batch's
size; the batches are then copied into the mbox in order (a read of the page cache;
render/parts.py, which render/eml_zip.py's ZIP shares). The bytes are those one process
writes.
"""

from __future__ import annotations

import re
import time

from webex_layout import atomic_write

from . import mime
from .clock import parse_utc
from .mail import FALLBACK, FORK_FROM, SINKS, Maker, tasks, write_all
from .page import Page
from .parts import fill, log, parts_beside
from .settle import settling
from .text import clean_line
from .worker import can_fork

_UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")  # the archive's times


class _Mbox(Maker):
    """The mbox's mails, batch after batch, at the end of the open file ``fd``: the mbox
    itself, or a forked process's part of it, whose batches' sizes go to ``sizes``."""

    def __init__(self, page: Page, fd: int, sizes: int | None = None):
        super().__init__(page, "\n")
        self.fd, self.sizes = fd, sizes
        self.keep = (fd,) if sizes is None else (fd, sizes)
        self.senders: dict[str, str] = {}
        self.days: dict[str, tuple[str, str]] = {}

    def write(self, start: tuple | None, batch: list[tuple]) -> None:
        chunk = []
        for item, data in self.mails(start, batch):
            sender = self.senders.get(item.email)
            if sender is None:
                email = clean_line(item.email)
                sender = email if mime.valid_address(email) else FALLBACK
                self.senders[item.email] = sender
            moment = from_date(item.created or "1970-01-01T00:00:00.000Z", self.days)
            chunk += (f"From {sender} {moment}\n".encode(), data, b"\n")
        data = b"".join(chunk)
        write_all(self.fd, data)
        if self.sizes is not None:
            log(self.sizes, len(data))


def write_mbox(page: Page) -> None:
    """Every mail of ``page`` into one mbox file, streamed. For a large space SINKS forked
    processes make the mails while this one reads the rows and builds the items; the bytes
    are the same."""
    forked = page.stats.get("in_window", 0) >= FORK_FROM and can_fork()
    with atomic_write(page.path, page.root, text=False) as out:
        out.flush()  # nothing buffered: the mails go to the file's descriptor itself
        if forked:
            _write_parts(page, out.fileno())
        else:
            writer = _Mbox(page, out.fileno())
            for task in tasks(page.items):
                writer.write(*task)


def _write_parts(page: Page, fd: int) -> None:
    """The mails by SINKS forked processes, batch and batch about, each into a part file
    beside the mbox (render/parts.py), then copied into the mbox ``fd`` in order. One
    process making all the mails was slower than this one; the copy costs the page cache a
    read of the mbox."""
    with parts_beside(page.path.parent, SINKS) as parts:
        writers = [_Mbox(page, part.fileno(), journal.fileno())
                   for part, journal in zip(parts.files, parts.logs, strict=True)]  # fmt: skip
        fill(writers, tasks(page.items))
        end = sum(figures[0] for _, figures in parts.copy(fd))
    with settling(fd, end) as behind:  # hashed while atomic_write's fsync has a head start
        page.digests[page.path] = behind.digest()


def from_date(created: str, days: dict[str, tuple[str, str]]) -> str:
    """The ``From `` line's date (``Tue Mar  5 08:15:00 2024``, UTC): ``asctime``'s, its
    date part made once per day (``days``) from the archive's usual form of a time."""
    if not _UTC_TIME.fullmatch(created):
        return time.asctime(parse_utc(created).utctimetuple())
    parts = days.get(created[:10])
    if parts is None:
        whole = time.asctime(parse_utc(created[:10] + "T00:00:00Z").utctimetuple())
        parts = days[created[:10]] = (whole[:11], whole[19:])  # "Tue Mar  5 ", " 2024"
    return parts[0] + created[11:19] + parts[1]

"""The EML writer's files: a folder ``<stem>-eml/`` of one ``.eml`` per message, made fast.

render/mail.py makes the mails; creating their files costs the kernel about as much CPU as
making them (110,000 files: 3.8 s in one process, twice that when each is written under a
temporary name, locked and renamed). So:

* for a large space two forked processes (render/parts.py's ``fill``) make the mails and
  create their files, batch and batch about (render/mail.py's ``tasks``: any process can make
  any batch, the same bytes), while this one reads the rows and builds the items;
* a folder that does not exist yet is filled under a temporary name beside it, each mail
  created under its final name (open, write, close), and renamed to its own name once whole
  and on disk: a killed rendering leaves only that hidden folder, which the next one removes
  (a locked temporary file beside it says while its writer lives). An existing folder keeps
  what it holds until each new mail replaces its old one whole (written under a temporary
  name, locked, renamed), and only then loses the mails this rendering did not write;
* each mail's sha256 and size are recorded as it is written, so the chain of custody
  (render/custody.py's ``Ledger``) lists the folder without reading every mail again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import IO

from webex_layout import (
    TEMP_PREFIX,
    TEMP_SUFFIX,
    check_inside,
    new_temp,
    remove_leftovers,
    same_file,
    try_lock,
)

from .custody import Ledger
from .mail import FORK_FROM, SINKS, Maker, eml_name, tasks, write_all
from .page import Page
from .parts import fill
from .worker import can_fork

EML_NAME = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{16}\.eml")  # the only names the EML writer gives
FOLDER_SUFFIX = "-eml"  # a new folder being filled: its lock file's name and this
_FILLING = re.compile(re.escape(TEMP_PREFIX) + r"[^/\\]+" + re.escape(TEMP_SUFFIX + FOLDER_SUFFIX))
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
_CREATE |= getattr(os, "O_NOFOLLOW", 0)


class _Files(Maker):
    """Makes a batch's mails and writes them into ``folder`` (``temp``: the temporary name
    each is written under first, or None to create them under their own names), and appends
    each one's name, sha256 and size to the file ``records``."""

    def __init__(self, page: Page, folder: str, temp: str | None, records: IO[bytes]):
        super().__init__(page, "\r\n")
        self.folder, self.temp, self.records = folder, temp, records.fileno()
        self.keep = (self.records,)  # what a forked process writes besides the mails

    def write(self, start: tuple | None, batch: list[tuple]) -> None:
        lines = []
        for item, data in self.mails(start, batch):
            name = eml_name(item)
            path = os.path.join(self.folder, name)
            if self.temp is None:
                handle = os.open(path, _CREATE, 0o666)
                try:
                    write_all(handle, data)
                finally:
                    os.close(handle)
            else:
                _write_whole(self.temp, path, data)
            lines.append(f"{name}\t{hashlib.sha256(data).hexdigest()}\t{len(data)}\n")
        write_all(self.records, "".join(lines).encode("ascii"))


def write_eml(page: Page) -> Ledger:
    """One ``.eml`` file per message in the folder ``page.path``; files of an earlier rendering
    that this one did not write (a narrower window, say) are removed, and only names this
    writer gives: never a file a person put there. Returns what it wrote, for the custody
    statement."""
    folder = check_inside(page.path, page.root)
    folder.parent.mkdir(parents=True, exist_ok=True)
    check_inside(folder, page.root)  # what mkdir made must not have changed the answer
    _remove_killed(folder.parent)
    ledger = Ledger()
    try:
        if os.path.lexists(folder):
            _replace_in(page, folder, ledger)
        else:
            _fill_new(page, folder, ledger)
    except BaseException:
        ledger.close()
        raise
    return ledger


def _fill_new(page: Page, folder: Path, ledger: Ledger) -> None:
    """The mails into a new folder: made under a temporary name, renamed when whole."""
    lock, lock_path = new_temp(folder.parent)  # held while the folder fills
    filling = Path(f"{lock_path}{FOLDER_SUFFIX}")
    try:
        filling.mkdir()
        _write_mails(page, str(filling), [None] * SINKS, ledger)
        if hasattr(os, "sync"):
            os.sync()  # the mails on disk before the folder has its name
        os.rename(filling, folder)
    except BaseException:
        shutil.rmtree(filling, ignore_errors=True)
        raise
    finally:
        lock.close()
        lock_path.unlink(missing_ok=True)


def _replace_in(page: Page, folder: Path, ledger: Ledger) -> None:
    """The mails into an existing folder, each replacing its old one whole; then the mails
    this rendering did not write are removed."""
    check_inside(folder, page.root)
    remove_leftovers(folder)
    temp = f"{TEMP_PREFIX}eml-{os.getpid()}-{secrets.token_hex(4)}"
    started = _now_on_disk(folder / f"{temp}{TEMP_SUFFIX}")
    temps = [str(folder / f"{temp}-{n}{TEMP_SUFFIX}") for n in range(SINKS)]  # one a process
    try:
        _write_mails(page, str(folder), temps, ledger)
    except BaseException:  # a process killed as another failed leaves its temporary file
        for name in temps:
            _discard(name)
        raise
    # What this rendering did not write is older than its start. Remembering the names
    # written instead would hold 100 MB at 1,000,000 messages, and so would a list of the
    # folder's names (iterdir): scandir streams them.
    with os.scandir(folder) as entries:
        for old in entries:
            if EML_NAME.fullmatch(old.name) and not old.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    if old.stat(follow_symlinks=False).st_mtime_ns < started:
                        os.unlink(old.path)
    if hasattr(os, "sync"):
        os.sync()


def _write_mails(page: Page, folder: str, temps: list[str | None], ledger: Ledger) -> None:
    """Every mail of the page into ``folder``, by SINKS forked processes for a large space,
    else here; ``temps``: each process's temporary name (see _Files); their records go into
    ``ledger``."""
    forked = page.stats.get("in_window", 0) >= FORK_FROM and can_fork()
    with contextlib.ExitStack() as stack:
        count = SINKS if forked else 1
        records = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(count)]
        writers = [_Files(page, folder, temps[n], records[n]) for n in range(count)]
        if forked:
            fill(writers, tasks(page.items))
        else:
            for task in tasks(page.items):
                writers[0].write(*task)
        for out in records:
            out.seek(0)
            ledger.load(out)


def _remove_killed(parent: Path) -> None:
    """Remove the new folders killed renderings were filling in ``parent``: those whose lock
    file is gone or held by no one."""
    with os.scandir(parent) as entries:
        names = [e.name for e in entries if _FILLING.fullmatch(e.name) and e.is_dir()]
    for name in names:
        lock_path = parent / name.removesuffix(FOLDER_SUFFIX)
        with contextlib.suppress(FileNotFoundError):
            with open(lock_path, "rb") as handle:
                if not (try_lock(handle) and same_file(handle, lock_path)):
                    continue  # its writer lives
            lock_path.unlink()
        shutil.rmtree(parent / name, ignore_errors=True)


def _now_on_disk(temp: Path) -> int:
    """The file system's clock now (a file's mtime, in ns): what the mails written after it
    are at least, as the kernel stamps files more coarsely than ``time.time()`` reads."""
    with open(temp, "xb") as out:
        moment = os.fstat(out.fileno()).st_mtime_ns
    temp.unlink()
    return moment


def _write_whole(temp: str, path: str, data: bytes) -> None:
    """``data`` under the temporary name ``temp`` (locked while written, as every temporary
    file of the archive is: see webex_layout/atomic.py), then renamed to ``path``. One name
    serves every mail of a process, in turn: 110,000 ``mkstemp`` calls cost more than the
    mails. A cleaner that removed it before it was locked costs one more try."""
    for _ in range(3):
        with open(temp, "xb", buffering=0) as out:
            if not try_lock(out):  # a cleaner holds it, to remove it: let it, then again
                _discard(temp)
                continue
            try:
                write_all(out.fileno(), data)  # all in the file (no buffer) before the rename
                os.replace(temp, path)  # while still locked
                return
            except FileNotFoundError:
                continue
            except BaseException:
                _discard(temp)
                raise
    raise OSError(f"could not write {os.path.basename(path)}: its temporary file kept disappearing")


def _discard(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)

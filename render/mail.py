"""The EML and MBOX writers: one mail per Webex message, threaded as a mail reader threads.

A mail-based compliance archive, a mail client or a review tool reads RFC 5322 messages, so
each message becomes one: ``From`` its author (name and email; pseudonyms with ``--blur``),
``To`` the space (an empty group named after it), ``Date`` its time in the rendering's zone,
``Message-ID`` made from the Webex id and, for a thread reply, ``In-Reply-To`` and
``References`` pointing at its ``parentId`` (Webex threads are one level deep: a reply's
parent is the thread's first message; that Webex resolves a reply to a reply to the thread's
root is reported, not documented, webex-api.md §messages: ``References`` holds the one id
Webex gives either way). The
body is ``multipart/alternative`` with the plain text and the sanitised HTML
(render/sanitize), followed by the attachments the archive downloaded; what the archive knows
of a file it does not hold is a line of the plain text. ``X-Webex-*`` headers keep what mail
has no header for: the space's id and title, the message's and its parent's ids, its exact UTC
time, when it was edited and when the archive saw it deleted. render/mime.py makes the bytes.

``--format mbox`` writes one ``<stem>.mbox`` (render/mbox.py: the classic "mboxo" form that
Python's ``mailbox``, Thunderbird and mutt read: a ``From `` line before each mail, body
lines that start with ``From `` quoted as ``>From ``). ``--format eml`` writes a folder
``<stem>-eml/`` with one ``<UTC time>-<digest of the id>.eml`` per message (CRLF line ends,
as RFC 5322 asks), names that sort by time and that no message text can choose
(render/eml.py creates the files). Placeholders (parents the archive never had) get no mail;
their replies still point at them.

Why it is made this way: a mail costs more CPU than any other format's message (headers,
encodings, an attachment's base64), so for a large space the mails are made in SINKS forked
processes (render/worker.py's ``Sink``; render/mbox.py and render/eml.py, which write the
file and the folder) while this one reads the rows and builds the items. They make the
bodies too, from each row's html and text (render/model.py's ``Context.later``): in a worker
of their own, the texts went twice more between processes, a fourth process on two cores.
The items go to them ``BATCH`` at a time as ``Source`` tuples,
which pickle cheaply; each batch carries the first message of the thread it starts inside,
so any process makes any batch's mails, the same bytes as this process makes them
(``tasks``, ``Maker``). What many mails share is made once per process (a sender's From
and To lines, the space's headers, a day's weekday, an hour's Date, a thread's
``In-Reply-To``); a message's plain text is cleaned once; a reply's subject is encoded
only when a thread has a reply; the boundary is a digest of the message's id, checked
against the mail's texts (``boundary``), where a digest of every content cost three sha256 a
mail.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import os
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from . import mime
from .bodies import body
from .events import KINDS, change_line
from .model import Item, attached_path, human_size
from .page import Page
from .sanitize import text_html
from .text import clean_line, clean_text

DOMAIN = "webex-archive.invalid"  # Message-IDs are ours, not Webex's: a domain that is no one's
SUBJECT_LENGTH = 72  # characters of a message's first line in its subject
_NOT_DIGITS = re.compile(r"\D")  # what a message's time loses in its mail's file name
_ID_SAFE = re.compile(r"[A-Za-z0-9+/=_-]{1,200}")  # dot-atom text: a Webex id as it is
FALLBACK = f"unknown@{DOMAIN}"  # the address of an author whose email no reader accepts
BATCH = 256  # messages handed to the process that makes their mails at a time (about 350 kB)
FORK_FROM = 2000  # messages in the window from which those processes are worth their fork
SINKS = 2  # processes that make the mails of a large space (one per core)
_DOCUMENT = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{}\n</body></html>\n'


class Source(NamedTuple):
    """What a mail is made of: an Item's fields (render/model.py) as a tuple, so that a batch
    of them pickles cheaply to the process that makes the mails."""

    id: str
    kind: str
    is_reply: bool
    in_window: bool
    thread: str
    created: str | None
    updated: str | None
    deleted: str | None
    author: str
    email: str
    author_id: str | None
    source: tuple[str | None, str | None] | None  # the row's html and text (Item.source)
    card: bool
    files: list[dict]


_FIELDS = operator.attrgetter(*Source._fields)  # an Item's Source, as a plain tuple
_NO_ROW = (None, None)  # the html and text of an item that is no message (a join, a leave)
Task = tuple[tuple | None, list[tuple]]  # (the thread's first message, BATCH messages)


def tasks(items: Iterable[Item]) -> Iterator[Task]:
    """The page's items, BATCH at a time, each batch with the first message of the thread
    it starts inside (the subject of its first replies): a batch's mails are the same bytes
    whichever process makes them, and in whatever order the batches are made."""
    head, start, batch = None, None, []
    for item in items:
        fields = _FIELDS(item)
        if not item.is_reply:
            head = fields
        batch.append(fields)
        if len(batch) == BATCH:
            yield start, batch
            start, batch = head, []
    if batch:
        yield start, batch


class Maker:
    """Makes the mails of one page, batch after batch, in this process or a forked one; what
    is the same for many mails (senders, the space's headers, a day's weekday) is made once
    per process."""

    def __init__(self, page: Page, linesep: str):
        self.page, self.linesep, self.mbox = page, linesep, linesep == "\n"
        self.heads = _Headers(page, linesep)
        self.lost = mime.unstructured("Re: " + subject_of_lost(page), linesep)
        blur = page.context.blur
        self.replacements = blur.replacements if blur else None  # --blur: in the bodies too

    def mails(self, start: tuple | None, batch: list[tuple]) -> Iterator[tuple[Source, bytes]]:
        """Each message of the batch with its mail; ``start``: the first message of the
        thread the batch starts inside (None: none), whose subject its replies take. A
        subject is encoded only when a mail has it: most threads have no reply. The bodies
        are made here, in the process that makes the mails (render/model.py's ``later``):
        sanitising them in a worker of their own cost their texts two more trips between
        processes, and a fourth process on two cores."""
        title, lost, heads, linesep = self.page.title, self.lost, self.heads, self.linesep
        unstructured, replacements = mime.unstructured, self.replacements
        thread, first, reply = None, "", lost
        if start is not None:
            head = Source._make(start)
            plain = clean_text(body(*(head.source or _NO_ROW), replacements, False, True)[1])
            thread, first, reply = head.id, thread_subject(title, head, plain), ""
        for fields in batch:
            item = Source._make(fields)
            if item.kind in KINDS:  # a member joined or left (--events): that is its text
                plain = change_line(item)
                safe = text_html(plain)
            else:
                safe, plain = body(*(item.source or _NO_ROW), replacements, True, True)
            plain = clean_text(plain)  # once, for the subject and the plain part
            if not item.is_reply:
                thread, first, reply = item.id, thread_subject(title, item, plain), ""
            if item.kind == "placeholder":
                continue
            if not item.is_reply:
                this = unstructured(first, linesep)
            elif item.thread != thread:
                this = lost
            else:
                this = reply = reply or unstructured("Re: " + first, linesep)
            headers = heads.lines(item, this)
            yield item, mail(self.page, item, safe, plain, headers, linesep, self.mbox)


def write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to the file ``fd`` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def eml_name(item: Source | Item) -> str:
    """``20240305T081500Z-<16 hex digits>.eml``: the UTC second, then a digest of the id."""
    created = (item.created or "1970-01-01T00:00:00")[:19]
    stamp = created.replace("-", "").replace(":", "").replace("T", "")
    if not (stamp.isascii() and stamp.isdigit()):  # else the same: 0.3 µs where this takes 1.8
        stamp = _NOT_DIGITS.sub("", created)
    return f"{stamp[:8]}T{stamp[8:14]}Z-{id_digest(item.id)[:16]}.eml"


def thread_subject(title: str, item: Source, plain: str) -> str:
    """``[Space title] the first line of the message`` (its ``plain`` text, shortened), or
    what it holds instead. ``plain`` is clean_text's already (so is any part of it: what
    clean_line does to a line of it is collapsing its white space)."""
    if item.kind == "placeholder":
        return f"[{title}] (earlier message not in the archive)"
    first = " ".join(plain.lstrip().partition("\n")[0].split())  # its first line with a non-space
    if len(first) > SUBJECT_LENGTH:
        first = first[: SUBJECT_LENGTH - 1].rstrip() + "…"
    if not first:
        first = "(card)" if item.card else "(attachment)" if item.files else "(no text)"
    return f"[{title}] {first}"


def subject_of_lost(page: Page) -> str:
    return f"[{page.title}] (earlier message not in the archive)"


def message_id(webex_id: str) -> str:
    """``<id@webex-archive.invalid>``: the Webex id where it is a valid left part (base64
    ids are), else a digest of it, so a hostile id can never break the header."""
    left = webex_id if _ID_SAFE.fullmatch(webex_id) else _digest(webex_id)
    return f"<{left}@{DOMAIN}>"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.lru_cache(maxsize=4)
def id_digest(webex_id: str) -> str:
    """The sha256 of a message's id (hex), which its mail's boundary and its .eml's name both
    start from, one after the other: made once a mail (1 µs of the 5 µs an EML ZIP's member
    costs beyond the mail)."""
    return _digest(webex_id)


def mail(page: Page, item: Source, safe: str, text: str, headers: str, linesep: str,
         mbox: bool) -> bytes:  # fmt: skip
    """The mail of one archived message (``safe``: its sanitised HTML, ``text``: its plain
    text, clean_text's); see the module's doc for what goes where."""
    files, missing = _attachments(page, item) if item.files else ([], [])
    plain, html = body_text(text, missing), _DOCUMENT.format(safe)
    names = [clean_line(info["name"]) for info, _ in files]
    mark = boundary(item.id, [plain, html, *names])
    body = mime.alternative(plain, html, f"{mark}_1", linesep, mbox)
    if files:
        attached = [mime.attachment_part(info.get("content_type"), name, data, linesep)
                    for (info, data), name in zip(files, names, strict=True)]  # fmt: skip
        body = mime.multipart("mixed", [body, *attached], f"{mark}_0", linesep)
    (kind,), content = body
    sep = linesep
    return f"{headers}{sep}MIME-Version: 1.0{sep}{kind}{sep}{sep}{content}{sep}".encode("ascii")


def boundary(webex_id: str, texts: list[str]) -> str:
    """``=_`` and 40 hex digits of a digest of the message's id, the same in an .eml and an
    mbox; its parts' delimiters add ``_0`` or ``_1``. None of them can be in a base64 body
    (which has no ``_``), so it is checked only against the texts a mail holds as they are
    (the 7bit parts, the file names): one a text holds (an edit can quote its own message's
    boundary) gives way to a digest of the id and a count."""
    seed, count, joined = id_digest(webex_id)[:40], 0, "\0".join(texts)  # no \0 in a seed
    while seed in joined:
        count += 1
        seed = _digest(f"{webex_id}\n{count}")[:40]
    return f"=_{seed}"


class _Headers:
    """The header lines of a page's mails: what is the same for every mail (the space) and
    for every mail of one author made once, each value made safe for its header."""

    def __init__(self, page: Page, linesep: str):
        self.linesep, self.clock = linesep, page.clock
        self.person = not page.options.blur  # with --blur, no person id
        title = clean_line(page.title)
        self.to = f"To: {mime.group(title, linesep)}"
        self.space = (
            f"X-Webex-Space-Id: {mime.unstructured(page.space['id'], linesep)}"
            f"{linesep}X-Webex-Space-Title: {mime.unstructured(title, linesep)}"
        )
        self.senders: dict[tuple[str, str], str] = {}
        self.parent = ("", "")  # the last thread replied to, and its two header lines

    def sender(self, item: Source) -> str:
        """The From line of the author's mails, with the To line after it."""
        key = (item.author, item.email)
        lines = self.senders.get(key)
        if lines is None:
            value = mime.address(clean_line(item.author), clean_line(item.email), FALLBACK,
                                 self.linesep)  # fmt: skip
            lines = self.senders[key] = f"From: {value}{self.linesep}{self.to}"
        return lines

    def lines(self, item: Source, subject: str) -> str:
        """The mail's header lines, up to its MIME headers, joined."""
        sep = self.linesep
        head = (
            f"{self.sender(item)}{sep}Subject: {subject}{sep}Date: {self.date(item.created)}"
            f"{sep}Message-ID: {message_id(item.id)}{sep}"
        )
        if item.is_reply:
            if self.parent[0] != item.thread:
                parent = message_id(item.thread)
                self.parent = (item.thread, f"In-Reply-To: {parent}{sep}References: {parent}{sep}")
            head += self.parent[1]
        headers = webex_headers(item, self.person)
        if mime.is_word("".join([value for _, value in headers])):  # ids and times: as they are
            webex = [f"{name}: {value}" for name, value in headers]
        else:
            webex = [f"{name}: {mime.unstructured(value, sep)}" for name, value in headers]
        return f"{head}{self.space}{sep}{sep.join(webex)}"

    def date(self, created: str | None) -> str:
        """RFC 5322's date in the page's zone, in English whatever the locale."""
        return self.clock.mail(created) if created else "Thu, 01 Jan 1970 00:00:00 +0000"


def webex_headers(item: Source, person: bool) -> list[tuple[str, str]]:
    """The ``X-Webex-*`` headers of a message: what Webex knows that mail has no header for
    (``person``: with the author's person id)."""
    headers = [("X-Webex-Message-Id", item.id), ("X-Webex-Created", item.created or "")]
    if item.is_reply:
        headers.append(("X-Webex-Parent-Id", item.thread))
    if item.author_id and person:
        headers.append(("X-Webex-Person-Id", item.author_id))
    if item.updated:
        headers.append(("X-Webex-Edited", item.updated))
    if item.deleted:
        headers.append(("X-Webex-Deleted", item.deleted))
    if item.card:
        headers.append(("X-Webex-Card", "yes"))
    if not item.in_window:
        headers.append(("X-Webex-Outside-Window", "yes"))
    return headers


def body_text(plain: str, missing: list[dict]) -> str:
    """The plain part: the message's text (clean_text's), then a line per file the archive
    does not hold."""
    text = plain.strip("\n")
    if not missing:
        return f"{text}\n"
    lines = [
        f"[attachment not in the archive: {clean_line(info['name'])} "
        f"({human_size(info.get('size'))}) - {info.get('label') or 'not downloaded'}]"
        for info in missing
    ]
    return "\n".join([text, *lines] if text else lines) + "\n"


def _attachments(page: Page, item: Source) -> tuple[list[tuple[dict, bytes]], list[dict]]:
    """(file, bytes) of the message's downloaded files, and the files it has none of."""
    found, missing = [], []
    for info in item.files:
        data, path = None, attached_path(page.path.parent, info)
        if path is not None:
            try:
                data = path.read_bytes()
            except OSError:
                data = None
        if data is None:
            missing.append(info)
        else:
            found.append((info, data))
    return found, missing

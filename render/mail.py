"""The EML and MBOX writers: one mail per Webex message, threaded as a mail reader threads.

A mail-based compliance archive, a mail client or a review tool reads RFC 5322 messages, so
each message becomes one: ``From`` its author (name and email; pseudonyms with ``--blur``),
``To`` the space (an empty group named after it), ``Date`` its time in the rendering's zone,
``Message-ID`` made from the Webex id and, for a thread reply, ``In-Reply-To`` and
``References`` pointing at the thread's first message (Webex threads are one level deep). The
body is ``multipart/alternative`` with the plain text and the sanitised HTML
(render/sanitize), followed by the attachments the archive downloaded; what the archive knows
of a file it does not hold is a line of the plain text. ``X-Webex-*`` headers keep what mail
has no header for: the space's id and title, the message's and its parent's ids, its exact UTC
time, when it was edited and when the archive saw it deleted.

``--format mbox`` writes one ``<stem>.mbox`` (the classic "mboxo" form that Python's
``mailbox``, Thunderbird and mutt read: a ``From `` line before each mail, body lines that
start with ``From `` quoted as ``>From ``). ``--format eml`` writes a folder ``<stem>-eml/``
with one ``<UTC time>-<digest of the id>.eml`` per message (CRLF line ends, as RFC 5322 asks),
names that sort by time and that no message text can choose. Placeholders (parents the
archive never had) get no mail; their replies still point at them.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import Address, Group
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from webex_layout import atomic_write, check_inside, new_temp, remove_leftovers

from .clock import parse_utc
from .model import Item, attached_path, human_size
from .page import Page
from .text import clean_line, clean_text

DOMAIN = "webex-archive.invalid"  # Message-IDs are ours, not Webex's: a domain that is no one's
SUBJECT_LENGTH = 72  # characters of a message's first line in its subject
EML_NAME = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{16}\.eml")  # the only names the EML writer gives
_ID_SAFE = re.compile(r"[A-Za-z0-9+/=_-]{1,200}")  # dot-atom text: a Webex id as it is
_EML = policy.SMTP  # CRLF line ends, long headers folded, non-ASCII headers RFC 2047-encoded
_MBOX = policy.default  # LF line ends, as mbox files have them
_DOCUMENT = '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{}\n</body></html>\n'


def write_mbox(page: Page) -> None:
    """Every mail of ``page`` into one mbox file, streamed."""
    with atomic_write(page.path, page.root, text=False) as out:
        generator = BytesGenerator(out, mangle_from_=True, policy=_MBOX)
        for item, mail in mails(page):
            address = mail["From"].addresses[0].addr_spec
            moment = parse_utc(item.created or "1970-01-01T00:00:00.000Z")
            out.write(f"From {address} {time.asctime(moment.utctimetuple())}\n".encode())
            generator.flatten(mail)
            out.write(b"\n")


def write_eml(page: Page) -> None:
    """One ``.eml`` file per message in the folder ``page.path``; files of an earlier rendering
    that this one did not write (a narrower window, say) are removed, and only names this
    writer gives: never a file a person put there.

    Each file is written under a temporary name and renamed when whole; the data reaches
    the disk with one ``sync`` at the end, not one per file (3 ms each, 5 minutes at 100,000)."""
    folder = check_inside(page.path, page.root)
    folder.mkdir(parents=True, exist_ok=True)
    check_inside(folder, page.root)  # what mkdir made must not have changed the answer
    remove_leftovers(folder)
    written: set[str] = set()
    for item, mail in mails(page):
        name = eml_name(item)
        _write_whole(folder / name, mail.as_bytes(policy=_EML))
        written.add(name)
    for old in folder.iterdir():
        if EML_NAME.fullmatch(old.name) and old.name not in written and not old.is_symlink():
            old.unlink(missing_ok=True)
    if hasattr(os, "sync"):
        os.sync()


def eml_name(item: Item) -> str:
    """``20240305T081500Z-<16 hex digits>.eml``: the UTC second, then a digest of the id."""
    created = item.created or "1970-01-01T00:00:00"
    stamp = re.sub(r"\D", "", created[:19])
    digest = hashlib.sha256(item.id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{stamp[:8]}T{stamp[8:14]}Z-{digest}.eml"


def _write_whole(path: Path, data: bytes) -> None:
    raw, temp = new_temp(path.parent)
    try:
        with raw:
            raw.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def mails(page: Page) -> Iterator[tuple[Item, EmailMessage]]:
    """Each archived message of the page with its mail, in the page's order. The subject of a
    thread's first message is remembered for its replies (``Re: ...``)."""
    thread, subject = None, ""
    for item in page.items:
        if not item.is_reply:
            thread, subject = item.id, thread_subject(page.title, item)
        if item.kind == "placeholder":
            continue
        if item.is_reply:
            lost = item.thread != thread
            yield item, mail(page, item, "Re: " + (subject_of_lost(page) if lost else subject))
        else:
            yield item, mail(page, item, subject)


def thread_subject(title: str, item: Item) -> str:
    """``[Space title] the first line of the message`` (shortened), or what it holds instead."""
    if item.kind == "placeholder":
        return f"[{title}] (earlier message not in the archive)"
    lines = (line.strip() for line in clean_text(item.plain).split("\n"))
    first = next((clean_line(line) for line in lines if line), "")
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


def sender(item: Item) -> Address:
    """The author as an address; an email no parser accepts keeps the name only."""
    name = clean_line(item.author)
    try:
        return Address(display_name=name, addr_spec=clean_line(item.email))
    except (ValueError, IndexError):  # email.errors' defects are ValueErrors
        return Address(display_name=name, username="unknown", domain=DOMAIN)


def mail(page: Page, item: Item, subject: str) -> EmailMessage:
    """The mail of one archived message; see the module's doc for what goes where."""
    message = EmailMessage(policy=_EML)
    message["From"] = sender(item)
    message["To"] = Group(display_name=clean_line(page.title))
    message["Subject"] = subject
    message["Date"] = format_datetime(page.clock.local(item.created)) if item.created else ""
    message["Message-ID"] = message_id(item.id)
    if item.is_reply:
        message["In-Reply-To"] = message["References"] = message_id(item.thread)
    for name, value in webex_headers(page, item):
        message[name] = value
    files, missing = _attachments(page, item)
    message.set_content(body_text(item, missing))
    message.add_alternative(_DOCUMENT.format(item.body or ""), subtype="html")
    for info, data in files:
        kind = (info.get("content_type") or "application/octet-stream").split(";")[0].strip()
        major, _, minor = kind.partition("/")
        if not (major.isascii() and minor.isascii() and minor) or "\n" in kind:
            major, minor = "application", "octet-stream"
        message.add_attachment(data, maintype=major, subtype=minor, filename=info["name"])
    _fix_boundaries(message)
    return message


def webex_headers(page: Page, item: Item) -> list[tuple[str, str]]:
    """The ``X-Webex-*`` headers: what Webex knows that mail has no header for."""
    headers = [
        ("X-Webex-Space-Id", clean_line(page.space["id"])),
        ("X-Webex-Space-Title", clean_line(page.title)),
        ("X-Webex-Message-Id", clean_line(item.id)),
        ("X-Webex-Created", clean_line(item.created)),
    ]
    if item.is_reply:
        headers.append(("X-Webex-Parent-Id", clean_line(item.thread)))
    if item.author_id and not page.options.blur:
        headers.append(("X-Webex-Person-Id", clean_line(item.author_id)))
    if item.updated:
        headers.append(("X-Webex-Edited", clean_line(item.updated)))
    if item.deleted:
        headers.append(("X-Webex-Deleted", clean_line(item.deleted)))
    if item.card:
        headers.append(("X-Webex-Card", "yes"))
    if not item.in_window:
        headers.append(("X-Webex-Outside-Window", "yes"))
    return headers


def body_text(item: Item, missing: list[dict]) -> str:
    """The plain part: the message's text, then a line per file the archive does not hold."""
    text = clean_text(item.plain).strip("\n")
    lines = [
        f"[attachment not in the archive: {clean_line(info['name'])} "
        f"({human_size(info.get('size'))}) - {info.get('label') or 'not downloaded'}]"
        for info in missing
    ]
    return "\n".join([text, *lines] if text else lines) + "\n"


def _attachments(page: Page, item: Item) -> tuple[list[tuple[dict, bytes]], list[dict]]:
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


def _fix_boundaries(message: EmailMessage) -> None:
    """MIME boundaries from a digest of the mail's own content instead of random ones: the
    same archive gives the same bytes, and no text can hold the boundary of the mail it is
    in (it would have to contain its own digest)."""
    seed = hashlib.sha256()
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=False)
            seed.update(payload.encode("utf-8", "surrogateescape") if payload else b"")
    digest = seed.hexdigest()[:40]
    for number, part in enumerate(p for p in message.walk() if p.is_multipart()):
        part.set_boundary(f"=_{digest}_{number}")

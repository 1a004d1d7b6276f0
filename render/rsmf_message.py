"""The RFC 5322 envelope of an .rsmf file: header fields, a text part, the zip in base64.

Header fields are folded here rather than by the ``email`` package: its folding moves a long
value whole onto a continuation line, which its own parser then reads back with a leading
space, and parsing address lists to fold them cost more than the rest of a small file. An
ASCII value is folded between words at 78 characters; any other is RFC 2047 encoded words;
a display name in ``From``/``To`` is quoted (and encoded when not ASCII) by ``formataddr``.
Lines end in CRLF, as RFC 5322 asks. What the fields say (``Summary``) is made where the
events are; the message is written where the zip is (render/rsmf_zip.py).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import IO

from . import mime
from .clock import parse_utc
from .version import VERSION

RSMF_VERSION = "2.0.0"
GENERATOR = f"webex-space-archive {VERSION}"

_ADDRESS = re.compile(r"[!#-'*+\-/-9=?A-Z^-~.]+@[A-Za-z0-9.-]+")  # an addr-spec parsers agree on
_CHUNK = 57 * 1024  # bytes per base64 chunk: whole 76-character lines


def field(name: str, value: str) -> bytes:
    """``Name: value`` folded (see the module doc)."""
    if len(name) + 2 + len(value) <= 78 and value.isascii():  # a line: nothing to fold
        return f"{name}: {value}\r\n".encode("ascii")
    return _folded(name, value)


@functools.lru_cache(maxsize=64)  # To, X-RSMF-Participants: the same people, file after file
def _folded(name: str, value: str) -> bytes:
    """``Name: value`` on several lines: RFC 2047 words, or ASCII cut between words."""
    if not value.isascii():
        encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
        return f"{name}: {encoded}\r\n".encode("ascii")
    lines, line, start = [], f"{name}:", f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and line != start and line.strip():
            lines.append(line)
            line = ""
        line += f" {word}"
    return ("\r\n".join([*lines, line]) + "\r\n").encode("ascii")


@functools.lru_cache(maxsize=4096)  # the same people in file after file of a space
def address(name: str, email: str | None) -> str | None:
    """``"Name" <email>`` when the email is a plain one every parser reads back whole, else
    None (the person is still named in X-RSMF-Participants and the manifest)."""
    if not email or not _ADDRESS.fullmatch(email):
        return None
    return formataddr((name, email), charset="utf-8")


def write_message(out: IO[bytes], head: bytes, text: str, zip_data: IO[bytes],
                  boundary: str) -> None:  # fmt: skip
    """Into ``out``: the header fields ``head``, the text part and ``zip_data`` as
    ``rsmf.zip``, the one attachment (base64, read in chunks: memory stays flat for any zip)."""
    out.write(head)
    out.write(f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
              f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n".encode())  # fmt: skip
    out.write(base64_lines(text.encode()))
    out.write(f"\r\n--{boundary}\r\nContent-Type: application/zip; name=\"rsmf.zip\"\r\n"
              "Content-Disposition: attachment; filename=\"rsmf.zip\"\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n".encode())  # fmt: skip
    zip_data.seek(0)
    while chunk := zip_data.read(_CHUNK):
        out.write(base64_lines(chunk))
    out.write(f"\r\n--{boundary}--\r\n".encode())


def base64_lines(data: bytes) -> bytes:
    """``data`` in base64, lines of 76 characters, each ending in CRLF: the bytes of
    ``base64.encodebytes`` with CRLF, which encodes each 57-byte line in a call of its own
    (render/mime.py encodes the whole ``data`` in one call, then cuts it)."""
    encoded = mime.base64_lines(data, "\r\n")
    return f"{encoded}\r\n".encode("ascii") if encoded else b""


@dataclass(frozen=True)
class Summary:
    """What an .rsmf's header fields and text part say about the zip inside it."""

    path: Path
    title: str
    day: str
    space_id: str
    count: int  # events
    attachments: int
    first: str  # the earliest and latest event time ("" when no event has one)
    last: str
    custodian: dict | None  # the archive owner's participant entry, when in the conversation
    participants: list[dict]


def write_rsmf_message(summary: Summary, out: IO[bytes], zip_data: IO[bytes]) -> None:
    """Into ``out``: the header fields of ``summary.path``, a text part that says what it
    holds, and ``zip_data`` as ``rsmf.zip``."""
    boundary = "rsmf-" + hashlib.sha256(summary.path.name.encode()).hexdigest()[:24]
    text = (f"Webex space {summary.title!r}, {summary.day}: {summary.count} events, "
            f"{summary.attachments} attachments. The messages are in rsmf.zip "
            f"(RSMF {RSMF_VERSION}), for a review platform's short message "
            "viewer.\r\n")  # fmt: skip
    write_message(out, _headers(summary), text, zip_data, boundary)


def _headers(summary: Summary) -> bytes:
    begin = summary.first or f"{summary.day}T00:00:00.000Z"
    custodian, participants = summary.custodian, summary.participants
    sender = address(custodian["display"], custodian.get("email")) if custodian else None
    to = [address(p["display"], p.get("email")) for p in participants if p != custodian]
    digest = hashlib.sha256(summary.path.name.encode()).hexdigest()[:32]
    fields = (
        ("From", sender), ("To", ", ".join(a for a in to if a) or None),
        ("Subject", f"{summary.title} ({summary.day})"),
        ("Date", format_datetime(parse_utc(begin))),
        ("Message-ID", f"<{digest}@rsmf.webex-space-archive>"),
        ("MIME-Version", "1.0"),
        ("X-RSMF-Version", RSMF_VERSION), ("X-RSMF-Generator", GENERATOR),
        ("X-RSMF-Application", "Webex"),
        ("X-RSMF-BeginDate", begin), ("X-RSMF-EndDate", summary.last or begin),
        ("X-RSMF-EventCount", str(summary.count)),
        ("X-RSMF-AttachmentCount", str(summary.attachments)),
        ("X-RSMF-Custodian", custodian["display"] if custodian else None),
        ("X-RSMF-Participants", ", ".join(p["display"] for p in participants) or None),
        ("X-RSMF-EventCollectionID", summary.space_id),
    )  # fmt: skip
    return b"".join(field(name, value) for name, value in fields if value is not None)

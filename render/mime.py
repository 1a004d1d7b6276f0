"""Mails as bytes (RFC 5322 headers, RFC 2045-2047 and 2231 MIME), built by hand.

The standard library's ``email`` package builds a message as a tree of objects and then
renders it through a policy: about 2 ms a mail, 4 minutes for 100,000 messages. A chat
message becomes a mail of a fixed shape (a few headers, a text and an HTML part, maybe files),
so render/mail.py writes that shape directly here; the tests parse every mail back with
``email`` to prove it reads what was meant. Every value is untrusted: a header value is one
line of printable ASCII, or RFC 2047 encoded words; bodies are 7bit when they are ASCII with
short lines, base64 otherwise; a part's boundary (render/mail.py's) is checked to be in no
text of the mail.
"""

from __future__ import annotations

import binascii
import re
from urllib.parse import quote

_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*")  # a phrase with no quoting needed
_PRINTABLE = re.compile(r"[ -~]*")  # printable ASCII: a header value as it is
_WORD = re.compile(r"[!-~]*")  # printable ASCII without a space
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)
_TOKEN = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")  # type/subtype
_FILENAME = re.compile(r"[ -!#-\[\]-~]*")  # a quoted-string without " and \
WORD_BYTES = 45  # UTF-8 bytes per encoded word: 60 base64 characters, 72 with the wrapping
LINE = 998  # RFC 5322's hard limit on a line, without its end
_LONG_LINE = re.compile(f"[^\n]{{{LINE + 1}}}")


def unstructured(text: str, linesep: str) -> str:
    """A header value: itself when it is printable ASCII (folded at spaces when long), else
    RFC 2047 encoded words, one per line."""
    if _WORD.fullmatch(text):  # an id, a time: most values, as they are (no space to fold at)
        return text
    if text.isascii() and text.isprintable() and not text.startswith(" "):
        return text if len(text) <= 76 else _fold(text, linesep)
    return encoded_words(text, linesep)


def is_word(text: str) -> bool:
    """Whether ``text`` is printable ASCII without a space: a header value as it is (one
    check for several values joined)."""
    return bool(_WORD.fullmatch(text))


def encoded_words(text: str, linesep: str) -> str:
    """``=?utf-8?b?...?=`` words of at most WORD_BYTES bytes, never splitting a character."""
    data = text.encode("utf-8", "replace")
    words, start = [], 0
    while True:
        end = min(start + WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # inside a character: go back
            end -= 1
        encoded = binascii.b2a_base64(data[start:end], newline=False).decode("ascii")
        words.append(f"=?utf-8?b?{encoded}?=")
        start = end
        if start >= len(data):
            return (linesep + " ").join(words)


def _fold(text: str, linesep: str, width: int = 76) -> str:
    if len(text) <= width or " " not in text:  # a long word stays whole (lines may be 998)
        return text
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return (linesep + " ").join(lines)


def phrase(text: str, linesep: str) -> str:
    """A display name: as it is, quoted, or encoded words."""
    if _ATEXT.fullmatch(text) and text.strip() == text and text:
        return text
    if _PRINTABLE.fullmatch(text) and len(text) < 900:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return encoded_words(text, linesep)


def valid_address(email: str) -> bool:
    """An ASCII address every mail reader accepts as it is (dot-atom @ a host name)."""
    return bool(_ADDRESS.fullmatch(email)) and len(email) < 254


def address(name: str, email: str, fallback: str, linesep: str) -> str:
    """``Name <email>``; an email no mail reader would accept becomes ``fallback``."""
    spec = email if valid_address(email) else fallback
    return f"{phrase(name, linesep)} <{spec}>" if name else f"<{spec}>"


def group(name: str, linesep: str) -> str:
    """An empty group named ``name``: ``Project Atlas:;`` (says where, addresses no one)."""
    return f"{phrase(name or 'space', linesep)}:;"


def content_type(kind: str | None) -> str:
    """A file's type when it is a well-formed ``type/subtype``, else octet-stream."""
    kind = (kind or "").split(";")[0].strip().lower()
    return kind if _TOKEN.fullmatch(kind) else "application/octet-stream"


def text_body(text: str, linesep: str, mbox: bool) -> tuple[str, str]:
    """(encoding, body) of a text part: 7bit if ASCII with short lines, else base64. In an
    mbox, a 7bit line starting ``From `` gets a ``>`` (the mbox's own quoting)."""
    if text.isascii() and "\r" not in text and (len(text) <= LINE or not _LONG_LINE.search(text)):
        if mbox and "From " in text:
            text = "\n".join(">" + x if x.startswith("From ") else x for x in text.split("\n"))
        return "7bit", text if linesep == "\n" else text.replace("\n", linesep)
    return "base64", base64_lines(text.encode("utf-8", "replace"), linesep)


def alternative(plain: str, html: str, boundary: str, linesep: str,
                mbox: bool) -> tuple[list[str], str]:  # fmt: skip
    """(headers, body) of the ``multipart/alternative`` of a plain and an HTML text part:
    what ``multipart`` makes of the two parts, in one string (every mail has one)."""
    plain_encoding, plain = text_body(plain, linesep, mbox)
    html_encoding, html = text_body(html, linesep, mbox)
    sep, mark = linesep, f"--{boundary}"
    body = (f'{mark}{sep}Content-Type: text/plain; charset="utf-8"{sep}'
            f"Content-Transfer-Encoding: {plain_encoding}{sep}{sep}{plain}{sep}"
            f'{mark}{sep}Content-Type: text/html; charset="utf-8"{sep}'
            f"Content-Transfer-Encoding: {html_encoding}{sep}{sep}{html}{sep}{mark}--")  # fmt: skip
    return [f'Content-Type: multipart/alternative; boundary="{boundary}"'], body


def attachment_part(kind: str | None, name: str, data: bytes, linesep: str) -> tuple[list, str]:
    """(headers, body) of a file: its type, its name (RFC 2231 when not plain ASCII)."""
    if _FILENAME.fullmatch(name) and len(name) < 200:
        disposition = f'attachment; filename="{name}"'
    else:
        disposition = "attachment; filename*=utf-8''" + quote(name.encode("utf-8", "replace"))
    headers = [f"Content-Type: {content_type(kind)}", "Content-Transfer-Encoding: base64",
               f"Content-Disposition: {disposition}"]  # fmt: skip
    return headers, base64_lines(data, linesep)


def base64_lines(data: bytes, linesep: str) -> str:
    """``data`` in base64, lines of 76 characters (RFC 2045) joined by ``linesep``: one
    encoding of the whole, then cut (57 bytes are exactly 76 characters)."""
    text = binascii.b2a_base64(data, newline=False).decode("ascii")
    return linesep.join(text[i : i + 76] for i in range(0, len(text), 76))


def multipart(
    subtype: str, parts: list[tuple[list[str], str]], boundary: str, linesep: str
) -> tuple[list[str], str]:
    """(headers, body) of a multipart of ``parts``."""
    sections = [linesep.join([*headers, "", body]) for headers, body in parts]
    delimiter = f"{linesep}--{boundary}{linesep}"
    body = f"--{boundary}{linesep}" + delimiter.join(sections) + f"{linesep}--{boundary}--"
    return [f'Content-Type: multipart/{subtype}; boundary="{boundary}"'], body

"""``Content-Disposition`` of a file, in each form servers use to carry its name.

Webex documents only ``attachment; filename="x.png"`` (REST API basics); what it sends for a
name beyond ASCII is not documented, and servers differ, so ``Quirks.file_names`` picks:

- ``rfc6266`` (the default): ``filename="…"`` with an ASCII fallback (``_`` for what a
  quoted-string cannot carry: quotes, backslashes, controls, beyond ASCII) plus
  ``filename*=UTF-8''…`` (RFC 5987) when the fallback is not the name;
- ``raw-utf8``: the name's UTF-8 bytes as they are inside ``filename="…"``;
- ``plain``: ``filename="…"`` only, in ISO-8859-1 (HTTP's historical header charset, RFC 7230
  §3.2.4) where the name fits it, in UTF-8 where it does not;
- ``rfc2047``: names beyond printable ASCII as MIME encoded-words
  (``=?UTF-8?B?…?=``, each at most 75 characters, as mail software does);
- ``percent``: names beyond printable ASCII percent-encoded (UTF-8) inside ``filename="…"``.

In the other forms a printable ASCII name is sent as it is (``"`` and ``\\`` escaped). Control
characters cannot travel raw in a header: ``raw-utf8`` and ``plain`` send ``_`` for them, as
the fallback does.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

ENCODED_WORD_BYTES = 45  # 60 base64 characters: "=?UTF-8?B?" + 60 + "?=" is 72 <= 75


def content_disposition(name: str, form: str = "rfc6266") -> str:
    """The header's value as the server writes it: a str of Latin-1 characters, one per byte
    on the wire (so UTF-8 bytes appear as their Latin-1 characters)."""
    if form == "rfc6266":
        fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
        header = f'attachment; filename="{fallback}"'
        return header if fallback == name else f"{header}; filename*=UTF-8''{quote(name, safe='')}"
    if form == "raw-utf8":
        return _wire(_attachment(_no_controls(name)), "utf-8")
    if form == "plain":
        header = _attachment(_no_controls(name))
        try:
            return _wire(header, "latin-1")
        except UnicodeEncodeError:
            return _wire(header, "utf-8")
    if all(32 <= ord(c) < 127 for c in name):
        return _attachment(name)
    if form == "percent":
        return _attachment(quote(name, safe=""))
    return _attachment(" ".join(_encoded_words(name)))  # rfc2047


def _attachment(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'attachment; filename="{escaped}"'


def _no_controls(name: str) -> str:
    return "".join("_" if ord(c) < 32 or ord(c) == 127 else c for c in name)


def _wire(header: str, charset: str) -> str:
    return header.encode(charset).decode("latin-1")


def _encoded_words(name: str) -> list[str]:
    """RFC 2047 B-encoded words, split between characters so each decodes on its own."""
    words, chunk = [], b""
    for char in name:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return [f"=?UTF-8?B?{base64.b64encode(word).decode()}?=" for word in words]

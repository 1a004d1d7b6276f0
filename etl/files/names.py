"""Safe file and folder names from untrusted text: Content-Disposition names and space titles.

A name from the API is written by whoever posted the file, so it is hostile until proven
otherwise (docs/design.md, "The archive on disk"): it must never leave its folder, never overwrite
another file, and still keep its extension so that the file opens in the right program. The
rules here are the intersection of what Linux, macOS and Windows accept as ONE path component,
because an archive made on one system is copied to the others.

Pure functions, no I/O: the caller knows which names are already taken in a folder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator

from webex_layout import DEVICES, fold, is_reserved

DEFAULT_MAX_BYTES = 200  # well below the 255-byte limit of ext4, APFS and NTFS (in UTF-16 units)
FOLDER_MAX_BYTES = 80  # a space folder is part of every path inside it: keep it short
MIN_BYTES = 32  # room for a stem, " (NNNN)" and a 16-character extension

# Path separators of every system, and the characters Windows (and macOS, for ":") refuse.
_FORBIDDEN = frozenset('/\\<>:"|?*')
# Whitespace that is also a control character: it separates words, so it becomes a space.
_WHITESPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c")
# Bidirectional controls: invisible, and able to disguise "gnp.exe" as "exe.png".
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,16})\Z")


def safe_name(name: str, max_bytes: int = DEFAULT_MAX_BYTES, fallback: str = "file") -> str:
    """``name`` made safe as one path component on Linux, macOS and Windows.

    Unicode is kept (NFC, so that macOS and Linux agree on the bytes); separators and
    characters Windows forbids become ``_``; control and bidi characters go; whitespace runs
    become one space; leading and trailing spaces and dots go (no hidden files, no ``..``,
    nothing Windows would silently trim); Windows device names get a ``_`` after the device
    part (``CON.txt`` → ``CON_.txt``). Longer than ``max_bytes`` of UTF-8, the stem is cut on
    a character boundary and the extension kept. Nothing left → ``fallback``.
    """
    if max_bytes < MIN_BYTES:
        raise ValueError(f"max_bytes must be at least {MIN_BYTES}, not {max_bytes}")
    text = _clean(name) or _clean(fallback) or "file"
    text = _fit(text, max_bytes)
    if _is_device(text):
        text = _undevice(_fit(text, max_bytes - 1))
    return text


def folder_name(title: str) -> str:
    """A space's folder name from its title (short: it prefixes every path inside it), never
    a name the archive keeps for itself (``webex_layout.is_reserved``): a title such as
    ``archive.db-journal`` gets a leading ``_``, a Windows short-name alias its ``~`` as ``_``.
    """
    name = safe_name(title, max_bytes=FOLDER_MAX_BYTES, fallback="space")
    if is_reserved(name):
        name = name.replace("~", "_")
    if is_reserved(name):
        name = safe_name("_" + name, max_bytes=FOLDER_MAX_BYTES)
    return name


def split_extension(name: str) -> tuple[str, str]:
    """(stem, extension without the dot); the extension is the part after the last dot if it
    is 1–16 ASCII letters or digits, else ``""``. ``archive.tar.gz`` → (``archive.tar``, ``gz``).
    """
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], match[1]


def unique_name(name: str, taken: Collection[str], max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """``name``, or ``stem (2).ext``, ``stem (3).ext``… when it is taken in the folder.

    Names compare case-insensitively and normalisation-insensitively, as on the default file
    systems of macOS and Windows: ``Photo.PNG`` takes ``photo.png``. The stem is cut (on a
    character boundary) so that the result stays within ``max_bytes``. ``name`` should come
    from ``safe_name`` with the same ``max_bytes``. ``taken`` may be any collection; a
    ``NameSet`` makes the check O(1) when naming many files in one folder.
    """
    folded = taken.folded if isinstance(taken, NameSet) else {fold(t) for t in taken}
    if fold(name) not in folded:
        return name
    stem, ext = split_extension(name)
    tail = f".{ext}" if ext else ""
    number = 1
    while True:
        number += 1
        suffix = f" ({number}){tail}"
        candidate = (_cut(stem, max_bytes - _size(suffix)).rstrip(" .") or "file") + suffix
        if fold(candidate) not in folded:
            return candidate


class NameSet(Collection[str]):
    """The names in use in one folder, compared as ``unique_name`` compares them.

    ``unique_name`` folds every name of a plain collection on each call; for a folder of
    thousands of files keep a NameSet instead and ``add`` each name chosen.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names: dict[str, str] = {}
        for name in names:
            self.add(name)

    @property
    def folded(self) -> Collection[str]:
        return self._names.keys()

    def add(self, name: str) -> None:
        self._names.setdefault(fold(name), name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and fold(name) in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._names)


# ----- helpers ---------------------------------------------------------------------------------


def _char(ch: str) -> str:
    """What one character becomes: itself, a space, ``_`` or nothing."""
    category = unicodedata.category(ch)
    if ch in _WHITESPACE_CONTROLS or category in ("Zs", "Zl", "Zp"):
        return " "
    if category in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
        return ""  # C0, DEL, C1 and lone surrogates (which UTF-8 cannot even encode)
    return "_" if ch in _FORBIDDEN else ch


def _clean(name: str) -> str:
    """Every rule except length and device names; may return ``""``."""
    text = unicodedata.normalize("NFC", "".join(map(_char, name)))
    return re.sub(" {2,}", " ", text).strip(" .")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` within ``max_bytes`` of UTF-8, whole characters only."""
    return text.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", "ignore")


def _fit(text: str, max_bytes: int) -> str:
    """``text`` within ``max_bytes``, cutting the stem so that the extension survives."""
    if _size(text) <= max_bytes:
        return text
    stem, ext = split_extension(text)
    if ext:
        short = _cut(stem, max_bytes - len(ext) - 1).rstrip(" .")
        if short:
            return f"{short}.{ext}"
    return _cut(text, max_bytes).rstrip(" .")


def _device_part(text: str) -> str:
    """The part Windows compares with device names: before the first dot, trailing spaces off."""
    return text.split(".", 1)[0].rstrip(" ")


def _is_device(text: str) -> bool:
    return _device_part(text).upper() in DEVICES


def _undevice(text: str) -> str:
    device = _device_part(text)
    return f"{device}_{text[len(device) :]}"

"""The old tool's ``webexspacearchive-config.ini``, read robustly (pure parsing, no network).

Users of the "Webex Space Archiver" arrive with this file and expect it to keep working: every
key and value form it accepted is accepted here, with its documented crashes fixed (``%`` in a
value, inline ``; comments``, ``1,000``, case-sensitive ``Yes``). Anything we cannot honour is
one line that names the file, the key, the value and what is allowed, never a traceback.

This module says what each key means (and writes the commented default file);
``webex_archive.ini_file`` reads the file itself into raw key/values.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .ini_file import SECTION, ConfigError, clean, parse, read_text, section

DEFAULT_NAME = "webexspacearchive-config.ini"
TOKEN_ENV = "WEBEX_ARCHIVE_TOKEN"
DEFAULT_LAST = 1000  # the old tool's default (and its meaning of an empty maxtotalmessages)

DOWNLOAD = {"no": "no", "none": "no", "info": "info", "images": "images", "image": "images"}
DOWNLOAD |= {"files": "files", "file": "files"}
AVATARS = {"no": "no", "none": "no", "link": "link", "download": "download"}
YES = ("yes", "y", "true", "on", "1")
NO = ("no", "n", "false", "off", "0")
FORMATS = {
    "no": ("html",),
    "none": ("html",),
    "yes": ("html", "json", "txt"),
    "both": ("html", "json", "txt"),
    "json": ("html", "json"),
    "txt": ("html", "txt"),
}
KNOWN_KEYS = (
    "mytoken",
    "myspaceid",
    "myroom",
    "download",
    "downloadfiles",
    "useravatar",
    "maxtotalmessages",
    "outputfilename",
    "sortoldnew",
    "outputjson",
    "dst_start",
    "dst_stop",
    "blurring",
)
LIMIT_FORMS = "N (e.g. 1000), Nd (e.g. 30d), DDMMYYYY- (since), DDMMYYYY-DDMMYYYY (range), all"
DST_NOTE = (
    "dst_start/dst_stop are not needed and are ignored: times are converted per message with "
    "real time zones (IANA rules): this machine's, or TZ=Area/City (render --tz ZONE)"
)

_PLACEHOLDER = re.compile(r"__.*__|<.*>")
_COUNT = re.compile(r"\d{1,3}(?P<sep>[,. _'])\d{3}(?:(?P=sep)\d{3})*|\d+")
_DAYS = re.compile(r"(?P<n>[-+]?\d+)\s*(?:d|days?)", re.IGNORECASE)
_DATE = r"\d{8}|\d{4}-\d{2}-\d{2}"
_RANGE = re.compile(rf"(?P<start>{_DATE})\s*-\s*(?P<end>{_DATE})?")
_DST = re.compile(r"\s*(?:[1-4]|L)\s*,\s*[1-7]\s*,\s*(?:0?[1-9]|1[0-2])\s*", re.IGNORECASE)
_SPACE_ID = re.compile(r"[A-Za-z0-9_=+/-]+")


@dataclass
class RunConfig:
    """What one .ini asks for, in this tool's terms (the caller maps it onto sync and render)."""

    path: Path
    token: str | None = None
    space_id: str | None = None
    download: str = "no"
    avatars: str = "no"
    last: int | None = DEFAULT_LAST
    days: int | None = None
    since: date | None = None
    until: date | None = None
    output_name: str | None = None
    sort: str = "oldest"
    formats: tuple[str, ...] = ("html",)
    blur: bool = False
    dst_configured: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class _Limit:
    """The four readings of ``maxtotalmessages``; at most one of last/days/since is set."""

    last: int | None = None
    days: int | None = None
    since: date | None = None
    until: date | None = None


class _Settings:
    """The section's values with the bookkeeping every key needs: which were used (the rest
    are unknown), legacy names, and the one-line error format."""

    def __init__(self, path: Path, raw: dict[str, str | None], notes: list[str]) -> None:
        self.path = path
        self.raw = raw
        self.notes = notes

    def get(self, key: str, legacy: str | None = None) -> tuple[str, str]:
        """(the key name actually used, its cleaned value, ``""`` when absent)."""
        value = clean(self.raw.get(key))
        old = clean(self.raw.get(legacy)) if legacy else ""
        if value or not old:
            if old:
                self.notes.append(f"{legacy} (old name) ignored: {key} is set")
            return key, value
        self.notes.append(f"read the old key name {legacy} as {key}")
        return legacy, old

    def error(self, key: str, value: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key} = {value!r} {problem}")

    def choice(
        self,
        key: str,
        table: Mapping[str, Any],
        shown: str,
        default: Any,
        legacy: str | None = None,
    ) -> Any:
        """A value from a closed list, case-insensitively; empty means the default."""
        name, value = self.get(key, legacy)
        if not value:
            return default
        if value.lower() not in table:
            raise self.error(name, value, f"is not one of: {shown}")
        return table[value.lower()]

    def flag(self, key: str, default: bool) -> bool:
        """yes/no, also true/false, on/off and 1/0, in any case (the old tool wanted ``yes``)."""
        table = {word: True for word in YES} | {word: False for word in NO}
        return self.choice(key, table, "yes, no", default)

    def unknown(self) -> None:
        """A note per key with a value that nothing reads; value-less keys are the old tool's
        comment lines and pass silently."""
        for key, value in self.raw.items():
            if key in KNOWN_KEYS or value is None:
                continue
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.notes.append(f"unknown key {key} ignored{hint}")


def _token(settings: _Settings, environ: Mapping[str, str]) -> str | None:
    """``WEBEX_ARCHIVE_TOKEN`` wins whenever set, as in the old tool; a placeholder or empty
    ``mytoken`` is no token. A bad token is never echoed: it may be a real secret."""
    from_env = environ.get(TOKEN_ENV, "").strip()
    _, value = settings.get("mytoken")
    from_file = None if not value or _PLACEHOLDER.fullmatch(value) else value
    if from_env:
        if from_file:
            settings.notes.append(f"{TOKEN_ENV} is set and takes precedence over mytoken")
        return from_env
    if from_file and any(char.isspace() for char in from_file):
        raise ConfigError(
            f"{settings.path}: mytoken contains spaces (value not shown): it must be the token "
            "alone, without 'Bearer'"
        )
    return from_file


def _space_id(settings: _Settings) -> str | None:
    """``myspaceid`` (or the old ``myroom``); the written placeholder means none."""
    key, value = settings.get("myspaceid", legacy="myroom")
    if not value or _PLACEHOLDER.fullmatch(value):
        return None
    if not _SPACE_ID.fullmatch(value):
        raise settings.error(key, value, "is not one of: a Webex space ID (letters and digits)")
    return value


def _date(settings: _Settings, value: str, text: str) -> date:
    """``DDMMYYYY`` (the old tool's only form) or ISO ``YYYY-MM-DD``."""
    try:
        if "-" in text:
            return date.fromisoformat(text)
        return datetime.strptime(text, "%d%m%Y").date()
    except ValueError:
        raise settings.error(
            "maxtotalmessages", value, f"has an invalid date {text!r} (DDMMYYYY, e.g. 31012024)"
        ) from None


def _positive(settings: _Settings, value: str, number: int) -> int:
    if number < 1:
        raise settings.error("maxtotalmessages", value, "must be at least 1")
    return number


def _limit(settings: _Settings) -> _Limit:
    """Every form of ``maxtotalmessages``: a count (``1,000`` too, which the old tool
    rejected), days, a start date, a date range (both days inclusive), or ``all``."""
    _, value = settings.get("maxtotalmessages")
    compact = value.strip()
    if not compact:
        return _Limit(last=DEFAULT_LAST)
    if compact.lower() == "all":
        return _Limit()
    if _COUNT.fullmatch(compact):
        return _Limit(last=_positive(settings, value, int(re.sub(r"\D", "", compact))))
    if re.fullmatch(r"[-+]\s*\d{1,7}", compact):
        return _Limit(last=_positive(settings, value, int(compact.replace(" ", ""))))
    days = _DAYS.fullmatch(compact)
    if days:
        return _Limit(days=_positive(settings, value, int(days.group("n"))))
    span = _RANGE.fullmatch(compact)
    if not span:
        raise settings.error("maxtotalmessages", value, f"is not one of: {LIMIT_FORMS}")
    since = _date(settings, value, span.group("start"))
    until = _date(settings, value, span.group("end")) if span.group("end") else None
    if until is not None and until < since:
        raise settings.error("maxtotalmessages", value, "starts after it ends")
    return _Limit(since=since, until=until)


def _output_name(settings: _Settings) -> str | None:
    """The base name for the folder and files; a trailing ``.html`` is dropped (the old tool
    appended one regardless, giving ``x.html.html``)."""
    _, value = settings.get("outputfilename")
    name = re.sub(r"\.html?$", "", value, flags=re.IGNORECASE).strip()
    allowed = "a file name without / or \\ (empty: the space title)"
    if any(char in name for char in "/\\") or name in (".", ".."):
        raise settings.error("outputfilename", value, f"is not one of: {allowed}")
    if any(ord(char) < 32 for char in name):
        raise settings.error("outputfilename", value, "contains control characters")
    return name or None


def _dst(settings: _Settings) -> bool:
    """Accept the old DST rules (``W,D,M``) so existing files load, then say they are moot."""
    configured = False
    for key in ("dst_start", "dst_stop"):
        _, value = settings.get(key)
        if not value:
            continue
        if not _DST.fullmatch(value):
            forms = "W,D,M with W 1-4 or L, D 1-7 (Mon=1), M 1-12, e.g. L,7,3"
            raise settings.error(key, value, f"is not one of: {forms}")
        configured = True
    if configured:
        settings.notes.append(DST_NOTE)
    return configured


def load_config(path: Path, environ: Mapping[str, str] = os.environ) -> RunConfig:
    """Read one old-style .ini into a :class:`RunConfig`; raises :class:`ConfigError`.

    Absent keys take our defaults (the old tool's own defaults), so a file with only a token
    and a space ID works; a missing token is left as ``None`` for the caller to report.
    """
    path = Path(path)
    notes: list[str] = []
    text = read_text(path, notes)
    settings = _Settings(path, section(path, parse(path, text, notes), notes), notes)
    limit = _limit(settings)
    config = RunConfig(
        path=path,
        token=_token(settings, environ),
        space_id=_space_id(settings),
        download=settings.choice(
            "download", DOWNLOAD, "no, none, info, images, files", "no", legacy="downloadfiles"
        ),
        avatars=settings.choice("useravatar", AVATARS, "no, link, download", "no"),
        last=limit.last,
        days=limit.days,
        since=limit.since,
        until=limit.until,
        output_name=_output_name(settings),
        sort="oldest" if settings.flag("sortoldnew", True) else "newest",
        formats=settings.choice("outputjson", FORMATS, "no, yes, both, json, txt", ("html",)),
        blur=settings.flag("blurring", False),
        dst_configured=_dst(settings),
        notes=notes,
    )
    settings.unknown()
    return config


_DEFAULTS: tuple[tuple[str, str, str], ...] = (
    (
        "mytoken",
        "__YOUR_TOKEN_HERE__",
        "Webex access token (developer.webex.com); WEBEX_ARCHIVE_TOKEN, when set, wins.",
    ),
    (
        "myspaceid",
        "__YOUR_SPACE_ID_HERE__",
        "The space's ID (webex-archive spaces lists them); one on the command line wins.",
    ),
    (
        "download",
        "no",
        "Attachments: no (links only), info (name, type, size), images, files (everything).",
    ),
    ("useravatar", "no", "Avatars: no (initials), link (Webex's URLs), download (stored)."),
    ("maxtotalmessages", str(DEFAULT_LAST), f"Which messages: {LIMIT_FORMS}."),
    ("outputfilename", "", "Folder and file name; empty: derived from the space title."),
    ("sortoldnew", "yes", "yes: oldest message first; no: newest first (replies stay in order)."),
    ("outputjson", "no", "Besides HTML: no, json, txt, or yes/both (json and txt)."),
    ("blurring", "no", "yes: blur names, external domains and @mentions on the page."),
)


def default_config_text() -> str:
    """A commented .ini with every key at our defaults; comments sit on their own lines so
    the old tool (which kept inline comments as part of the value) could read it too."""
    lines = [
        "; Settings for `webex-archive run` (the Webex Space Archiver's file format).",
        "; Lines starting with ; or # are comments; quote a value that contains ' ;' or ' #'.",
        f"[{SECTION}]",
    ]
    for key, value, explanation in _DEFAULTS:
        lines += [f"; {explanation}", f"{key} = {value}".rstrip()]
    lines += [
        "; dst_start/dst_stop are not needed: real time zones are used (render --tz ZONE).",
        "",
    ]
    return "\n".join(lines)


def write_default_config(path: Path) -> None:
    """Write :func:`default_config_text` to a new file; an existing one (a user's settings,
    token included) is never replaced, even if it appears while we write."""
    path = Path(path)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(default_config_text())
    except FileExistsError:
        raise ConfigError(f"{path} exists; not overwritten") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot write: {error.strerror}") from None


def migration_table() -> list[tuple[str, str]]:
    """Each key of the old .ini and the command-line equivalent here (for docs/migrating.md)."""
    return [
        ("mytoken", "--token / WEBEX_ARCHIVE_TOKEN"),
        ("myspaceid", "run SPACE_ID / sync SPACE"),
        ("download", "sync --download no|info|images|files"),
        ("useravatar", "sync --avatars no|link|download; render --avatars"),
        ("maxtotalmessages", "sync/render --last N, --days N, --since/--until"),
        ("outputfilename", "render --output"),
        ("sortoldnew", "render --sort oldest|newest"),
        ("outputjson", "render --format html,json,txt"),
        ("dst_start/dst_stop", "render --tz ZONE (not needed)"),
        ("blurring", "render --blur"),
    ]

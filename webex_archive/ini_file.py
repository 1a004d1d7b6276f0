"""Reading an old-style .ini file into its raw settings (pure parsing, no network).

Real files were written by hand on every platform: a Notepad BOM or Latin-1 bytes, ``%`` in a
value, inline ``; comments``, quotes, a missing or oddly spelt ``[Archive Settings]`` header.
This turns one into the section's raw key/values, and every way it can fail into a one-line
:class:`ConfigError`; what the values mean is ``webex_archive.config``'s job.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

SECTION = "Archive Settings"

_QUOTED = re.compile(r"""(?P<q>["'])(?P<inner>.*?)(?P=q)\s*(?:[;#].*)?""")
_INLINE_COMMENT = re.compile(r"\s[;#]")


class ConfigError(Exception):
    """A .ini the tool cannot honour; the message is one line, fit to print as is."""


def _one_line(line: str) -> str:
    """One physical line of a value without its inline comment and surrounding quotes.

    configparser's own inline-comment stripping would cut ``"a ; b"`` inside the quotes, so
    this does the same job (a ``;``/``#`` after whitespace starts a comment) but quote-aware;
    a ``#`` inside a token (``abc#def``) is kept, as no whitespace precedes it.
    """
    line = line.strip()
    quoted = _QUOTED.fullmatch(line)
    if quoted:
        return quoted.group("inner").strip()
    if line[:1] in (";", "#"):
        return ""
    return _INLINE_COMMENT.split(line, maxsplit=1)[0].strip()


def clean(raw: str | None) -> str:
    """A stored value as the user meant it: ``None`` (a key with no ``=``) reads as empty."""
    if raw is None:
        return ""
    parts = (_one_line(line) for line in raw.splitlines())
    return " ".join(part for part in parts if part)


def read_text(path: Path, notes: list[str]) -> str:
    """The file's text; UTF-8 (a BOM from Notepad is fine), else Latin-1, as the old tool
    read it with the platform's encoding and Windows users may have saved it so."""
    if not path.exists():
        raise ConfigError(f"{path}: no such file (write one with: webex-archive init-config)")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        notes.append("not UTF-8 text; read as Latin-1")
        return data.decode("latin-1")


def _parser() -> configparser.ConfigParser:
    """A parser that survives what real files contain: ``%`` (no interpolation), comment lines
    stored as value-less keys (allow_no_value); inline comments are left to :func:`clean`."""
    return configparser.ConfigParser(interpolation=None, allow_no_value=True, strict=True)


def parse(path: Path, text: str, notes: list[str]) -> configparser.ConfigParser:
    """Parse, turning configparser's multi-line errors into one line; settings written
    without a section header are read as if ``[Archive Settings]`` preceded them."""
    parser = _parser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.MissingSectionHeaderError as missing:
        if missing.line.strip().startswith("["):
            raise ConfigError(
                f"{path}: line {missing.lineno}: cannot read {missing.line.strip()!r} "
                f"(the section header is [{SECTION}])"
            ) from None
        notes.append(f"no [{SECTION}] header; the settings were read anyway")
        parser = _parser()
        try:
            parser.read_string(f"[{SECTION}]\n{text}", source=str(path))
        except configparser.Error as error:
            raise _parse_error(path, error) from None
    except configparser.Error as error:
        raise _parse_error(path, error) from None
    return parser


def _parse_error(path: Path, error: configparser.Error) -> ConfigError:
    """One line for each way configparser can refuse a file."""
    if isinstance(error, configparser.DuplicateOptionError):
        return ConfigError(f"{path}: line {error.lineno}: {error.option} is set twice")
    if isinstance(error, configparser.DuplicateSectionError):
        return ConfigError(f"{path}: line {error.lineno}: [{error.section}] appears twice")
    if isinstance(error, configparser.ParsingError) and error.errors:
        lineno, line = error.errors[0]
        return ConfigError(f"{path}: line {lineno}: cannot read {line.strip()!r}")
    return ConfigError(f"{path}: {str(error).splitlines()[0]}")


def section(
    path: Path, parser: configparser.ConfigParser, notes: list[str]
) -> dict[str, str | None]:
    """The ``[Archive Settings]`` keys (section name matched ignoring case and spaces)."""

    def simple(name: str) -> str:
        return "".join(name.split()).casefold()

    found = [name for name in parser.sections() if simple(name) == simple(SECTION)]
    if not found:
        listed = ", ".join(f"[{name}]" for name in parser.sections())
        raise ConfigError(f"{path}: no [{SECTION}] section (found: {listed})")
    notes.extend(f"section [{name}] ignored" for name in parser.sections() if name not in found)
    return dict(parser.items(found[0]))

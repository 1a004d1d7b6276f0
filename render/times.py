"""Which of the archive's time texts are real times: the one check before a time is shown.

The sync stores only real times in the API's form (etl/store/rows.py), but the archive is a
product people edit by hand (sqlite-utils, Datasette), and older or foreign archives exist:
a ``created`` of ``2024-02-30T08:15:00.000Z``, ``2024-03-05T99:75:00.000Z``, ``""``, a number
or any text at all may be there. Render shows such a message as one without a time (where
the order puts it) and says so once per space, never a traceback; this module decides what
is real, at about the cost of one compiled regular expression a time (render/model.py asks
it for every row).

Real: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in ASCII digits, a date that exists (February 29th in leap
years only), hours 00-23, minutes and seconds 00-59, and a year from 1000 to 9998, as the
sync writes them: four digits keep the text sorting as time does, and a year's margin at both
ends lets every time zone show it. Anything else, a valid ISO 8601 text in another form
included, is not: the windows, the order and the statistics compare the archive's texts, which
only that one form makes agree with time.
"""

from __future__ import annotations

import re

from .sanitize import clean_inline

# A date valid in every year (February 29th aside, which the slow path takes), a time of day.
_FORM = re.compile(
    r"(?!9999)[1-9]\d{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z",
    re.ASCII,
).fullmatch
form = _FORM  # real, if it matches; February 29th does not (``real`` takes those)
_LEAP_DAY = re.compile(
    r"(?!9999)[1-9]\d{3}-02-29T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z", re.ASCII
).fullmatch


def real(text: object) -> bool:
    """Whether ``text`` is a real time in the archive's form (see the module docstring)."""
    if type(text) is str and _FORM(text):
        return True
    return type(text) is str and _LEAP_DAY(text) is not None and _leap(int(text[:4]))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def shown(text: object) -> str | None:
    """``text`` when it is a real time, else None: what a page shows as "no time"."""
    return text if real(text) else None  # type: ignore[return-value]


def described(text: object) -> str:
    """An impossible time as the warning quotes it: one short line, whatever it holds."""
    quoted = repr(text) if isinstance(text, str) else f"{type(text).__name__} {text!r}"
    return quoted if len(quoted) <= 60 else quoted[:57] + "..."


def notice(title: str, found: dict[str, object]) -> str | None:
    """The warning of one space's messages with an impossible time (``found``: id to the
    first such text, in page order), or None when there are none. Ids and titles are the
    archive's, so untrusted: one clean line (``clean_inline``), the time quoted by ``repr``."""
    if not found:
        return None
    first, text = next(iter(found.items()))
    count = len(found)
    what = "message has" if count == 1 else "messages have"
    return (
        f"{clean_inline(title)!r}: {count} {what} an impossible time in the archive (first: "
        f"{clean_inline(first)} {described(text)}): shown without a time; re-sync or repair them"
    )

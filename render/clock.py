"""The archive's UTC times as a page shows them, in its time zone, worked out once per hour.

Every message shows one or more times; parsing each with ``datetime`` and converting it with
``zoneinfo`` cost more than writing the message. But a zone's offset changes only at its
transitions, so the local date, hour and offset of an archive time follow from its UTC hour
alone: this module works them out once per UTC hour (with ``zoneinfo``, daylight saving time
included) and builds each text from those parts and the minute and second of the UTC text.
An hour in which the offset changes, an offset that is not a whole number of minutes, and a
time not in the archive's form (``2024-03-04T12:34:56.789Z``) take the exact path instead:
``datetime`` for that time alone.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ARCHIVE_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_TWO = [f"{n:02d}" for n in range(60)]
_LAST = timedelta(minutes=59, seconds=59, microseconds=999999)
_MICROSECOND = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_utc(text: str) -> datetime:
    """The archive's UTC text (``2024-03-04T12:34:56.789Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def when(moment: datetime) -> str:
    """``Mon 4 Mar 2024 14:05`` (English, independent of the locale)."""
    weekday, month = WEEKDAYS[moment.weekday()], MONTHS[moment.month - 1]
    return f"{weekday} {moment.day} {month} {moment:%Y %H:%M}"


def stamp(moment: datetime) -> str:
    """``Sun 2024-03-31 03:30``: sortable, greppable, the same in every locale."""
    return f"{WEEKDAYS[moment.weekday()]} {moment:%Y-%m-%d %H:%M}"


class _Part:
    """The local date and hour of a stretch of one UTC hour, as text prefixes."""

    __slots__ = ("clock", "iso", "month", "stamp", "when")

    def __init__(self, local: datetime):
        self.iso = f"{local:%Y-%m-%dT%H}:"
        self.when = when(local)[:-2]  # all but the minute
        self.stamp = stamp(local)[:-2]
        self.clock = f"{local:%H}:"
        self.month = (local.year, local.month)


class _Hour:
    """One UTC hour with a constant offset: minutes before ``split`` fall in local hour
    ``first``, the rest (when the offset has minutes, as in India) in ``second``."""

    __slots__ = ("first", "micros", "offset", "second", "shift", "split")

    def __init__(self, start: datetime, local: datetime):
        self.micros = (start - EPOCH) // _MICROSECOND
        self.shift = local.minute
        self.split = 60 - local.minute
        naive = local.replace(tzinfo=None)
        self.first = _Part(naive)
        self.second = _Part(naive + timedelta(minutes=self.split)) if self.shift else self.first
        self.offset = local.isoformat()[19:]  # "+01:00", as isoformat writes it


def _hour(key: str, zone: tzinfo) -> _Hour | None:
    """The UTC hour ``key`` (``2024-03-04T12``), or None when its offset is not constant or
    not a whole number of minutes."""
    start = datetime.fromisoformat(f"{key}:00:00+00:00")
    local = start.astimezone(zone)
    if local.utcoffset() != (start + _LAST).astimezone(zone).utcoffset() or local.second:
        return None
    return _Hour(start, local)


class Clock:
    """Local times of archive UTC texts in one zone; see the module docstring."""

    def __init__(self, zone: tzinfo):
        self.zone = zone
        self._hours: dict[str, _Hour | None] = {}

    def _fast(self, text: str) -> tuple[_Hour, _Part, str] | None:
        """The hour, the part and the local minute of ``text``; None for the exact path."""
        if not _ARCHIVE_FORM.fullmatch(text):
            return None
        key = text[:13]
        try:
            hour = self._hours[key]
        except KeyError:
            hour = self._hours[key] = _hour(key, self.zone)
        if hour is None:
            return None
        minute = int(text[14:16])
        if minute < hour.split:
            return hour, hour.first, _TWO[minute + hour.shift]
        return hour, hour.second, _TWO[minute - hour.split]

    def local(self, text: str) -> datetime:
        """The exact path: an aware datetime in the zone."""
        return parse_utc(text).astimezone(self.zone)

    def iso_ms(self, text: str) -> str:
        """``2024-03-04T14:05:06.789+01:00``: for ``<time datetime>``."""
        fast = self._fast(text)
        if fast is None:
            return self.local(text).isoformat(timespec="milliseconds")
        hour, part, minute = fast
        return f"{part.iso}{minute}:{text[17:23]}{hour.offset}"

    def iso(self, text: str | None) -> str | None:
        """``2024-03-04T14:05:06+01:00`` (to the second), or None: for JSON."""
        if text is None:
            return None
        fast = self._fast(text)
        if fast is None:
            return self.local(text).isoformat(timespec="seconds")
        hour, part, minute = fast
        return f"{part.iso}{minute}:{text[17:19]}{hour.offset}"

    def when(self, text: str) -> str:
        """``Mon 4 Mar 2024 14:05``: for the HTML page."""
        fast = self._fast(text)
        return when(self.local(text)) if fast is None else f"{fast[1].when}{fast[2]}"

    def clock(self, text: str) -> str:
        """``14:05``."""
        fast = self._fast(text)
        return f"{self.local(text):%H:%M}" if fast is None else f"{fast[1].clock}{fast[2]}"

    def stamp(self, text: str) -> str:
        """``Mon 2024-03-04 14:05``: for the transcript."""
        fast = self._fast(text)
        return stamp(self.local(text)) if fast is None else f"{fast[1].stamp}{fast[2]}"

    def month(self, text: str) -> tuple[int, int]:
        """(year, month) in the zone."""
        fast = self._fast(text)
        if fast is None:
            moment = self.local(text)
            return moment.year, moment.month
        return fast[1].month

    def micros(self, text: str) -> int:
        """Microseconds since the epoch, for the gaps between messages."""
        fast = self._fast(text)
        if fast is None:
            return (parse_utc(text) - EPOCH) // _MICROSECOND
        seconds = int(text[14:16]) * 60 + int(text[17:19])
        return fast[0].micros + seconds * 1_000_000 + int(text[20:23]) * 1000

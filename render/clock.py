"""The archive's UTC times as a page shows them, in its time zone, worked out once per day.

Every message shows one or more times; parsing each with ``datetime`` and converting it with
``zoneinfo`` cost more than writing the message. But a zone's offset changes only at its
transitions, a few days a year: this module asks ``zoneinfo`` for the offset once per UTC
day (daylight saving time included) and adds it to the UTC text's hour and minute, with the
day's local dates worked out once. A day in which the offset changes, an offset that is not a
whole number of minutes, and a time not in the archive's form (``2024-03-04T12:34:56.789Z``)
take the exact path instead: ``datetime`` for that time alone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Names, never strftime's %a, %b or %B: those follow the process's locale, and an archive must
# be the same bytes on every machine.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")  # fmt: skip
_ARCHIVE_FORM = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
archive_form = re.compile(_ARCHIVE_FORM).fullmatch
_ascii_form = re.compile(_ARCHIVE_FORM, re.ASCII).fullmatch  # see Clock.mail
_TWO = [f"{n:02d}" for n in range(60)]
_LAST = timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)
_MICROSECOND = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAIL_DAYS = 1024  # UTC days whose Date prefixes Clock.mail keeps (then it starts over)


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


class _Date:
    """One local calendar date, as the prefixes of the texts that show it."""

    __slots__ = ("iso", "mail", "month", "stamp", "when")

    def __init__(self, day: date):
        weekday = WEEKDAYS[day.weekday()]
        self.iso = f"{day.isoformat()}T"
        self.mail = f"{weekday}, {day.day:02d} {MONTHS[day.month - 1]} {day.year:04d} "
        self.when = f"{weekday} {day.day} {MONTHS[day.month - 1]} {day:%Y} "
        self.stamp = f"{weekday} {day:%Y-%m-%d} "
        self.month = (day.year, day.month)


class _Day:
    """One UTC day with a constant offset: ``minutes`` east of UTC, and the local dates
    its times fall on (the day before, the same, the day after). The local date changes
    once in the day, at the UTC ``turn`` (``HH:MM``): ``before`` it, then ``after``."""

    __slots__ = ("after", "before", "dates", "micros", "minutes", "numeric", "offset", "turn")

    def __init__(self, start: datetime, local: datetime):
        self.micros = (start - EPOCH) // _MICROSECOND
        offset = local.utcoffset() or timedelta(0)
        self.minutes = offset // timedelta(minutes=1)
        self.offset = local.isoformat()[19:]  # "+01:00", as isoformat writes it
        self.numeric = self.offset.replace(":", "")  # "+0100", as mail writes it
        day = start.date()
        self.dates = tuple(_Date(day + timedelta(days=n)) for n in (-1, 0, 1))
        turn = 1440 - self.minutes if self.minutes >= 0 else -self.minutes
        self.turn = f"{turn // 60:02d}:{turn % 60:02d}"  # 24:00 at UTC: no turn
        first = 1 if self.minutes >= 0 else 0
        self.before, self.after = (self.dates[n].iso[:10] for n in (first, first + 1))


def _day(key: str, zone: tzinfo) -> _Day | None:
    """The UTC day ``key`` (``2024-03-04``), or None when its offset changes during the day
    or is not a whole number of minutes."""
    start = datetime.fromisoformat(f"{key}T00:00:00+00:00")
    local = start.astimezone(zone)
    if local.utcoffset() != (start + _LAST).astimezone(zone).utcoffset() or local.second:
        return None
    return _Day(start, local)


class Clock:
    """Local times of archive UTC texts in one zone; see the module docstring."""

    def __init__(self, zone: tzinfo):
        self.zone = zone
        self._days: dict[str, _Day | None] = {}
        # A message's time is asked for several texts in a row (and a thread's anchor is
        # often its first message's time): the last answer is kept.
        self._last: tuple[str, tuple | None] = ("", None)
        self._mail_days: dict[str, tuple[str, ...] | None] = {}  # see mail

    def _fast(self, text: str) -> tuple[_Day, _Date, str, str] | None:
        """The day, the local date, hour and minute of ``text``; None for the exact path."""
        last, found = self._last
        if text == last:
            return found
        found = self._parts(text)
        self._last = (text, found)
        return found

    def _day(self, key: str) -> _Day | None:
        """The UTC day ``key`` (``2024-03-04``), worked out once; None: not steady."""
        try:
            return self._days[key]
        except KeyError:
            day = self._days[key] = _day(key, self.zone)
            return day

    def _parts(self, text: str) -> tuple[_Day, _Date, str, str] | None:
        day = self._day(text[:10]) if archive_form(text) else None
        if day is None:
            return None
        minutes = int(text[11:13]) * 60 + int(text[14:16]) + day.minutes
        local = day.dates[minutes // 1440 + 1]
        minutes %= 1440
        return day, local, _TWO[minutes // 60], _TWO[minutes % 60]

    def local(self, text: str) -> datetime:
        """The exact path: an aware datetime in the zone."""
        return parse_utc(text).astimezone(self.zone)

    def iso_ms(self, text: str) -> str:
        """``2024-03-04T14:05:06.789+01:00``: for ``<time datetime>``."""
        fast = self._fast(text)
        if fast is None:
            return self.local(text).isoformat(timespec="milliseconds")
        day, local, hour, minute = fast
        return f"{local.iso}{hour}:{minute}:{text[17:23]}{day.offset}"

    def iso(self, text: str | None) -> str | None:
        """``2024-03-04T14:05:06+01:00`` (to the second), or None: for JSON."""
        if text is None:
            return None
        fast = self._fast(text)
        if fast is None:
            return self.local(text).isoformat(timespec="seconds")
        day, local, hour, minute = fast
        return f"{local.iso}{hour}:{minute}:{text[17:19]}{day.offset}"

    def mail(self, text: str) -> str:
        """``Mon, 04 Mar 2024 14:05:06 +0100``: a mail's Date (RFC 5322), in English. Every
        message has one, so where a UTC day's offset is steady and whole hours, the local
        date and hour of each of its 24 hours are made once (``_mail_days``: 901 days where
        an hour's cache missed 21,000 hours at 110,000 messages), and the minute and second
        are copied (so only ASCII digits take that path)."""
        if _ascii_form(text):
            hours = self._mail_days.get(text[:10])
            if hours is None and text[:10] not in self._mail_days:
                hours = self._mail_hours(text[:10])
            hour = int(text[11:13])
            if hours is not None and hour < 24:
                return f"{hours[hour]}{text[14:19]}{hours[24]}"
        fast = self._fast(text)
        if fast is None:
            moment = self.local(text)
            iso = moment.isoformat(timespec="seconds")  # an offset to the second: to the minute
            day = f"{WEEKDAYS[moment.weekday()]}, {iso[8:10]} {MONTHS[moment.month - 1]}"
            return f"{day} {iso[:4]} {iso[11:19]} {iso[19:22]}{iso[23:25]}"
        day, local, hour, minute = fast
        return f"{local.mail}{hour}:{minute}:{text[17:19]} {day.numeric}"

    def _mail_hours(self, key: str) -> tuple[str, ...] | None:
        """What the Date of each UTC hour of the day ``key`` starts with (``Mon, 04 Mar 2024
        14:``), then the offset (`` +0100``); None where the day is not steady or its offset
        not whole hours (the minute would change too)."""
        if len(self._mail_days) >= MAIL_DAYS:
            self._mail_days.clear()
        day = self._day(key)
        hours = None
        if day is not None and not day.minutes % 60:
            starts = [(60 * hour + day.minutes) // 60 for hour in range(24)]  # local, in hours
            hours = (*(f"{day.dates[start // 24 + 1].mail}{_TWO[start % 24]}:" for start in starts),
                     f" {day.numeric}")  # fmt: skip
        self._mail_days[key] = hours
        return hours

    def when(self, text: str) -> str:
        """``Mon 4 Mar 2024 14:05``: for the HTML page."""
        fast = self._fast(text)
        return when(self.local(text)) if fast is None else f"{fast[1].when}{fast[2]}:{fast[3]}"

    def clock(self, text: str) -> str:
        """``14:05``."""
        fast = self._fast(text)
        return f"{self.local(text):%H:%M}" if fast is None else f"{fast[2]}:{fast[3]}"

    def stamp(self, text: str) -> str:
        """``Mon 2024-03-04 14:05``: for the transcript."""
        fast = self._fast(text)
        return stamp(self.local(text)) if fast is None else f"{fast[1].stamp}{fast[2]}:{fast[3]}"

    def month(self, text: str) -> tuple[int, int]:
        """(year, month) in the zone."""
        fast = self._fast(text)
        if fast is None:
            moment = self.local(text)
            return moment.year, moment.month
        return fast[1].month

    def date(self, text: str) -> str:
        """``2024-03-04``: the local date of ``text`` (RSMF's files are per local day). Asked
        for every thread, so a steady day answers by comparing the time with its turn."""
        day = self._day(text[:10]) if archive_form(text) and text[11:13] < "24" else None
        if day is None:
            return self.local(text).isoformat()[:10]
        return day.before if text[11:16] < day.turn else day.after

    def steady(self, text: str) -> bool:
        """Whether ``text`` is in the archive's form and its UTC day has one offset all day:
        then local time follows UTC through the day, and every time between two of that day
        is in one local month when those two are."""
        return self._fast(text) is not None

    def micros(self, text: str) -> int:
        """Microseconds since the epoch, for the gaps between messages."""
        fast = self._fast(text)
        if fast is None:
            return (parse_utc(text) - EPOCH) // _MICROSECOND
        seconds = int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19])
        return fast[0].micros + seconds * 1_000_000 + int(text[20:23]) * 1000

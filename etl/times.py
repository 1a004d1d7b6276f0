"""Times in the API's form (``2024-03-01T09:30:00.000Z``): writing them, shifting them, and
turning them into milliseconds for the arithmetic of history slices."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def utc_iso(moment: datetime) -> str:
    """``moment`` in the API's form (UTC, milliseconds, ``Z``)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_api_time(api_time: str) -> datetime:
    """An archive time (always the API's form: rows.archive_time made it so) as a datetime."""
    return datetime.strptime(api_time[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)


def plus_ms(api_time: str, milliseconds: int) -> str:
    return utc_iso(parse_api_time(api_time) + timedelta(milliseconds=milliseconds))


def to_ms(api_time: str) -> int:
    """Milliseconds since 1970 of an archive time."""
    return (parse_api_time(api_time) - EPOCH) // timedelta(milliseconds=1)


def from_ms(milliseconds: int) -> str:
    return utc_iso(EPOCH + timedelta(milliseconds=milliseconds))

"""Parsing what users type: dates in ISO or the seed tool's ddmmyyyy form, days, counts.

Every check runs while click parses the command line (a parameter type or a callback), so
that a bad value is a usage error that names its option, exits with 2 and never gets as far as
the archive or the network; the commands then only see values that work.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import click
from dateutil import parser as dateparser
from dateutil import tz

from etl.times import utc_iso as api_time

# How far back --days, --rescan and --active-since may reach: about a thousand years is more
# history than any space has, and stays clear of year 1, below which dates cannot go.
MAX_DAYS = 365_000
# --last N becomes an SQL LIMIT: SQLite's largest integer.
MAX_COUNT = 2**63 - 1
DATE_FORMS = "use 2024-03-01, 2024-03-01T09:30 or 01032024"


class FiniteFloat(click.FloatRange):
    """click's FloatRange, but refusing ``nan`` and ``inf`` too.

    click parses both as floats and its range check lets ``nan`` through (it compares false
    with every bound); ``timedelta(days=nan)`` then crashes far from the option.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


def days_type(minimum: float = 0, open_minimum: bool = True) -> FiniteFloat:
    """Days back from now: positive (or from ``minimum``), finite, at most MAX_DAYS."""
    return FiniteFloat(min=minimum, min_open=open_minimum, max=MAX_DAYS)


def count_type(minimum: int = 1, maximum: int = MAX_COUNT) -> click.IntRange:
    """A whole number of things (messages, workers) from ``minimum`` to ``maximum``."""
    return click.IntRange(min=minimum, max=maximum)


def parse_date(text: str) -> datetime:
    """An ISO date/time (``2024-03-01``, ``2024-03-01T09:30``, with or without offset) or the
    seed tool's ``ddmmyyyy``; a date without a zone is taken in this machine's zone.

    Anything else, an impossible date (``32012024``, ``2024-13-01``) or one that cannot be
    written as a UTC API time (a four-digit year: not before 1000, not past 9999) is a
    BadParameter, never a ValueError or OverflowError from deep inside datetime.
    """
    value = text.strip()
    try:
        if re.fullmatch(r"\d{8}", value):
            moment = datetime.strptime(value, "%d%m%Y")
        else:
            moment = dateparser.isoparse(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=tz.tzlocal())
        if moment.astimezone(timezone.utc).year < 1000:  # API times have four-digit years
            raise ValueError("before the year 1000")
    except (ValueError, OverflowError):
        raise click.BadParameter(f"{text!r} is not a date: {DATE_FORMS}") from None
    return moment


def date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Callback of --since (and friends): the text as typed, once it is known to parse."""
    if value is not None:
        parse_date(value)
    return value


def days_ago(days: float) -> str:
    """The API time ``days`` before now (``days`` already checked by days_type)."""
    return api_time(datetime.now(timezone.utc) - timedelta(days=days))


def since_bound(since: str | None, days: float | None) -> str | None:
    """The lower bound of history from ``--since`` or ``--days`` (not both)."""
    if since is not None and days is not None:
        raise click.UsageError("use --since or --days, not both")
    if days is not None:
        return days_ago(days)
    return api_time(parse_date(since)) if since is not None else None


def active_since(text: str | None) -> str | None:
    """``90d``, ``12w`` or a date → the API time from which a space counts as active."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", text.lower())
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        if days > MAX_DAYS:
            raise click.BadParameter(f"{text!r} reaches back more than {MAX_DAYS:,} days")
        return days_ago(days)
    try:
        return api_time(parse_date(text))
    except click.BadParameter:
        raise click.BadParameter(
            f"{text!r} is neither a number of days or weeks (90d, 12w) nor a date "
            "(2024-03-01, 01032024)"
        ) from None


def active_since_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """Callback of --active-since: the API time it stands for (checked while parsing)."""
    return active_since(value)

"""Parsing what users type: dates in ISO or the seed tool's ddmmyyyy form."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import click
from dateutil import parser as dateparser
from dateutil import tz

from etl.sync import utc_iso as api_time


def parse_date(text: str) -> datetime:
    """An ISO date/time (``2024-03-01``, ``2024-03-01T09:30``, with or without offset) or the
    seed tool's ``ddmmyyyy``; a date without a zone is taken in this machine's zone."""
    value = text.strip()
    if re.fullmatch(r"\d{8}", value):
        moment = datetime.strptime(value, "%d%m%Y")
    else:
        try:
            moment = dateparser.isoparse(value)
        except ValueError:
            raise click.BadParameter(
                f"{text!r} is not a date: use 2024-03-01, 2024-03-01T09:30 or 01032024"
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz.tzlocal())


def since_bound(since: str | None, days: float | None) -> str | None:
    """The lower bound of history from ``--since`` or ``--days`` (not both)."""
    if since is not None and days is not None:
        raise click.UsageError("use --since or --days, not both")
    if days is not None:
        if days <= 0:
            raise click.BadParameter("--days must be a positive number of days")
        return api_time(datetime.now(timezone.utc) - timedelta(days=days))
    return api_time(parse_date(since)) if since is not None else None


def active_since(text: str | None) -> str | None:
    """``90d``, ``12w`` or a date → the API time from which a space counts as active."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", text.lower())
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        return api_time(datetime.now(timezone.utc) - timedelta(days=days))
    return api_time(parse_date(text))

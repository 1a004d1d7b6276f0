"""``webex-archive render``: turn archived spaces into HTML, JSON and TXT files."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from dateutil import tz

from render import FORMATS, Filters, RenderError, RenderOptions, render_spaces

from .cli import App
from .options import api_time, count_type, date_option, days_ago, days_type, parse_date

pass_app = click.make_pass_decorator(App)


def local_zone() -> tuple[tzinfo, str]:
    """This machine's zone with its DST rules, and its IANA name where it can be found."""
    name = os.environ.get("TZ", "")
    if not name:
        target = str(Path("/etc/localtime").resolve())
        name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
    try:
        return (ZoneInfo(name), name) if name else (tz.tzlocal(), datetime.now().strftime("%Z"))
    except (ZoneInfoNotFoundError, ValueError):
        return tz.tzlocal(), datetime.now().strftime("%Z")


def zone_option(ctx: click.Context, param: click.Parameter, value: str | None):
    """The zone and its name; an unknown name is a usage error. OSError too: ``Europe`` names
    a folder of the zone database, which ZoneInfo tries to read as a file."""
    if value is None:
        return local_zone()
    try:
        return ZoneInfo(value), value
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise click.BadParameter(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Amsterdam or UTC"
        ) from None


def formats_option(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    """``html,json`` → ("html", "json"); an unknown or empty item (``html,,json``, a trailing
    comma) is an error rather than silently dropped: it is most likely a typo."""
    parts = [part.strip().lower() for part in value.split(",")]
    unknown = [part for part in parts if part not in FORMATS]
    if unknown:
        what = ", ".join(repr(part) for part in unknown)
        raise click.BadParameter(
            f"{what} {'is' if len(unknown) == 1 else 'are'} not a format: "
            f"choose from {', '.join(FORMATS)} (comma-separated)"
        )
    return tuple(dict.fromkeys(parts))


def until_time(text: str) -> str:
    """The exclusive upper bound ``--until`` stands for: a date alone includes its whole day."""
    end = parse_date(text)
    try:
        return api_time(end + (timedelta(days=1) if _date_only(text) else timedelta()))
    except OverflowError:
        raise click.BadParameter(f"{text!r} is the last day there is: leave --until out") from None


def until_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Callback of --until: the text as typed, once its bound is known to exist."""
    if value is not None:
        until_time(value)
    return value


def names_a_file(output: Path) -> bool:
    """--output x.html (or .json, .txt) names a file; anything else a folder (render/page.py)."""
    return output.suffix.lower() in (".html", ".json", ".txt")


def output_option(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """--output must be somewhere a file can be written: refuse a path below a file (or a
    file name that is a folder) now, not after the archive was read."""
    if value is None:
        return None
    is_file = names_a_file(value)
    if is_file and value.is_dir():
        raise click.BadParameter(f"{value} is a folder: pass a file name or the folder")
    for ancestor in value.parents if is_file else (value, *value.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise click.BadParameter(f"{ancestor} is a file, not a folder")
            break
    return value


def _date_only(text: str) -> bool:
    return len(text.strip()) in (8, 10) and "T" not in text and ":" not in text


def window(
    since: str | None, until: str | None, days: float | None, last: int | None, sort: str
) -> tuple[Filters, str]:
    """Filters from the options (all combinable), and a sentence that says what they chose."""
    lower, upper, words = None, None, []
    if since:
        lower = api_time(parse_date(since))
        words.append(f"since {since}")
    if days is not None:
        by_days = days_ago(days)
        lower = max(lower or by_days, by_days)
        words.append(f"the last {days:g} days")
    if until:
        upper = until_time(until)
        words.append(f"until {until}" + (" (inclusive)" if _date_only(until) else ""))
    if lower and upper and lower >= upper:
        raise click.UsageError("--since/--days must be earlier than --until")
    if last is not None:
        words.insert(0, f"the newest {last:,} messages")
    text = ", ".join(words) if words else "all messages"
    return Filters(since=lower, until=upper, last=last, sort=sort), text


@click.command()
@click.argument("space", nargs=-1)
@click.option("--all", "all_spaces", is_flag=True, help="Render every archived space.")
@click.option("--last", type=count_type(), help="Only the newest N messages.")
@click.option("--days", type=days_type(), help="Only the last N days.")
@click.option(
    "--since",
    callback=date_option,
    help="From this date (2024-03-01, 2024-03-01T09:30, 01032024).",
)
@click.option(
    "--until",
    callback=until_option,
    help="Up to this date (a date alone includes that whole day).",
)
@click.option(
    "--sort",
    type=click.Choice(["oldest", "newest"]),
    default="oldest",
    show_default=True,
    help="Top-level order; replies stay oldest first.",
)
@click.option(
    "--format",
    "formats",
    default="html",
    show_default=True,
    callback=formats_option,
    help=f"Any of {','.join(FORMATS)}, comma-separated.",
)
@click.option("--tz", "zone", callback=zone_option, help="Time zone [default: this machine's].")
@click.option(
    "--avatars",
    type=click.Choice(["initials", "link", "local"]),
    default="initials",
    show_default=True,
    help="Initials, Webex's avatar URLs, or downloaded files.",
)
@click.option(
    "--theme",
    type=click.Choice(["auto", "light", "dark"]),
    default="auto",
    show_default=True,
    help="Colour theme (auto follows the reader's system).",
)
@click.option(
    "--blur",
    "--redact",
    "blur",
    is_flag=True,
    help="Hide names and emails: stable pseudonyms in HTML, JSON and TXT.",
)
@click.option(
    "--split",
    type=click.Choice(["none", "year", "month"]),
    default="none",
    show_default=True,
    help="One HTML page per year or month, plus an index.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    callback=output_option,
    help="A file (its extension is replaced per format) or a folder.",
)
@pass_app
def render(
    app: App,
    space: tuple[str, ...],
    all_spaces: bool,
    last: int | None,
    days: float | None,
    since: str | None,
    until: str | None,
    sort: str,
    formats: tuple[str, ...],
    zone: tuple,
    avatars: str,
    theme: str,
    blur: bool,
    split: str,
    output: Path | None,
) -> None:
    """Write SPACE(s) (ids or titles) from the archive as HTML, JSON and/or TXT; offline."""
    if bool(space) == all_spaces:
        raise click.UsageError("name at least one SPACE (id or title), or pass --all")
    if output is not None and names_a_file(output) and (all_spaces or len(space) > 1):
        raise click.BadParameter(
            "one file for several spaces: each would overwrite the last; pass a folder",
            param_hint="'--output'",
        )
    filters, text = window(since, until, days, last, sort)
    options = RenderOptions(
        filters=filters,
        zone=zone[0],
        zone_name=zone[1],
        formats=formats,
        avatars=avatars,
        theme=theme,
        blur=blur,
        split=split,
        output=output,
        filters_text=text,
    )
    reporter = app.reporter()
    try:
        written = render_spaces(app.archive, list(space), all_spaces, options, reporter)
    except RenderError as error:
        reporter.clear()
        for path in error.written:  # the spaces that did render
            click.echo(str(path))
        raise
    reporter.clear()
    for path in written:
        click.echo(str(path))

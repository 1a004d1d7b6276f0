"""``webex-archive search``: find what was said, across every archived space."""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import datetime

import click

from render.query import connect
from render.sanitize import clean_inline
from render.search import END, START, Hit, search

from .cli import App
from .options import api_time, count_type, date_option, parse_date
from .render_command import local_zone

pass_app = click.make_pass_decorator(App)


def colour_wanted() -> bool:
    """Bold matches on a terminal, unless NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def highlight(snippet: str, colour: bool) -> str:
    """The snippet cleaned of control characters, matches bold (terminal) or [bracketed]."""
    out, inside = [], False
    for part in re.split(f"([{START}{END}])", clean_inline(snippet)):
        if part in (START, END):
            inside = part == START
            continue
        if inside:
            part = click.style(part, bold=True, fg="yellow") if colour else f"[{part}]"
        out.append(part)
    return "".join(out)


def local_time(hit: Hit, zone) -> datetime | None:
    """The hit's time in ``zone``; None when the archive's text is not a real time."""
    if hit.created is None:
        return None
    return datetime.fromisoformat(hit.created.replace("Z", "+00:00")).astimezone(zone)


def as_json(hit: Hit, zone) -> dict:
    local = local_time(hit, zone)
    return {
        "id": hit.id, "space_id": hit.space_id, "space": hit.space_title,
        "created": hit.created, "local_time": local.isoformat() if local else None,
        "author": hit.author,
        "email": hit.email, "snippet": highlight(hit.snippet, False), "thread": hit.thread,
        "rank": hit.rank,
    }  # fmt: skip


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--space", help="Only this space (an id or part of its title).")
@click.option("--from", "person", help="Only messages by this person (part of name or email).")
@click.option("--since", callback=date_option, help="From this date (2024-03-01 or 01032024).")
@click.option("--until", callback=date_option, help="Before this date.")
@click.option("--limit", type=count_type(), default=20, show_default=True)
@click.option("--json", "json_output", is_flag=True, help="Print JSON (one array).")
@pass_app
def search_command(
    app: App,
    query: tuple[str, ...],
    space: str | None,
    person: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    json_output: bool,
) -> None:
    """Full-text search, best matches first: words as typed (e-mail, v1.2, C++), "phrases",
    prefix*, and AND/OR/NOT in capitals with (groups)."""
    zone, _ = local_zone()
    conn = connect(app.archive)
    hits = search(
        conn,
        " ".join(query),
        space,
        person,
        api_time(parse_date(since)) if since else None,
        api_time(parse_date(until)) if until else None,
        limit,
    )
    if json_output:
        click.echo(json.dumps([as_json(hit, zone) for hit in hits], indent=2, ensure_ascii=False))
        return
    colour = colour_wanted()
    for hit in hits:
        local = local_time(hit, zone)
        when = f"{local:%Y-%m-%d %H:%M}" if local else "time not known"
        click.echo(f"{when}  {clean_inline(hit.space_title)}  {clean_inline(hit.author)}")
        click.echo(f"    {highlight(hit.snippet, colour)}")
        if hit.thread is not None:
            click.echo(f'    (reply in the thread "{clean_inline(hit.thread)}")')
    if not hits and not app.quiet:
        click.echo("no message matches", err=True)


@click.command("datasette-metadata")
def datasette_metadata_command() -> None:
    """Print metadata for Datasette (titles, descriptions, column docs from schema.sql).

    Use: webex-archive datasette-metadata > metadata.json;
    datasette webex-archive/archive.db -m metadata.json
    """
    from .schema_docs import datasette_metadata, parse, schema_path

    click.echo(json.dumps(datasette_metadata(parse(schema_path().read_text())), indent=2))

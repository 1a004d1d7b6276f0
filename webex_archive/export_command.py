"""``webex-archive export``: the archive as a data set for other engines (Parquet)."""

from __future__ import annotations

from pathlib import Path

import click

from render.parquet import export_parquet

from .cli import App
from .options import count_type, date_option, days_type
from .render_command import until_option, window

pass_app = click.make_pass_decorator(App)


def folder_option(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """--parquet names a folder: refuse a file, or a path below one, before reading."""
    for ancestor in (value, *value.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise click.BadParameter(f"{ancestor} is a file, not a folder")
            break
    return value


@click.command()
@click.argument("space", nargs=-1)
@click.option("--all", "all_spaces", is_flag=True, help="Export every archived space.")
@click.option(
    "--parquet",
    "folder",
    type=click.Path(path_type=Path),
    required=True,
    callback=folder_option,
    help="Write a Parquet data set into this folder (new, empty, or an earlier export).",
)
@click.option("--last", type=count_type(), help="Only the newest N messages of each space.")
@click.option("--days", type=days_type(), help="Only the last N days.")
@click.option("--since", callback=date_option, help="From this date (2024-03-01, ...).")
@click.option("--until", callback=until_option, help="Up to this date (a date alone: that day).")
@click.option("--blur", "--redact", "blur", is_flag=True, help="Hide names, emails, person ids.")
@pass_app
def export(
    app: App,
    space: tuple[str, ...],
    all_spaces: bool,
    folder: Path,
    last: int | None,
    days: float | None,
    since: str | None,
    until: str | None,
    blur: bool,
) -> None:
    """Export SPACE(s) (ids or titles) as Parquet (messages, revisions, files, people,
    memberships, spaces; partitioned by space and month). Needs the [parquet] extra."""
    if bool(space) == all_spaces:
        raise click.UsageError("name at least one SPACE (id or title), or pass --all")
    filters, _ = window(since, until, days, last, "oldest")
    counts = export_parquet(app.archive, folder, list(space), all_spaces, filters, blur)
    if not app.quiet:
        rows = ", ".join(f"{count:,} {table}" for table, count in counts.items())
        click.echo(f"{folder}: {rows}", err=True)
    click.echo(str(folder))

"""``webex-archive run`` and ``init-config``: the old tool's one-shot job from its .ini file.

Users of the seed tool keep their ``webexspacearchive-config.ini`` and their habit of one
command per space: ``run`` reads the file (every key and value form the old tool knew), then
syncs and renders in one go, into the folder the .ini lives in unless ``--archive`` is given.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

import click
from click.core import ParameterSource
from dateutil import tz

from etl import spaces as space_lookup
from etl import store
from etl.sync import SyncOptions, sync_spaces
from render import Filters, RenderOptions, home_path, render_spaces, writes_into_archive

from .cli import App, human_errors
from .config import DEFAULT_NAME, ConfigError, RunConfig, load_config, write_default_config
from .options import api_time
from .render_command import local_zone

pass_app = click.make_pass_decorator(App)
RENDER_AVATARS = {"no": "initials", "link": "link", "download": "auto"}


def archive_dir(ctx: click.Context, app: App, config: RunConfig) -> Path:
    """Where the seed wrote: beside the .ini, unless --archive/WEBEX_ARCHIVE_DIR says else."""
    source = ctx.find_root().get_parameter_source("archive")
    if source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT) or os.environ.get(
        "WEBEX_ARCHIVE_DIR"
    ):
        return app.archive
    return config.path.parent


def bounds(config: RunConfig) -> tuple[str | None, str | None, str]:
    """(since, until) as API times and a sentence, from ``maxtotalmessages``."""
    zone = tz.tzlocal()
    since = until = None
    words = []
    if config.days:
        since = api_time(datetime.now(zone) - timedelta(days=config.days))
        words.append(f"the last {config.days} days")
    if config.since:
        since = api_time(datetime.combine(config.since, clock(), zone))
        words.append(f"since {config.since.isoformat()}")
    if config.until:
        until = api_time(datetime.combine(config.until + timedelta(days=1), clock(), zone))
        words.append(f"until {config.until.isoformat()} (inclusive)")
    if config.last:
        words.insert(0, f"the newest {config.last:,} messages")
    return since, until, ", ".join(words) or "all messages"


def run_one(ctx: click.Context, app: App, config: RunConfig, space: str | None) -> list[Path]:
    """Sync and render the space one .ini names; returns the files written."""
    token = (
        app.token
        if ctx.find_root().get_parameter_source("token") == ParameterSource.COMMANDLINE
        else (config.token or app.token)
    )
    wanted = space or config.space_id
    source = token or app.stored_signin()  # no token given: the sign-in of `login`
    if source is None:
        raise ConfigError(
            f"{config.path.name}: no token (set mytoken or WEBEX_ARCHIVE_TOKEN, "
            "or run `webex-archive login`)"
        )
    if not wanted:
        raise ConfigError(f"{config.path.name}: no space (set myspaceid or name it: run X.ini ID)")
    archive = archive_dir(ctx, app, config)
    since, until, text = bounds(config)
    reporter = app.reporter()
    for note in config.notes:
        reporter.notice(f"{config.path.name}: {note}")
    options = SyncOptions(
        since=since,
        last=config.last,
        download=config.download,
        avatars=config.avatars,
        archive_dir=archive,
    )
    db = store.open_archive(archive)
    with app.client(reporter, source, archive) as client:
        [space_id] = space_lookup.resolve(client, [wanted])
        [result] = sync_spaces(
            db, client, [space_id], options, reporter.status, {"run": str(config.path)}
        )
    reporter.clear()
    if result.error:
        raise ConfigError(f"{config.path.name}: {result.error}")
    folder = db.execute("SELECT folder FROM spaces WHERE id = ?", [space_id]).fetchone()[0]
    output = archive / folder / f"{config.output_name}.html" if config.output_name else None
    zone, zone_name = local_zone()
    render_options = RenderOptions(
        filters=Filters(since=since, until=until, last=config.last, sort=config.sort),
        zone=zone, zone_name=zone_name, formats=config.formats,
        avatars=RENDER_AVATARS[config.avatars], blur=config.blur, output=output,
        filters_text=text,
    )  # fmt: skip
    written = render_spaces(archive, [space_id], False, render_options)
    if writes_into_archive(archive, output):  # render_spaces wrote the home page too
        written.append(home_path(archive, config.blur))
    return written


@click.command()
@click.argument("args", nargs=-1, metavar="[CONFIG.ini ...] [SPACE]")
@click.pass_context
def run(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Sync and render in one go, as the old tool did, from its .ini file(s).

    With no CONFIG, ./webexspacearchive-config.ini is read. SPACE (an id or a title) overrides
    the file's myspaceid. Several .ini files run one after the other; one failing does not
    stop the others.
    """
    app = ctx.find_object(App)
    configs = [Path(a) for a in args if a.lower().endswith(".ini")] or [Path(DEFAULT_NAME)]
    spaces = [a for a in args if not a.lower().endswith(".ini")]
    if len(spaces) > 1:
        raise click.UsageError("name at most one SPACE (or put each in its own .ini)")
    failures = []
    for path in configs:
        started = time.monotonic()
        try:
            written = run_one(ctx, app, load_config(path), spaces[0] if spaces else None)
        except human_errors() as error:
            failures.append(f"{path}: {error}")
            click.echo(f"Error: {error}", err=True)
            continue
        for file in written:
            click.echo(str(file))
        if not app.quiet:
            click.echo(f"{path}: done in {time.monotonic() - started:.1f} s", err=True)
    if failures and len(configs) > 1:
        click.echo(f"{len(failures)} of {len(configs)} configurations failed", err=True)
    if failures:
        ctx.exit(1)


@click.command("init-config")
@click.argument("path", type=click.Path(path_type=Path), default=DEFAULT_NAME)
def init_config(path: Path) -> None:
    """Write a commented .ini with the defaults (an existing file is never overwritten)."""
    write_default_config(path)
    click.echo(
        f"wrote {path}: set mytoken (or WEBEX_ARCHIVE_TOKEN) and myspaceid, then "
        f"`webex-archive run {path}`"
    )

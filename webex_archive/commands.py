"""The archive commands: ``spaces``, ``sync`` and ``status``."""

from __future__ import annotations

import json
import time

import click

from etl import spaces as space_lookup
from etl import store
from etl.sync import SyncOptions, sync_spaces

from .cli import App
from .options import since_bound
from .status import space_status

pass_app = click.make_pass_decorator(App)


@click.command()
@click.argument("search", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one array) instead of text.")
@pass_app
def spaces(app: App, search: str | None, as_json: bool) -> None:
    """List the spaces the token can see (group and direct apart), optionally by title."""
    reporter = app.reporter()
    with app.client(reporter) as client:
        rooms = space_lookup.list_spaces(client)
    if search:
        rooms = [r for r in rooms if search.casefold() in r.get("title", "").casefold()]
    if as_json:
        keys = ("id", "title", "type", "lastActivity", "created")
        click.echo(json.dumps([{k: r.get(k) for k in keys} for r in rooms], indent=2))
        return
    for kind in ("group", "direct"):
        chosen = [r for r in rooms if r.get("type") == kind]
        click.echo(f"{kind} spaces ({len(chosen)}):")
        for room in chosen:
            title = json.dumps(room.get("title", ""), ensure_ascii=False)
            click.echo(
                f"  {title}\n    id: {room['id']}  last activity: {room.get('lastActivity', '-')}"
            )


@click.command()
@click.argument("space", nargs=-1)
@click.option("--all", "all_spaces", is_flag=True, help="Sync every space the token can see.")
@click.option("--since", help="First run: history from this date (2024-03-01 or 01032024).")
@click.option("--days", type=float, help="First run: history of the last N days.")
@click.option("--last", type=click.IntRange(min=1), help="First run: the newest N messages.")
@click.option(
    "--rescan",
    default=7.0,
    show_default=True,
    help="Days of recent history re-read for edits and deletions.",
)
@click.option("--full", is_flag=True, help="Re-read all history (finds old edits/deletions).")
@click.option("--workers", default=4, show_default=True, help="Parallel file look-ups.")
@pass_app
def sync(
    app: App,
    space: tuple[str, ...],
    all_spaces: bool,
    since: str | None,
    days: float | None,
    last: int | None,
    rescan: float,
    full: bool,
    workers: int,
) -> None:
    """Pull SPACE(s) (ids, or title searches matching one space) into the archive."""
    if bool(space) == all_spaces:
        raise click.UsageError("name at least one SPACE (id or title), or pass --all")
    options = SyncOptions(
        since=since_bound(since, days), last=last, rescan_days=rescan, full=full, workers=workers
    )
    reporter = app.reporter()
    started = time.monotonic()
    db = store.open_archive(app.archive)
    with app.client(reporter) as client:
        if all_spaces:
            ids = [r["id"] for r in space_lookup.list_spaces(client)]
        else:
            ids = space_lookup.resolve(client, list(space))
        arguments = {
            "spaces": list(space),
            "all": all_spaces,
            "since": options.since,
            "last": last,
            "rescan": rescan,
            "full": full,
        }
        results = sync_spaces(db, client, ids, options, reporter.status, arguments)
        requests = client.stats.requests
    reporter.clear()
    summary = (
        f"synced {len(results)} space{'s' * (len(results) != 1)}: "
        f"{sum(r.new for r in results)} new, {sum(r.edited for r in results)} edited, "
        f"{sum(r.deleted for r in results)} deleted, {requests} requests, "
        f"{time.monotonic() - started:.1f} s"
    )
    if not app.quiet:
        click.echo(summary, err=True)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """What the archive holds, per space: messages, people, files, history, last sync."""
    db = store.connect_readonly(app.archive)
    rows = space_status(db)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"{app.archive}: no spaces yet; run `webex-archive sync SPACE`")
    for row in rows:
        title = json.dumps(row["title"], ensure_ascii=False)
        click.echo(
            f"{title} ({row['type']}, {row['id']})\n"
            f"  messages: {row['messages']} ({row['deleted']} deleted), members: "
            f"{row['members']}, people: {row['people']}, files: {row['files']}\n"
            f"  history: {row['history']}\n"
            f"  last sync: {row['last_sync'] or 'never'} ({row['last_status'] or '-'})"
        )

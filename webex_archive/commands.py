"""The archive commands: ``spaces``, ``sync`` and ``status``."""

from __future__ import annotations

import json
import time

import click

from etl import spaces as space_lookup
from etl import store
from etl.api import Stats, WebexClient
from etl.events import is_compliance_officer
from etl.store.lock import folder_lock
from etl.sync import SyncOptions, sync_spaces

from .cli import App
from .options import (
    active_since_option,
    count_type,
    date_option,
    days_type,
    since_bound,
)
from .org_options import org_options, org_plan, org_selection
from .status import space_status

pass_app = click.make_pass_decorator(App)
OFFICER_NOTE = (
    "this token is a compliance officer's: `sync --org` and `sync --custodian EMAIL` also "
    "reach the organisation's spaces it is not in (docs/compliance.md)"
)
MAX_WORKERS = 64  # parallel transfers: more only earns 429s from Webex


def exclude_option(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """An empty --exclude is in every title: it would skip every space, so it is an error."""
    if any(not text for text in value):
        raise click.BadParameter("an empty text is in every title and would skip every space")
    return value


@click.command()
@click.argument("search", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one array) instead of text.")
@pass_app
def spaces(app: App, search: str | None, as_json: bool) -> None:
    """List the spaces the token can see (group and direct apart), optionally by title."""
    reporter = app.reporter()
    with app.client(reporter) as client:
        rooms = space_lookup.list_spaces(client)
        officer = not as_json and is_compliance_officer(client)
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
    if officer:
        click.echo(OFFICER_NOTE)


@click.command()
@click.argument("space", nargs=-1)
@click.option("--all", "all_spaces", is_flag=True, help="Sync every space the token can see.")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["group", "direct"]),
    help="With --all: only group or only direct spaces.",
)
@click.option(
    "--active-since",
    callback=active_since_option,
    help="With --all: only spaces active since (90d, 12w, a date).",
)
@click.option(
    "--exclude",
    multiple=True,
    callback=exclude_option,
    help="With --all: skip titles containing this.",
)
@click.option(
    "--since", callback=date_option, help="History from this date (2024-03-01 or 01032024)."
)
@click.option("--days", type=days_type(), help="History of the last N days.")
@click.option("--last", type=count_type(), help="The newest N messages.")
@click.option(
    "--rescan",
    type=days_type(open_minimum=False),
    default=7.0,
    show_default=True,
    help="Days of recent history re-read for edits and deletions.",
)
@click.option("--full", is_flag=True, help="Re-read all history (finds old edits/deletions).")
@click.option(
    "--download",
    type=click.Choice(["no", "none", "info", "images", "files"]),
    default="info",
    show_default=True,
    help="Attachments: nothing, names and sizes, image files, or all files.",
)
@click.option(
    "--avatars",
    type=click.Choice(["no", "link", "download"]),
    default="no",
    show_default=True,
    help="download: store authors' avatars in the space folder.",
)
@click.option(
    "--allow-unscannable",
    is_flag=True,
    help="Also download files Webex could not scan for malware (428).",
)
@click.option(
    "--workers",
    type=count_type(1, MAX_WORKERS),
    default=4,
    show_default=True,
    help="Parallel requests: slices of missing history, and file transfers (1: one walk).",
)
@org_options
@click.option(
    "--max-rate",
    type=count_type(1, 100_000),
    help="At most N requests a minute (a token shared with other tools). "
    "Default: as fast as Webex allows, learnt from its 429 answers and remembered.",
)
@click.option(
    "--relearn-rate",
    is_flag=True,
    help="Forget the pace earlier runs learnt from Webex's 429s and learn it again.",
)
@click.option(
    "--file-info-limit",
    type=count_type(0),
    help="Ask Webex about at most N files this run (one request each); the rest next time.",
)
@pass_app
def sync(
    app: App,
    space: tuple[str, ...],
    all_spaces: bool,
    kind: str | None,
    active_since: str | None,
    exclude: tuple[str, ...],
    since: str | None,
    days: float | None,
    last: int | None,
    rescan: float,
    full: bool,
    download: str,
    avatars: str,
    allow_unscannable: bool,
    workers: int,
    org: bool,
    custodian: tuple[str, ...],
    custodians_file: tuple[str, ...] | None,
    events_retention: float,
    max_rate: int | None,
    relearn_rate: bool,
    file_info_limit: int | None,
) -> None:
    """Pull SPACE(s) (ids, or title searches matching one space) into the archive."""
    selection = org_selection(org, custodian, custodians_file, events_retention)
    check_selection(space, all_spaces or selection is not None, kind, active_since, exclude)
    if selection is not None and all_spaces:
        raise click.UsageError("--org and --custodian choose the spaces: not with --all")
    options = sync_options(
        app, since, days, last, rescan, full, download, avatars, allow_unscannable, workers
    )
    options.file_info_limit, options.relearn_rate = file_info_limit, relearn_rate
    reporter = app.reporter()
    started = time.monotonic()
    with (
        app.client(reporter) as client,  # a missing token is a usage error: before the archive
        folder_lock(app.archive),  # before opening it: a second sync meets this lock, not SQLite's
    ):
        client.pacer.limit(max_rate)
        plan = org_plan(client, selection, reporter.notice) if selection else None
        db = store.open_archive(app.archive)
        rooms = {} if plan else space_rooms(client, space, all_spaces, kind, active_since, exclude)
        arguments = run_arguments(space, all_spaces, options, download) | {"max_rate": max_rate}
        if selection is not None:
            arguments.update(org=selection.org, custodians=selection.custodians)
        results = sync_spaces(
            db, client, list(rooms), options, reporter.status, arguments, locked=True,
            rooms={k: v for k, v in rooms.items() if v is not None}, plan=plan,
        )  # fmt: skip
    reporter.clear()
    report_sync(app, results, client.stats, started)


def check_selection(
    space: tuple[str, ...],
    all_spaces: bool,
    kind: str | None,
    active_since: str | None,
    exclude: tuple[str, ...],
) -> None:
    """SPACE(s) or --all, not both; the --all filters only with --all."""
    if bool(space) == all_spaces:
        raise click.UsageError(
            "name at least one SPACE (id or title), or pass --all (or --org, --custodian)"
        )
    if not all_spaces and (kind or active_since or exclude):
        raise click.UsageError("--type, --active-since and --exclude go with --all")


def space_rooms(
    client: WebexClient,
    space: tuple[str, ...],
    all_spaces: bool,
    kind: str | None,
    active_since: str | None,
    exclude: tuple[str, ...],
) -> dict[str, dict | None]:
    """The spaces to sync, by id: every space the filters keep (--all), with its room as the
    listing gave it (lastActivity included: an unchanged space then costs no request of its
    own), or SPACE(s) resolved (None: the sync asks for each room)."""
    if all_spaces:
        rooms = space_lookup.select(space_lookup.list_spaces(client), kind, active_since, exclude)
        return {r["id"]: r for r in rooms}
    return dict.fromkeys(space_lookup.resolve(client, list(space)))


def sync_options(
    app: App,
    since: str | None,
    days: float | None,
    last: int | None,
    rescan: float,
    full: bool,
    download: str,
    avatars: str,
    allow_unscannable: bool,
    workers: int,
) -> SyncOptions:
    """The command line's options in the sync's terms (``--download none`` is ``no``)."""
    return SyncOptions(
        since=since_bound(since, days), last=last, rescan_days=rescan, full=full,
        workers=workers, download="no" if download == "none" else download, avatars=avatars,
        allow_unscannable=allow_unscannable, archive_dir=app.archive,
    )  # fmt: skip


def run_arguments(
    space: tuple[str, ...], all_spaces: bool, options: SyncOptions, download: str
) -> dict:
    """The command line as the sync records it with each run (``download`` as typed: the
    options say ``no`` for ``none``)."""
    return {
        "spaces": list(space),
        "all": all_spaces,
        "since": options.since,
        "last": options.last,
        "rescan": options.rescan_days,
        "full": options.full,
        "download": download,
    }


def report_sync(app: App, results: list, stats: Stats, started: float) -> None:
    """The table (several spaces) and the one-line summary (with what the requests cost:
    retries, 429 answers, seconds waited and paced); a failure is the exit status."""
    if len(results) > 1 and not app.quiet:
        click.echo(summary_table(results), err=True)
    failed = [r for r in results if r.error]
    if len(results) == 1 and failed:
        raise click.ClickException(failed[0].error or "the sync failed")
    if not app.quiet:
        click.echo(
            f"synced {len(results) - len(failed)} space{'s' * (len(results) != 1)}"
            f"{f' ({len(failed)} failed)' if failed else ''}: "
            f"{sum(r.new for r in results)} new, {sum(r.edited for r in results)} edited, "
            f"{sum(r.deleted for r in results)} deleted, {request_summary(stats)}, "
            f"{time.monotonic() - started:.1f} s",
            err=True,
        )
    if failed:
        raise SystemExit(1)


def request_summary(stats: Stats) -> str:
    """``N requests`` and, when there were any, what made them slower."""
    extra = [f"{stats.retries} retried"] if stats.retries else []
    extra += [f"{stats.rate_limited} rate-limited (429)"] if stats.rate_limited else []
    extra += [f"{stats.waited:.1f} s waiting"] if stats.waited >= 0.05 else []
    extra += [f"{stats.paced:.1f} s pacing"] if stats.paced >= 0.05 else []
    return f"{stats.requests} requests" + (f" ({', '.join(extra)})" if extra else "")


def summary_table(results: list) -> str:
    """One line per space: what the sync did, or why it failed."""
    lines = [f"{'space':<40} {'new':>7} {'edited':>6} {'deleted':>7} {'files':>6}  outcome"]
    for r in results:
        title = (r.title or r.space_id)[:40]
        files = r.downloads.get("downloaded", 0) if r.downloads else 0
        outcome = f"failed: {r.error}" if r.error else ("unchanged" if r.unchanged else "ok")
        lines.append(f"{title:<40} {r.new:>7} {r.edited:>6} {r.deleted:>7} {files:>6}  {outcome}")
    return "\n".join(lines)


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
            f"  last sync: {row['last_sync'] or 'never'} ({row['last_status'] or '-'}"
            f"{': ' + row['last_error'] if row['last_error'] else ''})"
        )


@click.command()
@click.argument("space")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def forget(app: App, space: str, yes: bool) -> None:
    """Remove SPACE (id or title) and its files from the archive, for good."""
    from etl.store.forget import forget_space
    from render.query import connect, find_spaces

    conn = connect(app.archive)
    [chosen] = find_spaces(conn, [space], False)
    conn.close()
    if not yes:
        click.confirm(
            f"Remove {chosen['title']!r} ({chosen['id']}) and its folder from "
            f"{app.archive}? This cannot be undone",
            abort=True,
        )
    removed = forget_space(store.open_archive(app.archive), app.archive, chosen["id"])
    click.echo(
        f"forgot {chosen['title']!r}: {removed['messages']} messages, "
        f"{removed['files']} files, {removed['memberships']} memberships"
    )

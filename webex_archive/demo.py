"""``webex-archive demo``: the whole job on the embedded emulator, for a first look."""

from __future__ import annotations

import os
import sys
import time
import webbrowser
from pathlib import Path

import click

from etl import store
from etl.api import WebexClient
from etl.sync import SyncOptions, sync_spaces
from render import FORMATS, RenderOptions, home_path, render_spaces
from webex_emulator import Emulator, generate
from webex_emulator.cli import describe

from .cli import archive_option
from .progress import Reporter
from .render_command import local_zone
from .status import space_status


def open_in_browser(page: Path, reporter: Reporter) -> None:
    """Open the page, or say why not: with no display (an SSH session, a container) there is
    no browser to open, and saying nothing left the reader waiting for one."""
    graphical = sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    )
    if graphical and webbrowser.open(page.resolve().as_uri()):
        return
    why = "no browser could be started" if graphical else "no display"
    reporter.notice(f"no browser was opened ({why}): open {page} yourself")


@click.command()
@click.option(
    "--archive",
    type=click.Path(file_okay=False),  # a str: archive_option refuses "" (Path("") is ".")
    default="webex-archive-demo",
    show_default=True,
    callback=archive_option,
    help="Where the demo archive goes.",
)
@click.option("--seed", default=1, show_default=True, help="Seed of the demo data set.")
@click.option(
    "--messages",
    type=click.IntRange(0, 100_000),
    default=300,
    show_default=True,
    help="Messages per group space.",
)
@click.option("--open", "open_page", is_flag=True, help="Open the home page in a browser.")
@click.option("--serve", is_flag=True, help="Keep the emulator running afterwards (Ctrl-C).")
@click.pass_context
def demo(
    ctx: click.Context, archive: Path, seed: int, messages: int, open_page: bool, serve: bool
) -> None:
    """The whole job on the bundled Webex API emulator: sync its spaces, render them.

    Starts the emulator on a free port, syncs all its spaces into the demo archive, renders
    each as HTML, JSON and TXT with the archive's home page (index.html), and prints where
    they are.
    """
    quiet = ctx.find_root().params.get("quiet", False)
    reporter = Reporter(quiet=quiet)
    emulator = Emulator(generate(seed=seed, messages=messages)).start()
    try:
        started = time.monotonic()
        db = store.open_archive(archive)
        with WebexClient(emulator.token, emulator.api_url, notify=reporter.notice) as client:
            results = sync_spaces(
                db,
                client,
                list(emulator.dataset.rooms),
                SyncOptions(download="files", avatars="download", archive_dir=archive),
                reporter.status,
                {"demo": True, "seed": seed},
            )
        reporter.clear()
        new = sum(r.new for r in results)
        click.echo(
            f"synced {len(results)} spaces, {new} messages into {archive / store.DB_NAME} "
            f"in {time.monotonic() - started:.1f} s"
        )
        for row in space_status(db):
            click.echo(
                f"  {row['messages']:>5} messages  {row['files']:>3} files  {row['title']!r}"
            )
        zone, zone_name = local_zone()
        options = RenderOptions(zone=zone, zone_name=zone_name, formats=FORMATS)
        paths = render_spaces(archive, [], True, options)
        home = home_path(archive, False)
        click.echo(f"rendered {len(results)} spaces, with the home page {home}:")
        for path in paths:
            click.echo(f"  {path}")
        click.echo(
            f"query it: sqlite3 {archive / store.DB_NAME} "
            '"select author_name, text from messages_view limit 5"'
        )
        if open_page:
            open_in_browser(home, reporter)
        if serve:
            click.echo(describe(emulator))
            emulator.serve_forever()
    finally:
        emulator.stop()

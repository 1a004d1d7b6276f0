"""``webex-archive demo``: the whole job on the embedded emulator, for a first look."""

from __future__ import annotations

import click

from emulator import Emulator, generate
from emulator.cli import describe


@click.command()
@click.option("--seed", default=1, show_default=True, help="Seed of the demo data set.")
@click.option("--messages", default=300, show_default=True, help="Messages per group space.")
@click.option("--serve", is_flag=True, help="Keep the emulator running until Ctrl-C.")
def demo(seed: int, messages: int, serve: bool) -> None:
    """Start the bundled Webex API emulator on a free port and show what it serves.

    Sync and render are not built yet: for now the demo shows the emulator that they will
    archive from, and how to page through it with curl.
    """
    emulator = Emulator(generate(seed=seed, messages=messages)).start()
    try:
        click.echo(describe(emulator).replace("Press Ctrl-C to stop.", "").rstrip())
        if serve:
            click.echo("Press Ctrl-C to stop.")
            emulator.serve_forever()
        else:
            click.echo("(demo finished; run `webex-archive demo --serve` to keep it running)")
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()

"""``webex-archive``: the command line. Commands stay thin and call library functions."""

from __future__ import annotations

import click

from emulator.cli import main as emulator_command

from . import __version__
from .demo import demo


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webex-archive")
def main() -> None:
    """Archive Cisco Webex spaces into SQLite and render them as HTML, JSON and TXT."""


main.add_command(emulator_command, "emulator")
main.add_command(demo)

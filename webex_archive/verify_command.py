"""``webex-archive verify``: re-check a rendering's chain of custody (render/custody.py)."""

from __future__ import annotations

from pathlib import Path

import click

from render.custody import shown, verify


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
def verify_command(path: Path) -> None:
    """Check that the files a custody manifest (X.custody.json) lists are unchanged.

    PATH is a manifest, or a folder: then every manifest in it and below. Prints one line
    per file changed, missing or added, and exits 1; else one line of summary, exit 0."""
    verdicts = verify(path)
    problems = [line for verdict in verdicts for line in verdict.lines()]
    for line in problems:
        click.echo(line)
    if problems:
        bad = sum(not verdict.ok for verdict in verdicts)
        raise click.ClickException(
            f"{len(problems)} difference(s) in {bad} of {len(verdicts)} custody manifest(s): "
            "the files are not the ones rendered"
        )
    checked = sum(verdict.checked for verdict in verdicts)
    if len(verdicts) == 1:
        [one] = verdicts
        click.echo(f"ok: {checked} files match {shown(one.manifest)} (sha256 {one.digest})")
    else:
        click.echo(f"ok: {checked} files match {len(verdicts)} custody manifests under "
                   f"{shown(path)}")  # fmt: skip

"""``sync --org``, ``--custodian``, ``--custodians``: a compliance officer's selection of spaces
(docs/compliance.md), as options of ``sync`` and the plan they make."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from etl.api import WebexClient
from etl.compliance import CompliancePlan, Selection
from etl.custodians import EMAIL, read_custodians
from etl.errors import SyncError
from etl.events import DEFAULT_RETENTION_DAYS

from .options import days_type


def custodian_option(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    for email in value:
        if not EMAIL.fullmatch(email):
            raise click.BadParameter(f"{email!r} is not an email address")
    return value


def custodians_option(
    ctx: click.Context, param: click.Parameter, value: Path | None
) -> tuple[str, ...] | None:
    """The file's emails, read while the options are parsed: a bad file is a usage error."""
    if value is None:
        return None
    try:
        emails = read_custodians(value)
    except SyncError as error:
        raise click.BadParameter(str(error)) from None
    if not emails:
        raise click.BadParameter(f"{value} names no custodian")
    return tuple(emails)


def org_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options, added to ``sync`` in the order ``--help`` lists them."""
    decorators = [
        click.option(
            "--org",
            is_flag=True,
            help="Compliance officers: every space of the organisation the events feed or the "
            "custodians reveal; edits and deletions from the feed.",
        ),
        click.option(
            "--custodian",
            multiple=True,
            callback=custodian_option,
            help="Compliance officers: every space this person (email) is in. Repeatable.",
        ),
        click.option(
            "--custodians",
            "custodians_file",
            type=click.Path(dir_okay=False, path_type=Path),
            callback=custodians_option,
            help="Compliance officers: a file of custodian emails, one a line (# comments).",
        ),
        click.option(
            "--events-retention",
            type=days_type(),
            default=DEFAULT_RETENTION_DAYS,
            show_default=True,
            help="Days Webex keeps the events feed (90; longer with the Pro Pack).",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def org_selection(
    org: bool, custodian: tuple[str, ...], from_file: tuple[str, ...] | None, retention: float
) -> Selection | None:
    """The officer's selection, or None when the run names spaces (SPACE or --all)."""
    emails = [*custodian, *(from_file or ())]
    if not (org or emails):
        return None
    return Selection(org=org, custodians=list(dict.fromkeys(emails)), retention_days=retention)


def org_plan(
    client: WebexClient, selection: Selection, notify: Callable[[str], None]
) -> CompliancePlan:
    """The plan, once the token is known to be a compliance officer's (one line if not)."""
    plan = CompliancePlan(client, selection, notify)
    plan.check_officer()
    return plan

"""``webex-archive emulator`` (also ``python -m webex_emulator``): serve a Webex API locally."""

from __future__ import annotations

import errno
import json
import socket
import sys
from pathlib import Path
from typing import Any

import click

from .cli_settings import Finite, build_settings, settings_options
from .faults import Faults, Rule
from .generate import generate
from .integrations import OAuthSettings
from .model import DataSet
from .server import Emulator


def _fault_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A path prefix starts with "/" (``/v1/messages``); anything else would match nothing."""
    if value and not value.startswith("/"):
        raise click.BadParameter(f"{value!r} is not a path: use e.g. /v1/messages")
    return value


def _rate(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not 0 <= value <= 1:
        raise click.BadParameter(f"{value} is not a rate between 0 and 1 (e.g. 0.05)")
    return value


def _fail_at(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[Rule]:
    try:
        rules = [Rule.parse(spec) for spec in value]
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    for spec, rule in zip(value, rules, strict=True):
        if rule.at and min(rule.at) < 1:
            raise click.BadParameter(f"fault {spec!r}: requests are counted from 1")
        if rule.kind == "status" and not 400 <= (rule.status or 0) <= 599:
            raise click.BadParameter(f"fault {spec!r}: the status must be from 400 to 599")
    return rules


def load_dataset(
    data: Path | None,
    seed: int,
    spaces: int,
    messages: int,
    people: int,
    span_days: float,
    hostile: bool,
) -> DataSet:
    if data is None:
        return generate(
            seed=seed,
            spaces=spaces,
            messages=messages,
            people=people,
            span_days=span_days,
            hostile_rate=0.01 if hostile else 0,
        )
    try:
        return DataSet.load(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        # The file is the option's value: a bad one is a usage error naming --data.
        raise click.BadParameter(
            f"cannot load data set {data}: {error}", param_hint="'--data'"
        ) from None


def build_faults(
    latency_ms: float,
    fail_429: float,
    retry_after: int | None,
    fail_5xx: float,
    fail_status: int,
    drop_rate: float,
    fail_at: list[Rule],
    fault_path: str,
    lock_files: int,
    expire_token_after: int | None,
    fault_seed: int,
) -> Faults:
    rules = list(fail_at)
    if fail_429:
        rules.append(Rule("status", 429, rate=fail_429, retry_after=retry_after, path=fault_path))
    if fail_5xx:
        rules.append(Rule("status", fail_status, rate=fail_5xx, path=fault_path))
    if drop_rate:
        rules.append(Rule("drop", rate=drop_rate, path=fault_path))
    for rule in fail_at:
        rule.path = fault_path
    return Faults(
        latency_ms=latency_ms,
        rules=rules,
        lock_files=lock_files,
        expire_token_after=expire_token_after,
        seed=fault_seed,
    )


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8099,
    show_default=True,
    help="Port; 0 picks a free one.",
)
@click.option("--seed", default=1, show_default=True, help="Seed of the generated data set.")
@click.option(
    "--spaces",
    type=click.IntRange(0, 1000),
    default=3,
    show_default=True,
    help="Group spaces to generate.",
)
@click.option(
    "--messages",
    type=click.IntRange(0, 10_000_000),
    default=200,
    show_default=True,
    help="Messages per generated group space (the direct space gets a tenth).",
)
@click.option(
    "--people",
    type=click.IntRange(4, 100_000),  # spaces draw four members besides the owner
    default=12,
    show_default=True,
    help="People to generate.",
)
@click.option(
    "--span-days",
    type=Finite(1, 36_525),  # a day (distinct millisecond times) to a century
    default=900.0,
    show_default=True,
    help="Days of history the generated messages cover, ending now.",
)
@click.option(
    "--hostile/--no-hostile",
    default=True,
    show_default=True,
    help="Mix hostile text, titles, names and file names into the data.",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Serve this data-set file instead of generating one.",
)
@click.option(
    "--dump",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the data set to this file and exit.",
)
@click.option(
    "--latency-ms",
    type=Finite(0, 600_000),
    default=0.0,
    help="Delay every API request by this much.",
)
@click.option("--fail-429", default=0.0, callback=_rate, help="Share of requests answered 429.")
@click.option(
    "--retry-after",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Retry-After seconds sent with injected 429s.",
)
@click.option("--fail-5xx", default=0.0, callback=_rate, help="Share of requests failing 5xx.")
@click.option(
    "--fail-status",
    type=click.Choice(["500", "502", "503", "504"]),
    default="503",
    show_default=True,
    help="Status used by --fail-5xx.",
)
@click.option(
    "--drop-rate",
    default=0.0,
    callback=_rate,
    help="Share of requests whose connection is cut mid-body.",
)
@click.option(
    "--fail-at",
    multiple=True,
    callback=_fail_at,
    metavar="N=WHAT",
    help="Fail request N: a status (429, 503…), drop, slow, malformed, empty, errors (an "
    "item with an errors object), delete-cursor or remove-room. Repeatable.",
)
@click.option(
    "--fault-path",
    default="",
    callback=_fault_path,
    help="Only inject faults under this path prefix, e.g. /v1/messages.",
)
@click.option(
    "--lock-files",
    type=click.IntRange(min=0),
    default=0,
    help="Answer 423 (being scanned) this many times per file before serving it.",
)
@click.option(
    "--expire-token-after",
    type=click.IntRange(min=0),
    help="Answer 401 after this many requests.",
)
@click.option("--fault-seed", default=0, help="Seed of the random fault schedule.")
@click.option(
    "--access-token-seconds",
    type=Finite(0.001, 1e9),
    help="Lifetime of access tokens issued to integrations (default: the data set's, 14 days).",
)
@click.option(
    "--refresh-token-seconds",
    type=Finite(0.001, 1e9),
    help="Lifetime of refresh tokens, renewed on use (default: the data set's, 90 days).",
)
@click.option(
    "--code-seconds",
    type=Finite(0.001, 1e9),
    help="Lifetime of authorization codes (default: the data set's, 600).",
)
@click.option(
    "--keep-filters",
    is_flag=True,
    help="Keep parentId/mentionedPeople in next links (the real API drops them).",
)
@settings_options
def main(
    host: str,
    port: int,
    seed: int,
    spaces: int,
    messages: int,
    people: int,
    span_days: float,
    hostile: bool,
    data: Path | None,
    dump: Path | None,
    latency_ms: float,
    fail_429: float,
    retry_after: int,
    fail_5xx: float,
    fail_status: str,
    drop_rate: float,
    fail_at: list[Rule],
    fault_path: str,
    lock_files: int,
    expire_token_after: int | None,
    fault_seed: int,
    access_token_seconds: float | None,
    refresh_token_seconds: float | None,
    code_seconds: float | None,
    keep_filters: bool,
    **behaviour: Any,
) -> None:
    """Serve a local Webex API (generated or loaded data, optional faults) until Ctrl-C."""
    dataset = load_dataset(data, seed, spaces, messages, people, span_days, hostile)
    lifetimes = {
        "accessTokenSeconds": access_token_seconds,
        "refreshTokenSeconds": refresh_token_seconds,
        "codeSeconds": code_seconds,
    }
    dataset.oauth = OAuthSettings.from_json(
        {k: v for k, v in lifetimes.items() if v is not None}, dataset.oauth
    )
    dataset.settings = build_settings(dataset.settings, keep_filters, behaviour)
    if dump is not None:
        _dump(dataset, dump)
        return
    faults = build_faults(
        latency_ms,
        fail_429,
        retry_after,
        fail_5xx,
        int(fail_status),
        drop_rate,
        fail_at,
        fault_path,
        lock_files,
        expire_token_after,
        fault_seed,
    )
    emulator = Emulator(dataset, faults, host=host, port=port)
    _start(emulator, host, port)
    click.echo(describe(emulator))
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


def describe(emulator: Emulator) -> str:
    ds = emulator.dataset
    lines = [
        f"Webex API emulator serving {emulator.api_url}",
        f"  export WEBEX_API_URL={emulator.api_url}",
        f"  export WEBEX_ARCHIVE_TOKEN={emulator.token}",
        f"  bot token: {ds.bot_token()}",
        f"  control:   {emulator.url}/_emulator",
    ]
    if emulator.settings.to_json():
        lines.append(f"  settings:  {json.dumps(emulator.settings.to_json())}")
    for integration in ds.integrations.values():
        lines.append(
            f"  integration: client id {integration.client_id}, secret "
            f"{integration.client_secret}, redirect {' '.join(integration.redirect_uris)}"
        )
    lines.append("  spaces:")
    for room in ds.rooms.values():
        count = ds.room_message_count(room["id"])
        title = json.dumps(room["title"], ensure_ascii=False)  # quoted; controls escaped
        lines.append(f"    {room['type']:6} {count:>7} messages  {title}  {room['id']}")
    lines.append(
        f"Try: curl -H \"Authorization: Bearer $WEBEX_ARCHIVE_TOKEN\" '{emulator.api_url}/rooms'"
    )
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())


def _dump(dataset: DataSet, dump: Path) -> None:
    try:
        dataset.dump(dump)
    except OSError as error:
        raise click.BadParameter(
            f"cannot write {dump}: {error.strerror}", param_hint="'--dump'"
        ) from None
    click.echo(f"wrote the data set to {dump}")


def _start(emulator: Emulator, host: str, port: int) -> None:
    """Listen, or say in one line which option to change."""
    try:
        emulator.start()
    except OSError as error:
        if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            raise click.BadParameter(
                f"cannot listen on {host!r} ({error.strerror}): use an address of this "
                "machine, such as 127.0.0.1",
                param_hint="'--host'",
            ) from None
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({error.strerror}); pass --port 0 for a free port"
        ) from None

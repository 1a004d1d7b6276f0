"""``webex-archive``: the command line. Commands stay thin and call library functions."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from etl import DEFAULT_API_URL
from webex_layout import DB_NAME

from .progress import Reporter, end_line

if TYPE_CHECKING:
    from etl.api import WebexClient
    from etl.tokens import TokenSource

    from .credentials import Store
    from .session import StoredSignin

# Each command is imported only when it runs (or --help lists it): importing all of them costs
# about 0.4 s — requests, sqlite-utils, jinja2, the emulator — which `render` or `status`
# would otherwise pay on every call.
COMMANDS = {
    "spaces": "webex_archive.commands:spaces",
    "sync": "webex_archive.commands:sync",
    "render": "webex_archive.render_command:render",
    "export": "webex_archive.export_command:export",
    "search": "webex_archive.search_command:search_command",
    "run": "webex_archive.run_command:run",
    "init-config": "webex_archive.run_command:init_config",
    "status": "webex_archive.commands:status",
    "demo": "webex_archive.demo:demo",
    "forget": "webex_archive.commands:forget",
    "datasette-metadata": "webex_archive.search_command:datasette_metadata_command",
    "emulator": "webex_emulator.cli:main",
    "login": "webex_archive.login_command:login",
    "logout": "webex_archive.login_command:logout",
    "auth": "webex_archive.login_command:auth",
    "whoami": "webex_archive.login_command:whoami",
    "verify": "webex_archive.verify_command:verify_command",
}
# The commands a schedule runs: a person's pasted token there earns a warning (it lasts 12 h).
SCHEDULED = ("sync", "run")
PERSONAL_TOKEN_WARNING = (
    "warning: the token given (--token, WEBEX_ARCHIVE_TOKEN or an .ini's mytoken) is a "
    "person's, and a personal access token lasts 12 hours: sign in once with "
    "`webex-archive login` for unattended runs (docs/signin.md)"
)


def human_errors() -> tuple[type[Exception], ...]:
    """The errors a person can act on; imported late, as the commands that raise them are."""
    from etl.api import WebexError
    from etl.spaces import SpaceNotFound
    from etl.store import ArchiveError
    from etl.sync import SyncError
    from render import RenderError

    from .config import ConfigError
    from .credentials import CredentialsError

    return (
        WebexError, ArchiveError, SyncError, SpaceNotFound, RenderError, ConfigError,
        CredentialsError,
    )  # fmt: skip


@dataclass
class App:
    """What every command needs: where the archive is, how to reach Webex, how to talk."""

    archive: Path
    token: str | None
    api_url: str
    verbose: bool
    quiet: bool
    # said when the command ends well (a callable: decided then; None says nothing)
    warnings: list[str | Callable[[], str | None]] = field(default_factory=list)

    def reporter(self) -> Reporter:
        return Reporter(quiet=self.quiet)

    def credential_store(self) -> Store:
        from .credentials import open_store

        return open_store(self.archive)

    def stored_signin(self) -> StoredSignin | None:
        """The sign-in `login` kept for this API URL, if any."""
        from .session import stored_signin

        return stored_signin(self.credential_store(), self.api_url)

    def token_source(self) -> str | TokenSource:
        """--token/WEBEX_ARCHIVE_TOKEN as given (a personal or a bot token: the string does
        not say which), else the sign-in `login` kept for this API URL."""
        if (self.token or "").strip():
            return (self.token or "").strip()
        signin = self.stored_signin()
        if signin is None:
            raise click.UsageError(
                f"no Webex token: run `webex-archive login` to sign in to {self.api_url}, or "
                "pass --token or set WEBEX_ARCHIVE_TOKEN (a personal access token from "
                "developer.webex.com)"
            )
        return signin

    def client(
        self,
        reporter: Reporter,
        source: str | TokenSource | None = None,
        archive: Path | None = None,
    ) -> WebexClient:
        """A client with ``source`` (default: ``token_source()``); a person's pasted token
        on a schedule earns the warning, decided when the command ends from what its sync
        stored of ``GET /people/me`` in ``archive`` (default: ``--archive``): no request of
        its own."""
        from etl.api import WebexClient

        source = self.token_source() if source is None else source
        client = WebexClient(source, self.api_url, notify=reporter.notice)
        if isinstance(source, str) and self._unattended():
            self.warnings.append(partial(_personal_warning, archive or self.archive))
        return client

    def _unattended(self) -> bool:
        """A scheduled command with no terminal to type into (cron, systemd, a pipe)."""
        ctx = click.get_current_context(silent=True)
        scheduled = ctx is not None and ctx.info_name in SCHEDULED
        return scheduled and not self.quiet and not (sys.stdin and sys.stdin.isatty())


def _personal_warning(archive: Path) -> str | None:
    """The warning, unless the person the sync stored (``meta.me_json``) is a bot, whose
    token does not expire. Read-only: the sync has closed the archive by now."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"{(archive / DB_NAME).as_uri()}?mode=ro", uri=True)
        ) as conn:
            found = conn.execute("SELECT value FROM meta WHERE key = 'me_json'").fetchone()
        me = json.loads(found[0]) if found else {}
    except (sqlite3.Error, ValueError):
        return None
    return PERSONAL_TOKEN_WARNING if me and me.get("type") != "bot" else None


class Cli(click.Group):
    """Loads commands on demand, and turns the errors a person can act on into one line and
    exit code 1 (traceback with -v)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._globals_first(ctx, list(args)))

    def _globals_first(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Global options typed after the command (``sync --token X``) moved before it, where
        click looks for them: people type them there, and "No such option" helps nobody. An
        option the command has itself (``demo --archive``) stays the command's."""
        options = [p for p in self.params if isinstance(p, click.Option)]
        taking = {o for p in options if not p.is_flag for o in p.opts}
        movable = taking | {o for p in options if p.is_flag and p.expose_value for o in p.opts}
        position = _command_position(args, taking)
        command = self.get_command(ctx, args[position]) if position is not None else None
        if position is None or command is None:
            return args
        own = {o for p in command.params for o in getattr(p, "opts", [])}
        moved, kept = _split_globals(args[position + 1 :], movable - own, taking)
        return [*args[:position], *moved, args[position], *kept]

    def invoke(self, ctx: click.Context):
        try:
            result = super().invoke(ctx)
        except KeyboardInterrupt:
            end_line()  # a status line may be on the screen: the notice goes below it
            click.echo("interrupted: the archive keeps everything committed so far", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: it prints them
        except Exception as error:
            if not isinstance(error, human_errors()):
                raise
            app = ctx.find_object(App)
            if app is not None and app.verbose:
                traceback.print_exc(file=sys.stderr)
            raise click.ClickException(str(error)) from None
        app = ctx.find_object(App)
        for warning in app.warnings if app is not None else []:
            said = warning() if callable(warning) else warning
            if said:
                click.echo(said, err=True)  # last, after the command's own summary
        return result


def _split_globals(
    args: list[str], movable: set[str], taking: set[str]
) -> tuple[list[str], list[str]]:
    """The command's arguments as (global options with their values, the rest in order).
    Nothing after ``--`` moves; a global option missing its value stays, for click to name."""
    moved: list[str] = []
    kept: list[str] = []
    rest = iter(args)
    for arg in rest:
        name = arg.split("=", 1)[0]
        if arg == "--":
            kept += [arg, *rest]
        elif name in movable:
            value = next(rest, None) if name in taking and "=" not in arg else ""
            moved += [arg] if value == "" else [arg, value] if value is not None else []
            kept += [arg] if value is None else []
        else:
            kept.append(arg)
    return moved, kept


def _command_position(args: list[str], taking: set[str]) -> int | None:
    """Where the command's name is: the first word that is not an option or its value."""
    skip = False
    for position, arg in enumerate(args):
        if skip or arg == "--":
            skip = False
            if arg == "--":
                return None
        elif arg.startswith("-"):
            skip = arg in taking
        else:
            return position
    return None


def archive_option(ctx: click.Context, param: click.Parameter, value: Path | str) -> Path:
    """An empty --archive (``--archive "$UNSET"`` in a script) would archive into the current
    folder without saying so: refuse it."""
    if not str(value).strip():
        raise click.BadParameter("an empty path: name the archive folder")
    return Path(value)


def api_url_option(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Only an http(s) URL with a host can be the API: anything else would fail later, deep in
    the HTTP library, with a traceback instead of a word about the option."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        usable = False
    if not usable:
        raise click.BadParameter(f"{value!r} is not an http(s) URL such as {DEFAULT_API_URL}")
    return text


def show_version(ctx: click.Context, value: bool) -> None:
    """``--version`` as click's own option words it, the version read only then."""
    if value and not ctx.resilient_parsing:
        from . import __version__

        click.echo(f"webex-archive, version {__version__}")
        ctx.exit()


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: show_version(ctx, value),
    help="Show the version and exit.",
)
@click.option(
    "--archive",
    type=click.Path(file_okay=False),  # a str: archive_option refuses "" (Path("") is ".")
    default=lambda: os.environ.get("WEBEX_ARCHIVE_DIR") or "webex-archive",
    callback=archive_option,
    show_default="./webex-archive or $WEBEX_ARCHIVE_DIR",
    help="The archive folder (archive.db, files, rendered pages).",
)
@click.option(
    "--token", envvar="WEBEX_ARCHIVE_TOKEN", help="Webex access token [$WEBEX_ARCHIVE_TOKEN]."
)
@click.option(
    "--api-url",
    envvar="WEBEX_API_URL",
    default=DEFAULT_API_URL,
    show_default=True,
    callback=api_url_option,
    help="Webex API base URL [$WEBEX_API_URL] (e.g. the emulator's).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or notices on stderr.")
@click.pass_context
def main(
    ctx: click.Context, archive: Path, token: str | None, api_url: str, verbose: bool, quiet: bool
) -> None:
    """Archive Cisco Webex spaces into SQLite and render them as HTML, JSON and TXT."""
    ctx.obj = App(Path(archive), token, api_url, verbose, quiet)

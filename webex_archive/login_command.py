"""``login``, ``logout``, ``auth status`` and ``whoami``: signing in with the user's own
integration, so that unattended runs outlast a 12-hour personal token (docs/signin.md).

The exchange with Webex is ``etl.signin``'s; here are the browser, the prompts and the
keeping (``credentials``). No token is ever printed: only who, which kind, and until when.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
import webbrowser
from datetime import datetime, timezone

import click

from etl.api import WebexClient, WebexError
from etl.events import is_compliance_officer
from etl.signin import (
    READ_SCOPES,
    Integration,
    Tokens,
    authorize_url,
    exchange_code,
    pkce_pair,
)

from .callback import Listener, ListenerError, code_of, listen_address, pasted_query
from .cli import App
from .credentials import Credentials
from .progress import duration

pass_app = click.make_pass_decorator(App)
DEFAULT_REDIRECT = "http://localhost:8765/callback"


def _ask(value: str | None, what: str, option: str, hide: bool) -> str:
    """An option's value, or a prompt on a terminal (the secret not echoed)."""
    value = (value or "").strip()
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        env = "WEBEX_ARCHIVE_" + option.upper().replace("-", "_")
        raise click.UsageError(f"no {what}: pass --{option} or set {env}")
    return click.prompt(what, hide_input=hide).strip()


@click.command()
@click.option("--client-id", envvar="WEBEX_ARCHIVE_CLIENT_ID", help="Your integration's Client ID.")
@click.option(
    "--client-secret",
    envvar="WEBEX_ARCHIVE_CLIENT_SECRET",
    help="Its Client Secret; better asked for (not echoed) or from the environment: a "
    "command line is visible to other users.",
)
@click.option(
    "--redirect-uri",
    default=DEFAULT_REDIRECT,
    show_default=True,
    help="A redirect URI of the integration; login listens on its localhost port.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Scopes to ask for (repeat, or space-separated) [default: the four read scopes].",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the URL to open elsewhere, then read the redirected URL pasted here.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for the browser.",
)
@click.option("--no-pkce", is_flag=True, help="Do not send a PKCE challenge.")
@pass_app
def login(
    app: App,
    client_id: str | None,
    client_secret: str | None,
    redirect_uri: str,
    scopes: tuple[str, ...],
    no_browser: bool,
    timeout: float,
    no_pkce: bool,
) -> None:
    """Sign in with your Webex integration; later commands use and renew the sign-in."""
    integration = Integration(
        _ask(client_id, "Client ID", "client-id", hide=False),
        _ask(client_secret, "Client Secret", "client-secret", hide=True),
    )
    asked = tuple(" ".join(scopes).split()) or READ_SCOPES
    store = app.credential_store()  # a bad credentials file is said before the browser opens
    state = secrets.token_urlsafe(32)
    verifier, challenge = (None, None) if no_pkce else pkce_pair()
    url = authorize_url(app.api_url, integration.client_id, redirect_uri, asked, state, challenge)
    query = _pasted(url) if no_browser else _browser(url, redirect_uri, state, timeout)
    code = code_of(query, state)
    tokens = exchange_code(app.api_url, integration, code, redirect_uri, verifier, asked)
    with store.locked():
        store.save(_credentials(app.api_url, integration, tokens))
    click.echo(
        f"signed in to {app.api_url} as {_who(app, tokens)}; kept in {store.where}", err=True
    )


def _who(app: App, tokens: Tokens) -> str:
    """Who signed in, from GET /people/me; the sign-in is kept even if that is refused
    (scopes chosen without it)."""
    try:
        with WebexClient(tokens.access_token, app.api_url) as client:
            return _person(client.get_json("people/me"))
    except WebexError as error:
        return f"a person Webex would not name ({error})"


def _browser(url: str, redirect_uri: str, state: str, timeout: float) -> dict[str, str]:
    try:
        listen_address(redirect_uri)
    except ListenerError as error:
        raise click.UsageError(str(error)) from None
    try:
        listener = Listener(redirect_uri, state)
    except ListenerError as error:
        raise click.ClickException(str(error)) from None
    with listener:
        opened = webbrowser.open(url)
        click.echo(
            ("Opened your browser to sign in to Webex. " if opened else "")
            + f"If it did not open, visit:\n  {url}\nWaiting for the browser "
            f"(up to {duration(timeout)})…",
            err=True,
        )
        try:
            return listener.wait(timeout)
        except ListenerError as error:
            raise click.ClickException(str(error)) from None


def _pasted(url: str) -> dict[str, str]:
    click.echo(
        f"Open this URL in a browser, approve, then paste the address the browser was sent "
        f"to (its page may not load: that is fine):\n  {url}",
        err=True,
    )
    line = sys.stdin.readline() if not sys.stdin.isatty() else click.prompt("Redirected URL")
    if not line.strip():
        raise click.ClickException("no redirected URL was pasted: run `webex-archive login` again")
    return pasted_query(line)


def _credentials(api_url: str, integration: Integration, tokens: Tokens) -> Credentials:
    return Credentials(
        api_url=api_url,
        client_id=integration.client_id,
        client_secret=integration.client_secret,
        access_token=tokens.access_token,
        expires_at=tokens.expires_at,
        lifetime=tokens.lifetime,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
        scopes=list(tokens.scopes),
        signed_in_at=time.time(),
    )


def _person(me: dict) -> str:
    name = " ".join(str(me.get("displayName") or "?").split())
    emails = me.get("emails") or []
    return f"{name} ({emails[0]})" if emails and isinstance(emails[0], str) else name


@click.command()
@pass_app
def logout(app: App) -> None:
    """Forget the sign-in kept for this API URL (Webex offers apps no revocation)."""
    store = app.credential_store()
    with store.locked():
        removed = store.delete(app.api_url)
    if not removed:
        click.echo(f"not signed in to {app.api_url}: nothing to remove", err=True)
        return
    click.echo(
        f"signed out of {app.api_url}: the sign-in is removed from {store.where}. Webex lets "
        "no app revoke its own tokens: to end the integration's access at once, see "
        "docs/signin.md#logout",
        err=True,
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Who is signed in, with which kind of token and scopes, and until when."""
    source = app.token_source()
    with WebexClient(source, app.api_url) as client:
        me = client.get_json("people/me")
        officer = is_compliance_officer(client)
    facts = _facts(app, source, me) | {"compliance_officer": officer}
    if as_json:
        click.echo(json.dumps(facts, indent=2, ensure_ascii=False))
        return
    click.echo("\n".join(_lines(facts, _person(me))))


def _facts(app: App, source: object, me: dict) -> dict:
    """What status says, as data: never a token or the secret."""
    facts = {
        "api_url": app.api_url,
        "person": {k: me.get(k) for k in ("id", "displayName", "emails", "type")},
        "kind": "bot" if me.get("type") == "bot" else "personal",
        "source": "--token or WEBEX_ARCHIVE_TOKEN",
        "scopes": None,
        "access_expires_at": None,
        "refresh_expires_at": None,
    }
    credentials: Credentials | None = getattr(source, "credentials", None)
    if credentials is not None:
        facts |= {
            "kind": "integration",
            "source": source.store.where,  # type: ignore[attr-defined]
            "client_id": credentials.client_id,
            "scopes": credentials.scopes,
            "access_expires_at": _iso(credentials.expires_at),
            "refresh_expires_at": _iso(credentials.refresh_expires_at),
        }
    return facts


def _lines(facts: dict, who: str) -> list[str]:
    lines = [f"signed in to {facts['api_url']} as {who}"]
    kind = facts["kind"]
    if kind == "integration":
        lines.append(
            f"  token: integration sign-in (client id {facts['client_id'][:12]}…), "
            f"kept in {facts['source']}"
        )
        lines.append(f"  scopes: {' '.join(facts['scopes'])}")
        lines.append(f"  access token: {_until(facts['access_expires_at'])}, renewed as needed")
        lines.append(f"  refresh token: {_until(facts['refresh_expires_at'])}, renewed on use")
    elif kind == "bot":
        lines.append(
            f"  token: a bot's, from {facts['source']}: it does not expire, but Webex lets a "
            "bot read only the messages that mention it in group spaces"
        )
    else:
        lines.append(
            f"  token: a person's (a personal access token), from {facts['source']}: it "
            "lasts 12 hours from when it was made (Webex does not say when); for unattended "
            "runs use `webex-archive login`"
        )
        lines.append("  scopes: not reported by Webex for a pasted token")
    if facts.get("compliance_officer"):
        lines.append(
            "  role: compliance officer: the organisation's events feed and every space it "
            "owns (sync --org, --custodian; see docs/compliance.md)"
        )
    return lines


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _until(iso: str | None) -> str:
    if iso is None:
        return "expiry not said by Webex"
    when = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    left = (when - datetime.now(timezone.utc)).total_seconds()
    shown = iso.replace("T", " ").replace("Z", " UTC")
    return f"expires {shown} (in {_span(left)})" if left > 0 else f"expired {shown}"


def _span(seconds: float) -> str:
    return f"{seconds / 86400:.0f} days" if seconds >= 2 * 86400 else duration(seconds)


@click.group()
def auth() -> None:
    """The sign-in: `auth status` (also `whoami`); see also `login` and `logout`."""


auth.add_command(status)
whoami = click.Command("whoami", callback=status.callback, params=status.params, help=status.help)

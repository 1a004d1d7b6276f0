"""The pages a person sees at ``/v1/authorize``: the consent form and the error page.

Webex's own pages are a sign-in and a permission dialog naming the integration and its scopes;
these are plain HTML forms in that role. They need no script: Approve and Deny are submit
buttons of one form that posts back, so the pages work under a strict Content-Security-Policy
(no script at all, the one style block by nonce, forms only to this server and to the
redirect URI's origin, which Chromium checks after the redirect too). Every text from the data
set or the request (names, scopes, URIs) is escaped.
"""

from __future__ import annotations

import secrets
from html import escape
from string import Template
from urllib.parse import urlsplit

from .wire import Response

STYLE = (
    "body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em;color:#222}"
    "button{font-size:1em;padding:.5em 1.5em;margin-right:1em}code{word-break:break-all}"
)
PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style nonce="$nonce">$style</style>
</head>
<body>
$body
</body>
</html>
"""
)
CONSENT = Template(
    """<h1>$name would like to access your Webex account</h1>
<p id="person">Signed in as <strong>$person</strong> ($email).</p>
<p>It asks to:</p>
<ul id="scopes">
$scopes
</ul>
<p>You will be sent back to <code id="redirect">$redirect</code>.</p>
<form method="post" action="/v1/authorize">
<input type="hidden" name="consent" value="$consent">
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>"""
)
ERROR = Template(
    """<h1>This sign-in link cannot be used</h1>
<p id="error">$message</p>
<p>The app that sent you here is not set up correctly; nothing was shared with it.</p>"""
)


def consent_page(
    name: str, person: dict, scopes: list[str], redirect_uri: str, consent: str
) -> Response:
    """The form naming the integration, the person signing in and each scope asked for."""
    items = "\n".join(f"<li><code>{escape(scope)}</code></li>" for scope in scopes)
    body = CONSENT.substitute(
        name=escape(name),
        person=escape(str(person.get("displayName", ""))),
        email=escape(str((person.get("emails") or [""])[0])),
        scopes=items,
        redirect=escape(redirect_uri),
        consent=escape(consent),
    )
    return _page(200, "Authorize " + name, body, redirect_uri)


def error_page(status: int, message: str) -> Response:
    """An error shown to the person, never a redirect: the redirect URI is not trusted."""
    return _page(status, "Sign-in error", ERROR.substitute(message=escape(message)), None)


def _page(status: int, title: str, body: str, redirect_uri: str | None) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = PAGE.substitute(title=escape(title), nonce=nonce, style=STYLE, body=body)
    form_action = "'self'"
    if redirect_uri is not None:
        parts = urlsplit(redirect_uri)
        form_action += f" {parts.scheme}://{parts.netloc}"
    csp = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return Response(
        status,
        html.encode(),
        {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": csp,
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )

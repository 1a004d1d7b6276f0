"""``/v1/authorize`` and ``/v1/access_token``: the integration side of Webex's OAuth 2.

Documented by Webex (developer.webex.com, "Integrations & Authorization"; /work/shared/
webex-api.md §12): the authorization-code grant at ``GET /v1/authorize`` (``response_type=code``,
``client_id``, ``redirect_uri``, ``scope`` space-separated, ``state``), tokens from a
form-encoded ``POST /v1/access_token`` with ``grant_type=authorization_code`` (``code``,
``redirect_uri``) or ``refresh_token``, the client's id and secret in the body; the answer
``access_token``, ``expires_in``, ``refresh_token``, ``refresh_token_expires_in``. Webex
recommends the code flow with PKCE ("Login with Webex"), so ``code_challenge`` (RFC 7636:
``S256``, or ``plain``, the default method) is accepted and checked when given.

Our reading where Webex is silent, from RFC 6749: HTTP Basic client authentication is accepted
too (§2.3.1, but not both at once); errors are §5.2 bodies (``error``, ``error_description``)
to which Webex's own ``message``/``errors``/``trackingId`` keys are added; ``token_type``
``Bearer`` and ``scope`` are in the answer (§5.1); redirect URIs match exactly, character for
character; an error before the client and its redirect URI are known is a page (400), never a
redirect (§4.1.2.1). A failed code exchange uses the code up, and a code presented twice also
revokes what it gave (§4.1.2).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit, urlunsplit

from .consent import consent_page, error_page
from .grants import Code, Grants, Issued, OAuthError
from .ids import tracking_id
from .integrations import Integration
from .model import DataSet
from .wire import ApiError, Request, Response

AUTHORIZE, TOKEN = "/v1/authorize", "/v1/access_token"
CONSENT_SECONDS = 600  # how long an unanswered consent page stays usable (our choice)
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 §4.1, also the challenge's form
FORM_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass
class AuthRequest:
    """A checked authorization request waiting for the person's answer."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str | None
    challenge: str | None
    method: str | None
    person_id: str
    expires: float


class Redirect(Exception):
    """An error sent back to the (registered, checked) redirect URI."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description


class OAuth:
    """The two endpoints over the data set's integrations; who signs in is ``person_id``
    (None: the data set's token owner)."""

    def __init__(self, dataset: DataSet):
        self.ds = dataset
        self.grants = Grants(dataset.clock)
        self.person_id: str | None = None
        self.pending: dict[str, AuthRequest] = {}

    @staticmethod
    def handles(path: str) -> bool:
        return path in (AUTHORIZE, TOKEN)

    def dispatch(self, request: Request) -> Response:
        if request.path == AUTHORIZE and request.method in ("GET", "HEAD"):
            return self.authorize(request)
        if request.path == AUTHORIZE and request.method == "POST":
            return self.decide(request)
        if request.path == TOKEN and request.method == "POST":
            return self.token(request)
        raise ApiError(405, f"Method {request.method} is not allowed on {request.path}.")

    def signed_in(self) -> str:
        return self.person_id or self.ds.tokens[self.ds.owner_token()]

    # ----- the browser's side ----------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        twice = [name for name, values in request.query.items() if len(values) > 1]
        if twice:
            return error_page(400, f"The parameter {twice[0]} is given more than once.")
        integration = self.ds.integrations.get(request.arg("client_id") or "")
        if integration is None:
            return error_page(400, "The client_id does not name a registered integration.")
        redirect_uri = request.arg("redirect_uri") or ""
        if redirect_uri not in integration.redirect_uris:
            return error_page(400, "The redirect_uri is not registered for this integration.")
        state = request.arg("state")
        try:
            person_id = self.signed_in()
        except LookupError:
            return error_page(400, "Nobody can sign in: the data set has no user token.")
        try:
            asked = self._checked(request, integration)
        except Redirect as error:
            return _redirect(
                redirect_uri, error=error.error, error_description=error.description, state=state
            )
        consent = secrets.token_urlsafe(24)
        with self.grants.lock:
            now = self.ds.clock.monotonic()
            self.pending = {k: v for k, v in self.pending.items() if v.expires > now}
            self.pending[consent] = AuthRequest(
                integration.client_id,
                redirect_uri,
                asked[0],
                state,
                asked[1],
                asked[2],
                person_id,
                now + CONSENT_SECONDS,
            )
        person = self.ds.people.get(person_id, {})
        return consent_page(integration.name, person, asked[0], redirect_uri, consent)

    def _checked(
        self, request: Request, integration: Integration
    ) -> tuple[list[str], str | None, str | None]:
        """Scopes, PKCE challenge and method of a request whose client and URI are known."""
        if request.arg("response_type") != "code":
            raise Redirect("unsupported_response_type", "Only response_type=code is supported.")
        if "authorization_code" not in integration.grant_types:
            raise Redirect("unauthorized_client", "This integration may not use the code grant.")
        scopes = (request.arg("scope") or "").split()
        if not scopes or not set(scopes) <= set(integration.scopes):
            raise Redirect("invalid_scope", "The scope is empty or not registered.")
        challenge, method = request.arg("code_challenge"), request.arg("code_challenge_method")
        if challenge is None and method is not None:
            raise Redirect("invalid_request", "code_challenge_method without code_challenge.")
        if challenge is not None:
            method = method or "plain"
            if method not in ("S256", "plain") or not VERIFIER.fullmatch(challenge):
                raise Redirect("invalid_request", "The code_challenge or its method is invalid.")
        return scopes, challenge, method

    def decide(self, request: Request) -> Response:
        """The consent form's answer: a code, or access_denied, sent to the redirect URI."""
        form = _form(request) if _is_form(request) else {}
        consent = (form.get("consent") or [""])[-1]
        with self.grants.lock:
            pending = self.pending.pop(consent, None)
        if pending is None or pending.expires <= self.ds.clock.monotonic():
            return error_page(400, "This consent form has expired or was already answered.")
        decision = (form.get("decision") or [""])[-1]
        if decision == "deny":
            return _redirect(
                pending.redirect_uri,
                error="access_denied",
                error_description="The user denied access.",
                state=pending.state,
            )
        if decision != "approve":
            return error_page(400, "Choose Approve or Deny.")
        code = Code(
            pending.client_id,
            pending.redirect_uri,
            pending.scopes,
            pending.person_id,
            self.ds.clock.monotonic() + self.ds.oauth.code_seconds,
            pending.challenge,
            pending.method,
        )
        value = self.grants.issue_code(code)
        return _redirect(pending.redirect_uri, code=value, state=pending.state)

    # ----- the client's side ---------------------------------------------------------------

    def token(self, request: Request) -> Response:
        try:
            return _token_response(self._token(request))
        except OAuthError as error:
            return _oauth_error(error)

    def _token(self, request: Request) -> Issued:
        if not _is_form(request):
            raise OAuthError("invalid_request", f"The body must be {FORM_TYPE}.")
        form = _form(request)
        twice = [name for name, values in form.items() if len(values) > 1]
        if twice:
            raise OAuthError("invalid_request", f"The parameter {twice[0]} is given twice.")
        args = {name: values[0] for name, values in form.items()}
        grant_type = args.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is missing.")
        integration = self._client(request, args)
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthError("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")
        if grant_type not in integration.grant_types:
            raise OAuthError("unauthorized_client", f"This integration may not use {grant_type}.")
        if grant_type == "refresh_token":
            if not args.get("refresh_token"):
                raise OAuthError("invalid_request", "refresh_token is missing.")
            scope = args.get("scope")
            asked = scope.split() if scope is not None else None
            return self.grants.use_refresh(
                args["refresh_token"], integration.client_id, asked, self.ds.oauth
            )
        return self._exchange(args, integration)

    def _exchange(self, args: dict[str, str], integration: Integration) -> Issued:
        if not args.get("code") or not args.get("redirect_uri"):
            raise OAuthError("invalid_request", "code and redirect_uri are required.")
        code = self.grants.redeem(args["code"])
        if code is None:
            raise OAuthError("invalid_grant", "The code is invalid, expired or already used.")
        if code.client_id != integration.client_id:
            raise OAuthError("invalid_grant", "The code was issued to another client.")
        if code.redirect_uri != args["redirect_uri"]:
            raise OAuthError("invalid_grant", "The redirect_uri differs from the authorize one.")
        verifier = args.get("code_verifier")
        if code.challenge is None and verifier is not None:
            raise OAuthError("invalid_grant", "code_verifier given, but no code_challenge was.")
        if code.challenge is not None and not _verifies(verifier, code.challenge, code.method):
            raise OAuthError("invalid_grant", "The code_verifier does not match the challenge.")
        return self.grants.issue(code, self.ds.oauth)

    def _client(self, request: Request, args: dict[str, str]) -> Integration:
        """The integration whose id and secret came in the body or in HTTP Basic."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        basic = scheme.lower() == "basic"
        if basic and "client_secret" in args:
            raise OAuthError("invalid_request", "Use one client authentication method, not two.")
        client_id, secret = args.get("client_id", ""), args.get("client_secret", "")
        if basic:
            client_id, secret = _basic(credentials)
        integration = self.ds.integrations.get(client_id)
        if integration is None or not secrets.compare_digest(
            integration.client_secret.encode(), secret.encode()
        ):
            challenge = {"WWW-Authenticate": 'Basic realm="webexapis.com"'} if basic else {}
            raise OAuthError("invalid_client", "Client authentication failed.", 401, **challenge)
        return integration


def _basic(credentials: str) -> tuple[str, str]:
    """RFC 6749 §2.3.1: base64 of the form-encoded id, a colon, the form-encoded secret."""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def _verifies(verifier: str | None, challenge: str, method: str | None) -> bool:
    if verifier is None or not VERIFIER.fullmatch(verifier):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(verifier, challenge)


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM_TYPE


def _form(request: Request) -> dict[str, list[str]]:
    try:
        return parse_qs(request.body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}


def _redirect(uri: str, **params: str | None) -> Response:
    """302 to a registered redirect URI, its own query kept, the answer's parameters added."""
    parts = urlsplit(uri)
    added = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{added}" if parts.query else added
    location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return Response(302, b"", {"Location": location, "Cache-Control": "no-store"})


def _token_response(issued: Issued) -> Response:
    return Response.json(
        {
            "access_token": issued.access_token,
            "expires_in": math.ceil(issued.access_seconds),
            "refresh_token": issued.refresh_token,
            "refresh_token_expires_in": math.ceil(issued.refresh_seconds),
            "token_type": "Bearer",
            "scope": " ".join(issued.scopes),
        },
        **NO_STORE,
    )


def _oauth_error(error: OAuthError) -> Response:
    tid = tracking_id()
    body = {
        "error": error.error,
        "error_description": error.description,
        "message": error.description,
        "errors": [{"description": error.description}],
        "trackingId": tid,
    }
    return Response.json(body, error.status, TrackingID=tid, **NO_STORE, **error.headers)

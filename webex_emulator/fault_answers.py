"""What an injected fault makes of an answer: a status instead of it, a pause before it, a
redirect, or the API's own answer broken (an empty page that links on, an undecrypted item, a
next link elsewhere). ``faults.py`` decides which request a fault strikes; this module applies it.
"""

from __future__ import annotations

import json

from .faults import LIST_KINDS, Faults, Rule
from .latency import GATEWAY_TIMEOUT
from .wire import ApiError, Request, Response

TOO_MANY = (
    "The user has sent too many requests in a given amount of time. Please refer to the "
    "Retry-After response header for more details."
)
STATUS_TEXT = {
    500: "Internal server error.",
    502: "Bad gateway: try again later.",
    503: "Service unavailable: the server is overloaded, try again later.",
    504: GATEWAY_TIMEOUT,
    429: TOO_MANY,
}


def fault_before(rule: Rule | None, faults: Faults) -> Response | None:
    """Faults that answer before the API is asked (or delay it): a status, a pause (held by
    ``faults``, which can end it early), a redirect."""
    if rule is None:
        return None
    if rule.kind == "status":
        raise fault_error(rule)
    if rule.kind == "delay":
        faults.hold(rule.seconds)
    if rule.kind == "redirect":
        status = rule.status if 300 <= rule.status < 400 else 302
        return Response(status, b"", {"Location": rule.location})
    return None


def fault_after(request: Request, response: Response, rule: Rule | None) -> Response:
    """Faults made of the API's own answer: a broken list, a next link elsewhere."""
    if rule is None:
        return response
    if rule.kind in LIST_KINDS:
        return _list_fault(request, response, rule.kind)
    if rule.kind == "next_link" and response.status == 200:
        response.headers["Link"] = f'<{rule.location}>; rel="next"'
    return response


# A compact JWE with an empty key part: what an item looks like when Webex cannot decrypt it.
UNDECRYPTED = (
    "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..TmV2ZXJEZWNyeXB0ZWQ."
    "ZW5jcnlwdGVkIHRleHQ.a21zX2ZhaWx1cmU"
)
KMS_REASON = "Key management server failed to respond appropriately. For more information: "
# The field a key-server failure leaves undecrypted, per list endpoint.
ENCRYPTED_FIELD = {
    "/v1/messages": "text",
    "/v1/rooms": "title",
    "/v1/memberships": "personDisplayName",
    "/v1/people": "displayName",
}


def _list_fault(request: Request, response: Response, kind: str) -> Response:
    """``empty_page`` or ``item_errors`` applied to a 200 list answer; others pass unchanged."""
    if response.status != 200 or request.path not in (*ENCRYPTED_FIELD, "/v1/events"):
        return response
    if kind == "empty_page":
        return Response.json({"items": []}, Link=f'<{request.base}{request.target}>; rel="next"')
    if request.path not in ENCRYPTED_FIELD:
        return response
    body = json.loads(response.body)
    if body.get("items"):
        field = ENCRYPTED_FIELD[request.path]
        item = {k: v for k, v in body["items"][0].items() if k not in ("markdown", "html")}
        item[field] = UNDECRYPTED
        item["errors"] = {field: {"code": "kms_failure", "reason": KMS_REASON}}
        body["items"][0] = item
    return Response(200, Response.json(body).body, response.headers, response.items)


def cap_max(request: Request, cap: int) -> None:
    """Clamp an explicit ``max`` to ``cap`` (without one, the endpoint's default applies)."""
    asked = request.arg("max")
    if asked is not None and asked.isdigit() and int(asked) > cap:
        request.query["max"] = [str(cap)]


def fault_error(rule: Rule) -> ApiError:
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    return ApiError(rule.status, STATUS_TEXT.get(rule.status, "Injected fault."), headers)

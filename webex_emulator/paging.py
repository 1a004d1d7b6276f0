"""Paging as Webex does it: ``max`` against each endpoint's cap, pages cut from a stream of
items, and the opaque cursors the emulator's next links carry."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable

from .wire import ApiError, Request


def page_size(request: Request, default: int, cap: int, strict: bool = False) -> int:
    """``max`` clamped to the endpoint's cap, as Webex does (``strict``: above the cap is a
    400, the other reading of the spec's "cannot exceed"); not a number is a 400."""
    raw = request.arg("max")
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, f"Invalid max '{raw}': must be a positive integer.")
    if strict and int(raw) > cap:
        raise ApiError(400, f"Invalid max '{raw}': cannot exceed {cap}.")
    return min(int(raw), cap)


def take(items: Iterable[dict], size: int, link_on_full_page: bool) -> tuple[list[dict], bool]:
    """The first ``size`` items, and whether a next page should be announced."""
    iterator = iter(items)
    page = [item for _, item in zip(range(size), iterator, strict=False)]
    if len(page) < size:
        return page, False
    return page, link_on_full_page or next(iterator, None) is not None


def encode_cursor(key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return tuple(json.loads(base64.urlsafe_b64decode(padded)))
    except ValueError:
        raise ApiError(400, "Invalid cursor.") from None

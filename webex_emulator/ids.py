"""Webex-shaped identifiers and timestamps.

Webex ids are unpadded base64 of a URI such as ``ciscospark://us/MESSAGE/<uuid>``; times are
ISO 8601 UTC with milliseconds and ``Z`` (other forms only when a quirk asks: ``time_form``).
Clients break on small deviations from these shapes, so they are produced in exactly one place.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
import zlib
from datetime import datetime, timedelta, timezone

API_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def make_id(kind: str, uid: str, cluster: str = "us") -> str:
    """Encode ``ciscospark://<cluster>/<KIND>/<uid>`` the way Webex does (padding removed)."""
    raw = f"ciscospark://{cluster}/{kind}/{uid}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def decode_id(webex_id: str) -> str:
    """Return the URI inside a Webex id, re-padding as Webex's own decoders must."""
    padded = webex_id + "=" * (-len(webex_id) % 4)
    return base64.b64decode(padded, validate=True).decode()


def id_uuid(webex_id: str) -> str:
    """The ``<uuid>`` part of a Webex id (the path after the type)."""
    return decode_id(webex_id).split("/", 4)[4]


def cluster_of(webex_id: str) -> str:
    """The cluster part of an id (``us``, ``urn:TEAM:us-west-2_r``): a room's messages share it."""
    return decode_id(webex_id).split("/")[2]


def new_uuid(rng: random.Random) -> str:
    """A random version-4 UUID drawn from ``rng`` so that generated data sets are reproducible."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def format_time(moment: datetime) -> str:
    """``2026-03-02T20:28:32.599Z``: the only time format the emulator emits."""
    moment = moment.astimezone(timezone.utc)
    return f"{moment.strftime(API_TIME_FORMAT)}.{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Parse an API or query timestamp leniently (``Z``, offsets, with or without milliseconds).

    Raises ValueError for anything that is not an ISO 8601 date-time, which the server turns
    into a 400 just as Webex rejects a malformed ``before``.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def normalise_time(text: str) -> str:
    """Any accepted timestamp, rewritten in the emulator's canonical (sortable) form."""
    return format_time(parse_time(text))


def add_ms(api_time: str, milliseconds: int) -> str:
    """Shift an API timestamp by a number of milliseconds."""
    return format_time(parse_time(api_time) + timedelta(milliseconds=milliseconds))


# The keys of API objects that hold times (rooms, messages, memberships, people).
TIME_KEYS = ("created", "updated", "lastActivity", "lastModified", "lastSeenDate")


def time_form(text: str, form: str) -> str:
    """A time as served under ``Quirks.timestamps``: ``millis-z`` as it is stored; ``offset``
    as the spec's examples write it (``2026-03-02T20:28:32+00:00``: no fraction); ``mixed`` one
    of three lossless forms (``….599Z``, ``….599+00:00``, Python's ``….599000+00:00``) picked
    by the value, so that one answer mixes them and every answer picks the same.
    A value that is not a time is served as it is."""
    if form == "millis-z":
        return text
    try:
        moment = parse_time(text)
    except (ValueError, OverflowError):
        return text
    if form == "offset":
        return moment.strftime(API_TIME_FORMAT) + "+00:00"
    choice = zlib.crc32(text.encode("utf-8", "replace")) % 3
    if choice == 0:
        return format_time(moment)
    if choice == 1:
        return format_time(moment)[:-1] + "+00:00"
    return moment.isoformat()


def served_times(body: bytes, form: str) -> bytes:
    """A JSON answer (one object, or a list's ``items``) with its times in ``form``."""
    data = json.loads(body)
    for item in data.get("items", [data]) if isinstance(data, dict) else []:
        for key in TIME_KEYS:
            if isinstance(item, dict) and isinstance(item.get(key), str):
                item[key] = time_form(item[key], form)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def tracking_id() -> str:
    """A gateway-style tracking id (``ROUTER_<hex>``) as Webex puts on every response."""
    return "ROUTER_" + uuid.uuid4().hex.upper()

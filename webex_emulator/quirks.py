"""The switches for what Webex does where its documentation is silent (webex-api.md §11).

Each switch has the emulator's default (the behaviour it had before the switch existed, which
matches what real answers show or what the documentation implies) and the other reading(s) a
client must survive. They are one value object, read on every request, so a test can change
them while the emulator serves; the data-set file and the command line set them too
(``settings.py``, ``cli.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# Choices of each string switch; the first is the default.
CHOICES: dict[str, tuple[str, ...]] = {
    # An edit or a deletion moves the room's lastActivity, or leaves it as it was.
    "last_activity": ("moves", "stays"),
    # How Content-Disposition carries a file name (see api_files.content_disposition).
    "file_names": ("rfc6266", "raw-utf8", "rfc2047", "percent", "plain"),
    # ``max`` above a documented cap (mentionedPeople 100, /rooms 1000): clamped, or a 400.
    "over_cap": ("clamp", "400"),
    # Times as ``…SS.mmmZ``, as ``…SS+00:00`` (the spec's examples), or a mix of lossless forms.
    "timestamps": ("millis-z", "offset", "mixed"),
    # GET /memberships without roomId: a 400, or the caller's memberships (as the spec says).
    "memberships_without_room": ("400", "list"),
}


@dataclass
class Quirks:
    """Real-API behaviours that break naive clients, and the guesses behind silent docs.

    ``drop_filters_in_next``: the messages next-link loses ``mentionedPeople`` and ``parentId``
    (PYSDK #168), so a client must re-add its filters. ``link_on_full_page``: a full page always
    links on, so the last page may be empty, as the real API sometimes does.
    ``relative_links`` (off: Webex sends absolute ones): next links without scheme and host,
    ``</v1/messages?...>``, which RFC 8288 allows. ``lock_head``: a file being scanned answers
    423 to HEAD as well as to GET (off: HEAD answers 200 while GET waits). The string switches
    and their choices are in ``CHOICES``.
    """

    drop_filters_in_next: bool = True
    link_on_full_page: bool = True
    relative_links: bool = False
    lock_head: bool = False
    last_activity: str = "moves"
    file_names: str = "rfc6266"
    over_cap: str = "clamp"
    timestamps: str = "millis-z"
    memberships_without_room: str = "400"

    def __post_init__(self) -> None:
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(
                    f"{camel(name)} must be one of {', '.join(choices)}, "
                    f"not {getattr(self, name)!r}"
                )
        for item in fields(self):
            if item.name not in CHOICES and not isinstance(getattr(self, item.name), bool):
                raise ValueError(f"{camel(item.name)} must be true or false")

    def to_json(self) -> dict[str, Any]:
        """The switches that differ from the defaults, under their camelCase names."""
        default = Quirks()
        return {
            camel(f.name): getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quirks:
        names = {camel(f.name): f.name for f in fields(cls)}
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**{names[key]: value for key, value in data.items()})


def camel(name: str) -> str:
    """``last_activity`` → ``lastActivity``: the name a switch has in JSON."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)

"""The command line's options for the emulator's settings: quirks, quota, latency model.

Each option left out keeps what the data-set file says (its ``settings``), which keeps the
defaults when it says nothing; ``--dump`` writes them into the file it makes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from .latency import Latency
from .quirks import CHOICES, Quirks, camel
from .quota import Quota
from .settings import Settings


class Finite(click.FloatRange):
    """A FloatRange that also refuses nan and inf (click's range check lets nan through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


def _pairs(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> dict[str, int] | None:
    """``NAME=N`` options (repeatable) as a mapping; None when none was given."""
    pairs: dict[str, int] = {}
    for spec in value:
        name, _, number = spec.partition("=")
        if not name or not number.strip().isdigit() or int(number) < 1:
            raise click.BadParameter(f"{spec!r} is not NAME=N with N a whole number above 0")
        pairs[name] = int(number)
    return pairs if value else None


OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option(
        "--last-activity",
        type=click.Choice(CHOICES["last_activity"]),
        help="Does an edit or a deletion move the space's lastActivity? (default: moves)",
    ),
    click.option(
        "--file-names",
        type=click.Choice(CHOICES["file_names"]),
        help="How Content-Disposition carries file names (default: rfc6266, filename and "
        "filename*).",
    ),
    click.option(
        "--over-cap",
        type=click.Choice(CHOICES["over_cap"]),
        help="max above a documented cap (mentionedPeople 100, rooms 1000): clamp (default) "
        "or answer 400.",
    ),
    click.option(
        "--timestamps",
        type=click.Choice(CHOICES["timestamps"]),
        help="Time format: millis-z (default, ...SS.mmmZ), offset (...SS+00:00) or mixed.",
    ),
    click.option(
        "--memberships-without-room",
        type=click.Choice(CHOICES["memberships_without_room"]),
        help="GET /memberships without roomId: 400 (default) or list the caller's.",
    ),
    click.option(
        "--lock-head", is_flag=True, default=None, help="Answer 423 to HEAD too while scanning."
    ),
    click.option(
        "--quota",
        multiple=True,
        callback=_pairs,
        metavar="CLASS=N",
        help="Requests per window per user for a path class (messages, people, rooms, "
        "memberships, contents…; other: every class not named), e.g. other=300. Repeatable.",
    ),
    click.option(
        "--quota-window",
        type=Finite(0.001, 86_400),
        help="The quota's window in seconds (default 60).",
    ),
    click.option(
        "--fixed-latency",
        type=Finite(0, 600),
        help="Seconds every API answer takes (e.g. 0.15).",
    ),
    click.option(
        "--item-latency",
        type=Finite(0, 600),
        help="Seconds more per item of a list answer (e.g. 0.0003).",
    ),
    click.option(
        "--page-limit",
        type=click.IntRange(min=1),
        help="/messages pages of more items than this answer 504 (reduce max).",
    ),
    click.option(
        "--page-limit-space",
        multiple=True,
        callback=_pairs,
        metavar="ROOMID=N",
        help="The page limit of one space. Repeatable.",
    ),
]


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def build_settings(base: Settings, keep_filters: bool, values: dict[str, Any]) -> Settings:
    """The data set's settings with the options given on the command line put over them."""
    quirks = base.quirks.to_json()
    for name in CHOICES:
        if values.get(name) is not None:
            quirks[camel(name)] = values[name]
    if values.get("lock_head"):
        quirks["lockHead"] = True
    if keep_filters:
        quirks["dropFiltersInNext"] = False
    quota = Quota(
        limits=values["quota"] if values.get("quota") is not None else dict(base.quota.limits),
        window=values.get("quota_window") or base.quota.window,
    )
    latency = Latency(
        fixed=_given(values.get("fixed_latency"), base.latency.fixed),
        per_item=_given(values.get("item_latency"), base.latency.per_item),
        page_limit=_given(values.get("page_limit"), base.latency.page_limit),
        page_limits={**base.latency.page_limits, **(values.get("page_limit_space") or {})},
    )
    return Settings(Quirks.from_json(quirks), quota, latency)


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value

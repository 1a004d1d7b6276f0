"""An emulator's settings as one value: the quirks, the quota and the latency model.

They travel in the data-set file (its optional ``settings`` object, so that a scenario is one
file), over ``/_emulator/settings`` and from the command line; the Python API takes each part
on its own (``Emulator(dataset, quirks=…, quota=…, latency=…)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .latency import Latency
from .quirks import Quirks
from .quota import Quota


@dataclass
class Settings:
    quirks: Quirks = field(default_factory=Quirks)
    quota: Quota = field(default_factory=Quota)
    latency: Latency = field(default_factory=Latency)

    def to_json(self) -> dict[str, Any]:
        """The quirks that differ from the defaults, then ``quota`` and ``latency`` when set."""
        out: dict[str, Any] = self.quirks.to_json()
        if self.quota.limits:
            out["quota"] = self.quota.to_json()
        if self.latency != Latency():
            out["latency"] = self.latency.to_json()
        return out

    @classmethod
    def from_json(cls, data: Any) -> Settings:
        if not isinstance(data, dict):
            raise ValueError("settings must be a JSON object")
        quirks = {k: v for k, v in data.items() if k not in ("quota", "latency")}
        return cls(
            quirks=Quirks.from_json(quirks),
            quota=Quota.from_json(_object(data.get("quota", {}), "quota")),
            latency=Latency.from_json(_object(data.get("latency", {}), "latency")),
        )

    def copy(self) -> Settings:
        """Fresh objects with the same values (a quota's counts start again)."""
        return Settings.from_json(self.to_json())


def _object(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"settings.{name} must be a JSON object")
    return value

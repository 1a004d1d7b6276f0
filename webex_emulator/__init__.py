"""A local Webex REST API for tests, benchmarks and demos (docs/emulator.md).

It stands in for ``https://webexapis.com/v1`` and imports nothing from ``etl`` or ``render``:
it must not share code with the client it is used to test.
"""

from .clock import Clock
from .faults import Faults, Rule
from .generate import generate
from .integrations import Integration, OAuthSettings
from .latency import Latency
from .model import Content, DataSet
from .quirks import Quirks
from .quota import Quota
from .server import Emulator
from .settings import Settings

__all__ = [
    "Clock",
    "Content",
    "DataSet",
    "Emulator",
    "Faults",
    "Integration",
    "Latency",
    "OAuthSettings",
    "Quirks",
    "Quota",
    "Rule",
    "Settings",
    "generate",
]

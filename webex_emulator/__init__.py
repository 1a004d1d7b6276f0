"""A local Webex REST API for tests, benchmarks and demos (docs/emulator.md).

It stands in for ``https://webexapis.com/v1`` and imports nothing from ``etl`` or ``render``:
it must not share code with the client it is used to test.
"""

from .api import Quirks
from .faults import Faults, Rule
from .generate import generate
from .integrations import Integration, OAuthSettings
from .model import Content, DataSet
from .server import Emulator

__all__ = [
    "Content",
    "DataSet",
    "Emulator",
    "Faults",
    "Integration",
    "OAuthSettings",
    "Quirks",
    "Rule",
    "generate",
]

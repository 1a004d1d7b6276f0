"""The ``webex-archive`` command line: thin click commands over etl, render and emulator."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("webex-space-archive")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

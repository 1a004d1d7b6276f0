"""The ``webex-archive`` command line: thin click commands over etl, render and emulator."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__``, read when asked: importing importlib.metadata and finding the installed
    distribution costs every start of the command some 70 ms of CPU, and only ``--version``
    needs it (the tests start the command hundreds of times)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("webex-space-archive")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"

"""Progress and notices on stderr: a live status line on a terminal, nothing when piped."""

from __future__ import annotations

import shutil
import sys
import time

import click


class Reporter:
    """``status`` redraws one line (terminal only); ``notice`` prints a line (unless quiet)."""

    def __init__(self, quiet: bool = False, stream=None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = not quiet and self.stream.isatty()
        self._last = 0.0
        self._width = 0

    def status(self, line: str) -> None:
        now = time.monotonic()
        if not self.live or now - self._last < 0.1:
            return
        self._last = now
        text = line[: shutil.get_terminal_size().columns - 1]
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def notice(self, line: str) -> None:
        if self.quiet:
            return
        self.clear()
        click.echo(line, file=self.stream)

    def clear(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

"""Progress and notices on stderr: a live status line on a terminal, nothing when piped.

Every phase that can take more than a moment reports through ``Reporter.status``: a line
alone (the walk's pages), or a phase name with ``done`` and ``total``, which the reporter
turns into ``what: done/total, rate/s, ETA`` — so the sync's file information, downloads,
avatars and people, and the render's spaces and messages, all read alike.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable

import click

# The reporter whose status line is on the screen now: an interrupt (Ctrl-C) ends that line
# before its notice (end_line), wherever the command was. Worker threads (the backfill, the
# file phase) may still report after the main thread was interrupted: drawing and ending the
# line hold one lock, and once the line is ended for good nothing draws again.
_showing: Reporter | None = None
_screen = threading.Lock()
_ended = False


class Reporter:
    """``status`` redraws one line (terminal only); ``notice`` prints a line (unless quiet)."""

    def __init__(
        self, quiet: bool = False, stream=None, clock: Callable[[], float] = time.monotonic
    ):
        """``clock`` times the phases (rates, ETAs, the ten-a-second limit): a test gives its
        own, so that a rate is exact rather than what a loaded machine's sleep made it."""
        global _ended
        _ended = False  # a new command's reporter (tests run several in one process)
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.clock = clock
        self.live = not quiet and self.stream.isatty()
        self._last = 0.0
        self._width = 0
        self._phase: tuple[str, float, int] | None = None  # what, since when, from which count

    def status(self, line: str, done: int | None = None, total: int | None = None) -> None:
        """Show ``line`` (or, with ``done``, the phase ``line`` with its count, rate and ETA),
        at most ten times a second; the last count of a phase is always shown."""
        if not self.live:
            return
        now = self.clock()
        final = done is not None and done == total
        if now - self._last < 0.1 and not final:
            return
        if done is not None:
            line = self._counted(line, done, total, now)
        self._last = now
        self._show(line)

    def _counted(self, what: str, done: int, total: int | None, now: float) -> str:
        if self._phase is None or self._phase[0] != what or done < self._phase[2]:
            self._phase = (what, now, done)
        _, since, first = self._phase
        elapsed = now - since
        rate = (done - first) / elapsed if elapsed > 0.5 else 0.0
        text = f"{what}: {done:,}" + (f"/{total:,}" if total is not None else "")
        if rate:
            text += f", {rate:,.0f}/s"
            if total is not None and total > done:
                text += f", ETA {duration((total - done) / rate)}"
        return text

    def _show(self, line: str) -> None:
        global _showing
        text = line[: shutil.get_terminal_size().columns - 1]
        with _screen:
            if _ended:
                return
            # The line counts as shown before it is written: Ctrl-C lands as the write
            # returns (the terminal's reader saw the text), and end_line must still end it.
            padded = text.ljust(self._width)
            self._width, _showing = len(text), self
            self.stream.write("\r" + padded)
            self.stream.flush()

    def notice(self, line: str) -> None:
        if self.quiet:
            return
        self.clear()
        click.echo(line, file=self.stream)

    def clear(self) -> None:
        global _showing
        with _screen:
            if self.live and self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
                self._width = 0
            if _showing is self:
                _showing = None


def end_line() -> None:
    """End the status line on the screen, if any, keeping it, and draw no status line
    after it: what comes next (the interrupt's notice) starts on its own line and stays
    the last thing on the screen, whatever threads still report."""
    global _showing, _ended
    with _screen:
        _ended = True
        if _showing is not None and _showing._width:
            _showing.stream.write("\n")
            _showing.stream.flush()
            _showing._width = 0
        _showing = None


def duration(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``2 h 05 min``: an ETA to read at a glance."""
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"

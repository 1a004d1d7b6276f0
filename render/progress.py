"""How far a rendering is, for whoever listens (webex_archive/progress.py's Reporter on a
terminal): each space and format with its messages written, and the spaces whose window
held no message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

from .model import Item
from .page import Page
from .times import notice


class Feedback(Protocol):
    """Where a rendering reports (webex_archive/progress.py's Reporter): a status line with
    a count (rate and ETA are the reporter's), and notices."""

    def status(self, line: str, done: int | None = None, total: int | None = None) -> None: ...

    def notice(self, line: str) -> None: ...


class Silent:
    def status(self, line: str, done: int | None = None, total: int | None = None) -> None:
        pass

    def notice(self, line: str) -> None:
        pass


class Progress:
    """One space's rendering, as the feedback sees it: messages written of the window, per
    format, and whether the window was empty."""

    EVERY = 256  # messages between two looks at the clock (Reporter.status throttles)

    def __init__(self, feedback: Feedback, what: str, empty: list[str]):
        self.feedback, self.what, self.empty = feedback, what, empty
        self.pages: list[Page] = []  # the space's pages, for ``impossible_times``

    def follow(self, page: Page) -> Page:
        self.pages.append(page)
        total = page.stats["in_window"]
        if total == 0 and page.title not in self.empty:
            self.empty.append(page.title)
        what = f"{self.what} {page.title} ({page.path.suffix.lstrip('.')})"
        return replace(page, items=self._counted(page.items, what, total))

    def _counted(self, items: Iterator[Item], what: str, total: int) -> Iterator[Item]:
        status, every, done = self.feedback.status, self.EVERY, 0
        status(what, 0, total)
        for item in items:
            if item.in_window:
                done += 1
                if done % every == 0:
                    status(what, done, total)
            yield item
        status(what, done, total)

    def impossible_times(self) -> None:
        """The space's one warning for its messages shown with an impossible time (each
        format's items found them: render/model.py), once all its formats are written."""
        found: dict[str, object] = {}
        for page in self.pages:
            for message_id, text in (page.context.impossible if page.context else {}).items():
                found.setdefault(message_id, text)
        line = notice(self.pages[0].title, found) if found else None
        if line:
            self.feedback.notice(line)


def empty_notice(titles: list[str], spaces: int, filters: str) -> str:
    """One line: which spaces' pages show no message, and under which filters."""
    names = ", ".join(repr(title) for title in titles[:3])
    more = f" and {len(titles) - 3} more" if len(titles) > 3 else ""
    where = f"{len(titles)} of {spaces} spaces ({names}{more})" if spaces > 1 else names
    return f"no message matches {filters} in {where}: written with none"

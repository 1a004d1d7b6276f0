"""A compliance officer's run: which spaces (the organisation's feed, the custodians'), and the
feed's edits and deletions applied after each space's sync (docs/compliance.md).

The walk, the page loop and coverage do not change: they only need a space id and a client.
What changes is which spaces a run visits and how far back each is re-read. With a checkpoint
inside the retention window, a run reads the feed since the checkpoint (a few pages for a
day of an organisation's activity) and visits only the spaces it names, plus custodians'
spaces new to the archive, with no look-back: edits and deletions of any age come from the
feed. Without one (the first run) or with one older than the retention window (the feed
cannot tell what happened in between: a notice says so), every space in scope is synced with
the normal look-back, and the feed read covers the whole window (so messages deleted before
the first sync are recovered while Webex keeps them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlite_utils import Database

from . import store
from .api import WebexClient
from .custodians import custodian_spaces
from .errors import SyncError
from .events import (
    DEFAULT_RETENTION_DAYS,
    apply_events,
    is_compliance_officer,
    read_deletions,
    read_feed,
)
from .store import events as feed_store
from .sync import SpaceResult, SyncOptions

NOT_OFFICER = (
    "--org and --custodian need a compliance officer's token: an administrator gives the "
    "Compliance Officer role in Control Hub, and the token needs the spark-compliance:"
    "events_read, messages_read and memberships_read scopes (Webex answered 403 to this one)"
)


@dataclass
class Selection:
    """What an officer's run collects: the whole organisation and/or custodians (emails)."""

    org: bool = False
    custodians: list[str] = field(default_factory=list)
    retention_days: float = DEFAULT_RETENTION_DAYS


class CompliancePlan:
    """The run's spaces from the feed and the custodians; the feed applied after each space
    (the ``Plan`` that etl/sync.py's ``sync_spaces`` takes)."""

    def __init__(
        self, client: WebexClient, selection: Selection, notify: Callable[[str], None]
    ) -> None:
        self.client, self.selection, self.notify = client, selection, notify
        self.full_pass = True
        self.synced: set[str] = set()  # spaces whose last sync ended well before this run
        self.pages = 0

    def check_officer(self) -> None:
        """Before anything is written: one line, not a 403 per space, for any other token."""
        if not is_compliance_officer(self.client):
            raise SyncError(NOT_OFFICER)

    def spaces(self, db: Database, progress: Callable[[str], None]) -> list[str]:
        """The spaces this run visits (see the module's docstring)."""
        known = dict(db.execute("SELECT id, last_sync_status FROM spaces").fetchall())
        self.synced = {space for space, status in known.items() if status == "ok"}
        wanted = self.custodian_spaces(progress)
        scope = set(known) | set(wanted)
        checkpoint = feed_store.checkpoint(db)
        read = read_feed(
            db, self.client, lambda room: self.selection.org or room in scope,
            self.selection.retention_days, progress, set(known),
        )  # fmt: skip
        self.pages = read.pages
        if read.expired:
            self.notify(
                f"the archive's events checkpoint is older than the feed's retention "
                f"({self.selection.retention_days:g} days): what happened in between is not in "
                "the feed, so every space is re-read with the look-back this run"
            )
        self.full_pass = read.first or read.expired
        if self.full_pass:
            return list(dict.fromkeys([*known, *wanted, *feed_store.pending_spaces(db)]))
        unsynced = [s for s in [*wanted, *known] if s not in self.synced]
        if unsynced and checkpoint:
            self.pages += read_deletions(
                db, self.client, set(unsynced), checkpoint, self.selection.retention_days,
                progress,
            ).pages  # fmt: skip
        return list(dict.fromkeys([*feed_store.pending_spaces(db), *unsynced]))

    def custodian_spaces(self, progress: Callable[[str], None]) -> list[str]:
        found: list[str] = []
        for email in self.selection.custodians:
            progress(f"custodian {email}: listing spaces")
            spaces = custodian_spaces(self.client, email)
            if not spaces:
                self.notify(f"custodian {email}: Webex lists no space for this address")
            found.extend(spaces)
        return list(dict.fromkeys(found))

    def options(self, space_id: str, options: SyncOptions) -> SyncOptions:
        """No look-back for a space synced before while the feed is complete: its edits and
        deletions come from the feed."""
        if self.full_pass or space_id not in self.synced or options.full:
            return options
        return replace(options, rescan_days=0.0)

    def finished(self, db: Database, space_id: str, result: SpaceResult) -> None:
        """The space's pending events applied, after a sync that ended well."""
        if result.error is not None:
            return
        applied = apply_events(db, self.client, space_id, store.utc_now())
        result.edited += applied.edited
        result.deleted += applied.deleted
        result.new += applied.recovered

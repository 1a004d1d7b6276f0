"""The sync's own error, shared by its modules (sync.py, walk.py, backfill.py)."""


class SyncError(Exception):
    """A sync that cannot go on, with a one-line message that says what to do."""

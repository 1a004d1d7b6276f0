"""The full-text index: the triggers of schema.sql and the bulk-load path of
etl/store/fts.py must both leave an index that matches the messages table exactly."""

from __future__ import annotations

from sqlite_utils import Database

from etl import store
from tests.etl.store.conftest import (
    ALL_MESSAGES,
    LATER,
    LATEST,
    M1,
    M2,
    M6,
    NOW,
    REPLY,
    ROOM,
    search,
)


def test_fts_finds_words_and_keeps_up_with_edits_and_deletes(db: Database):
    with store.transaction(db):
        store.save_messages(db, ALL_MESSAGES, NOW)
    assert search(db, "budget") == [M2]
    assert search(db, "nine") == [M1, M6]
    edit = {**REPLY, "text": "I'll bring the spreadsheet", "updated": LATER}
    with store.transaction(db):
        store.save_messages(db, [edit], LATER)
    assert search(db, "budget") == []
    assert search(db, "spreadsheet") == [M2]
    with store.transaction(db):  # deleted in Webex: content kept, still searchable
        store.mark_deleted(db, ROOM, [M2], LATEST)
    assert search(db, "spreadsheet") == [M2]
    with store.transaction(db):  # a row really deleted from the table leaves the index too
        db.conn.execute("DELETE FROM messages WHERE id = ?", [M6])
    assert search(db, "nine") == [M1]
    db.conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    assert db["messages"].detect_fts() == "messages_fts"  # sqlite-utils and Datasette see it
    assert [r["id"] for r in db["messages"].search("spreadsheet")] == [M2]


def test_pages_indexed_by_the_sync_are_exactly_the_new_rows(db: Database):
    """index_new indexes a page's new rows by their rowid range (fts.index_messages): a page
    mixing stored (edited and unchanged) and new messages, after a row was deleted, leaves
    an index that matches the table exactly."""
    first, second = ALL_MESSAGES[:3], ALL_MESSAGES[3:]
    with store.transaction(db):
        store.save_messages(db, first, NOW, index_new=True)
    with store.transaction(db):  # the newest row goes: its rowid is free again
        for table, key in (("files", "message_id"), ("messages", "id")):
            db.conn.execute(f"DELETE FROM {table} WHERE {key} = ?", [first[-1]["id"]])
    edited = {**first[0], "text": "an edited budget line", "updated": LATER}
    with store.transaction(db):
        new, changed = store.save_messages(db, [edited, first[1], *second], LATER, index_new=True)
    assert sorted(new) == sorted(m["id"] for m in second)
    assert changed == [first[0]["id"]]
    db.conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    indexed = db.conn.execute("SELECT count(*) FROM messages_fts").fetchone()[0]
    assert indexed == db.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert search(db, "edited") == [first[0]["id"]]

"""Full-text search over the archive (``webex-archive search``): FTS5, ranked, with snippets.

Read-only like the rest of render: it asks the ``messages_fts`` index (kept current by
triggers, see schema.sql) and joins names, spaces and, for thread replies, the first line of
the thread's opening message.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .query import RenderError

# Snippet markers from Unicode's private use area (kept by clean_inline, unlike control
# characters), replaced by the caller with colour, brackets or <mark>.
START, END = "\ue000", "\ue001"

_SEARCH = """
SELECT m.id, m.space_id, s.title AS space_title, m.created, m.parent_id,
       coalesce(pe.display_name, m.person_email) AS author, m.person_email AS email,
       snippet(messages_fts, 0, :start, :end, '…', 16) AS snippet,
       (SELECT substr(p.text, 1, 80) FROM messages AS p WHERE p.id = m.parent_id) AS thread,
       bm25(messages_fts) AS rank
FROM messages_fts
JOIN messages AS m ON m.rowid = messages_fts.rowid
JOIN spaces AS s ON s.id = m.space_id
LEFT JOIN people AS pe ON pe.id = m.person_id
WHERE messages_fts MATCH :query
  AND (:space IS NULL OR m.space_id = :space OR s.title LIKE '%' || :space || '%')
  AND (:person IS NULL OR m.person_email LIKE '%' || :person || '%'
       OR pe.display_name LIKE '%' || :person || '%')
  AND m.created >= :since AND m.created < :until
ORDER BY rank, m.created DESC
LIMIT :limit
"""


@dataclass(frozen=True)
class Hit:
    id: str
    space_id: str
    space_title: str
    created: str
    author: str
    email: str
    snippet: str  # with START/END around each match
    thread: str | None  # the opening line of the thread, for replies
    rank: float


def search(
    conn: sqlite3.Connection,
    query: str,
    space: str | None = None,
    person: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 20,
) -> list[Hit]:
    """Messages matching an FTS5 query (phrases, prefixes, AND/OR/NOT), best first.

    A query FTS5 cannot parse is a RenderError with a one-line hint, not a traceback.
    """
    params = {
        "query": query, "space": space, "person": person, "since": since or "0000",
        "until": until or "9999", "limit": limit, "start": START, "end": END,
    }  # fmt: skip
    try:
        rows = conn.execute(_SEARCH, params).fetchall()
    except sqlite3.OperationalError as error:
        raise RenderError(
            f'cannot search for {query!r} ({error}); use words, "a phrase", prefix*, AND, OR, NOT'
        ) from None
    return [
        Hit(r["id"], r["space_id"], r["space_title"] or "", r["created"], r["author"] or "",
            r["email"] or "", r["snippet"] or "", r["thread"], r["rank"])
        for r in rows
    ]  # fmt: skip

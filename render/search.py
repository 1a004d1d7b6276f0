"""Full-text search over the archive (``webex-archive search``): FTS5, ranked, with snippets.

Read-only like the rest of render: it asks the ``messages_fts`` index (kept current by
triggers, see schema.sql) and joins names, spaces and, for thread replies, the first line of
the thread's opening message.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .fts_query import fts_query
from .query import FAR_FUTURE, FAR_PAST, RenderError
from .times import shown

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
  AND (:space IS NULL OR m.space_id = :space OR instr(lower(s.title), lower(:space)))
  AND (:person IS NULL OR instr(lower(m.person_email), lower(:person))
       OR instr(lower(pe.display_name), lower(:person)))
  AND m.created >= :since AND m.created < :until
ORDER BY rank, m.created DESC
LIMIT :limit
"""


@dataclass(frozen=True)
class Hit:
    id: str
    space_id: str
    space_title: str
    created: str | None  # None: not a real time in the archive (render/times.py)
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
    """Messages matching what was typed (render/fts_query.py: words as typed, "phrases",
    prefix*, AND/OR/NOT), best first.

    A query with nothing searchable in it, or a --space or --from that names nobody in the
    archive, is a RenderError with a one-line hint: "no message matches" would send the
    reader looking for a message when the filter is what is wrong.
    """
    expression = fts_query(query)
    if not expression:
        raise RenderError(f"nothing to search for in {query!r}: search for words or numbers")
    space, person = _cleaned(space), _cleaned(person)
    params = {
        "query": expression, "space": space, "person": person, "since": since or FAR_PAST,
        "until": until or FAR_FUTURE, "limit": limit, "start": START, "end": END,
    }  # fmt: skip
    rows = conn.execute(_SEARCH, params).fetchall()
    if not rows:
        _check_filters(conn, space, person)
    return [
        Hit(r["id"], r["space_id"], r["space_title"] or "", shown(r["created"]), r["author"] or "",
            r["email"] or "", r["snippet"] or "", r["thread"], r["rank"])
        for r in rows
    ]  # fmt: skip


def _cleaned(text: str | None) -> str | None:
    """A filter without lone surrogates (undecodable command-line bytes SQLite cannot take)."""
    return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


_KNOWN_SPACE = "SELECT 1 FROM spaces WHERE id = :space OR instr(lower(title), lower(:space))"
_KNOWN_PERSON = """
SELECT 1 FROM people WHERE instr(lower(display_name), lower(:person))
                        OR instr(lower(email), lower(:person))
UNION ALL SELECT 1 FROM messages WHERE instr(lower(person_email), lower(:person))
LIMIT 1
"""


def _check_filters(conn: sqlite3.Connection, space: str | None, person: str | None) -> None:
    """Nothing matched: say so if a filter names no space or nobody (only then is it asked,
    so a search that finds something pays nothing for it)."""
    if space is not None and not conn.execute(_KNOWN_SPACE, {"space": space}).fetchone():
        raise RenderError(
            f"--space {space!r} matches no space in the archive; "
            "`webex-archive status` lists the archived spaces"
        )
    if person is not None and not conn.execute(_KNOWN_PERSON, {"person": person}).fetchone():
        raise RenderError(
            f"--from {person!r} matches nobody in the archive (a part of a name or an email)"
        )

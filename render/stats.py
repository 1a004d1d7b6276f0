"""The statistics block: every figure computed by SQLite over the page's window.

The window's messages are read by rowid from the window's temporary table (render/window.py),
so no figure recomputes the window; each query is one pass over it.
"""

from __future__ import annotations

import sqlite3

from .window import Window

IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff", "heic",
                    "heif", "avif")  # fmt: skip

_JOIN = "FROM win JOIN messages AS m ON m.rowid = win.rid"

_STATS = f"""
SELECT
    (SELECT count(*) FROM messages WHERE space_id = :space) AS in_archive,
    (SELECT count(*) FROM memberships WHERE space_id = :space AND left_at IS NULL) AS members,
    (SELECT last_synced_at FROM spaces WHERE id = :space) AS last_synced,
    count(*) AS in_window,
    count(DISTINCT m.person_id) AS authors,
    coalesce(sum(m.parent_id IS NOT NULL), 0) AS replies,
    coalesce(sum(m.deleted_at IS NOT NULL), 0) AS deleted,
    coalesce(sum(m.updated IS NOT NULL), 0) AS edited,
    coalesce(sum(json_array_length(m.mentioned_people)), 0) AS mentions,
    coalesce(sum(m.mentioned_groups IS NOT NULL), 0) AS group_mentions,
    min(m.created) AS first_message,
    max(m.created) AS last_message,
    coalesce(sum(m.person_email LIKE '%@%'), 0) AS with_domain
{_JOIN}
"""

_TOP_AUTHORS = f"""
SELECT coalesce(pe.display_name, m.person_email, 'unknown') AS name, m.person_email AS email,
       count(*) AS messages
{_JOIN} LEFT JOIN people AS pe ON pe.id = m.person_id
GROUP BY m.person_id ORDER BY messages DESC, name LIMIT 11
"""

_TOP_DOMAINS = f"""
SELECT lower(substr(m.person_email, instr(m.person_email, '@') + 1)) AS domain,
       count(*) AS messages
{_JOIN} WHERE m.person_email LIKE '%@%'
GROUP BY domain ORDER BY messages DESC, domain LIMIT 11
"""

_FILES = """
SELECT kind, count(*) AS count, coalesce(sum(size), 0) AS bytes,
       sum(size IS NOT NULL) AS sized, sum(status = 'downloaded') AS downloaded
FROM (
    SELECT f.size, f.status,
           CASE WHEN f.content_type LIKE 'image/%' OR lower(
               substr(f.name, length(rtrim(f.name, replace(f.name, '.', ''))) + 1)
           ) IN ({images}) THEN 'images' ELSE 'files' END AS kind
    FROM win JOIN messages AS m ON m.rowid = win.rid
    JOIN files AS f ON f.message_id = m.id
) GROUP BY kind
"""


def statistics(conn: sqlite3.Connection, window: Window) -> dict:
    """Every figure of the statistics block, computed by SQLite over the window."""
    params = {"space": window.space_id}
    win = f"WITH {window.in_window()}"
    stats = dict(conn.execute(f"{win} {_STATS}", params).fetchone())
    with_domain = stats.pop("with_domain")
    stats["top_authors"], stats["other_authors"] = _top(
        conn, f"{win} {_TOP_AUTHORS}", params, stats["in_window"]
    )
    stats["top_domains"], stats["other_domains"] = _top(
        conn, f"{win} {_TOP_DOMAINS}", params, with_domain
    )
    images = ", ".join(f"'{extension}'" for extension in IMAGE_EXTENSIONS)
    empty = {"count": 0, "bytes": 0, "sized": 0, "downloaded": 0}
    kinds = {"images": dict(empty), "files": dict(empty)}
    for row in conn.execute(f"{win} {_FILES.format(images=images)}", params):
        kinds[row["kind"]] = {k: row[k] for k in empty}
    stats.update(kinds)
    return stats


def _top(conn: sqlite3.Connection, sql: str, params: dict, total: int) -> tuple[list[dict], int]:
    """The first ten rows, and how many messages the rest account for: the groups split the
    ``total`` messages between them, so the rest is what the first ten leave."""
    rows = [dict(r) for r in conn.execute(sql, params)]
    if len(rows) <= 10:
        return rows, 0
    return rows[:10], total - sum(r["messages"] for r in rows[:10])

"""The statistics block: every figure computed by SQLite over the page's window.

The window's messages are read once, by rowid from the window's temporary table
(render/window.py), and summed up per author and email into another small temporary table;
every figure but the attachments' is a sum over that one.

A ``--split`` rendering keeps those sums per part (``part_figures``: one row per author and
email, and the attachments per kind, of each part's rows) and adds them up (``summed``), so
that the page of all parts of an incremental rendering counts only the parts whose rows
changed (render/incremental.py); the same statements then make the same figures.
"""

from __future__ import annotations

import sqlite3

from .times import shown
from .window import Window

IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff", "heic",
                    "heif", "avif")  # fmt: skip

# One pass over the window's messages, per author and email: every figure below is a sum
# over these few rows (the authors are few, the messages many).
_AUTHOR_COLUMNS = ("person_id", "person_email", "messages", "replies", "deleted", "edited",
                   "mentions", "group_mentions", "first_message", "last_message")  # fmt: skip
_AUTHORS = """
CREATE TABLE {table} AS
SELECT m.person_id, m.person_email, count(*) AS messages,
       sum(m.parent_id IS NOT NULL) AS replies, sum(m.deleted_at IS NOT NULL) AS deleted,
       sum(m.updated IS NOT NULL) AS edited,
       sum(json_array_length(m.mentioned_people)) AS mentions,
       sum(m.mentioned_groups IS NOT NULL) AS group_mentions,
       min(m.created) AS first_message, max(m.created) AS last_message
FROM {window} AS win JOIN messages AS m ON m.rowid = win.rid
WHERE win.in_window
GROUP BY m.person_id, m.person_email
"""

_STATS = """
SELECT
    {in_archive} AS in_archive,
    (SELECT count(*) FROM memberships WHERE space_id = :space AND left_at IS NULL) AS members,
    (SELECT last_synced_at FROM spaces WHERE id = :space) AS last_synced,
    coalesce(sum(messages), 0) AS in_window,
    count(DISTINCT person_id) AS authors,
    coalesce(sum(replies), 0) AS replies,
    coalesce(sum(deleted), 0) AS deleted,
    coalesce(sum(edited), 0) AS edited,
    coalesce(sum(mentions), 0) AS mentions,
    coalesce(sum(group_mentions), 0) AS group_mentions,
    min(first_message) AS first_message,
    max(last_message) AS last_message,
    coalesce(sum(CASE WHEN person_email LIKE '%@%' THEN messages END), 0) AS with_domain
FROM {table}
"""

_TOP_AUTHORS = """
SELECT coalesce(pe.display_name, a.person_email, 'unknown') AS name, a.person_email AS email,
       a.messages
FROM (SELECT person_id, person_email, sum(messages) AS messages FROM {table}
      GROUP BY person_id) AS a
LEFT JOIN people AS pe ON pe.id = a.person_id
ORDER BY messages DESC, name LIMIT 11
"""

_TOP_DOMAINS = """
SELECT lower(substr(person_email, instr(person_email, '@') + 1)) AS domain,
       sum(messages) AS messages
FROM {table} WHERE person_email LIKE '%@%'
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
    FROM files AS f JOIN messages AS m ON m.id = f.message_id
    WHERE f.space_id = :space AND m.rowid IN (SELECT rid FROM {window} WHERE in_window)
) GROUP BY kind
"""


def statistics(conn: sqlite3.Connection, window: Window) -> dict:
    """Every figure of the statistics block, computed by SQLite over the window."""
    table = f"{window.table}_authors"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(_AUTHORS.format(table=table, window=window.table))
    images = ", ".join(f"'{extension}'" for extension in IMAGE_EXTENSIONS)
    kinds = {"images": dict(_EMPTY), "files": dict(_EMPTY)}
    files = _FILES.format(images=images, window=window.table)
    for row in conn.execute(files, {"space": window.space_id}):
        kinds[row["kind"]] = {k: row[k] for k in _EMPTY}
    return _summary(conn, table, window.space_id, kinds)


_EMPTY = {"count": 0, "bytes": 0, "sized": 0, "downloaded": 0}

# The window's first and last message, read with its rows: with --last, the time from which
# the window's rows are shown (render/page.py's membership changes, render/rsmf.py's dates).
_BOUNDS = """
SELECT min(m.created) AS first_message, max(m.created) AS last_message
FROM {window} AS win JOIN messages AS m ON m.rowid = win.rid WHERE win.in_window
"""


def counts(conn: sqlite3.Connection, window: Window) -> dict:
    """The figures every format needs, for those that show no statistics block (all but
    HTML, JSON and TXT): how many messages the window shows and the archive holds, and with
    --last the window's first and last message. The whole block reads every message of the
    window (its mentions, its author): 0.3 s of a 100,000-message export's 4 s, for figures
    such a format never shows."""
    figures = {
        "in_window": conn.execute(
            f"SELECT count(*) FROM {window.table} WHERE in_window"
        ).fetchone()[0],
        "in_archive": conn.execute(f"SELECT {_COUNT}", {"space": window.space_id}).fetchone()[0],
    }
    if window.filters.last is not None:
        figures |= _real(dict(conn.execute(_BOUNDS.format(window=window.table)).fetchone()))
    return figures


def _real(figures: dict) -> dict:
    """The figures with each time that is not a real one (render/times.py) as None: the
    window's first or last text by the archive's order may be one (a page shows "–")."""
    for key in ("first_message", "last_message", "last_synced"):
        if key in figures:
            figures[key] = shown(figures[key])
    return figures


# Per part (a temporary table of (part, first, last) display positions): the author rows of
# _AUTHORS, and the attachments of _FILES, of each part's rows.
_PART_AUTHORS = """
SELECT r.part, m.person_id, m.person_email, count(*), sum(m.parent_id IS NOT NULL),
       sum(m.deleted_at IS NOT NULL), sum(m.updated IS NOT NULL),
       sum(json_array_length(m.mentioned_people)), sum(m.mentioned_groups IS NOT NULL),
       min(m.created), max(m.created)
FROM {ranges} AS r JOIN {window} AS win ON win.seq BETWEEN r.first AND r.last
JOIN messages AS m ON m.rowid = win.rid
WHERE win.in_window
GROUP BY r.part, m.person_id, m.person_email
"""

_PART_FILES = """
SELECT part, kind, count(*), coalesce(sum(size), 0), sum(size IS NOT NULL),
       sum(status = 'downloaded')
FROM (
    SELECT r.part, f.size, f.status,
           CASE WHEN f.content_type LIKE 'image/%' OR lower(
               substr(f.name, length(rtrim(f.name, replace(f.name, '.', ''))) + 1)
           ) IN ({images}) THEN 'images' ELSE 'files' END AS kind
    FROM {ranges} AS r JOIN {window} AS win ON win.seq BETWEEN r.first AND r.last
    JOIN messages AS m ON m.rowid = win.rid JOIN files AS f ON f.message_id = m.id
    WHERE win.in_window AND f.space_id = :space
) GROUP BY part, kind
"""


def part_figures(
    conn: sqlite3.Connection, window: Window, ranges: dict[str, tuple[int, int]]
) -> dict[str, dict]:
    """Each part's share of the statistics: ``{"authors": [[_AUTHOR_COLUMNS...]...],
    "files": {kind: [count, bytes, sized, downloaded]}}`` by part key; ``ranges``: each
    part's first and last display position in ``window``."""
    table = f"{window.table}_parts"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} (part TEXT, first INTEGER, last INTEGER)")
    conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)",
                     [(key, first, last) for key, (first, last) in ranges.items()])  # fmt: skip
    figures: dict[str, dict] = {key: {"authors": [], "files": {}} for key in ranges}
    try:
        sql = _PART_AUTHORS.format(ranges=table, window=window.table)
        for part, *row in conn.execute(sql):
            figures[part]["authors"].append(row)
        images = ", ".join(f"'{extension}'" for extension in IMAGE_EXTENSIONS)
        sql = _PART_FILES.format(ranges=table, window=window.table, images=images)
        for part, kind, *row in conn.execute(sql, {"space": window.space_id}):
            figures[part]["files"][kind] = row
    finally:
        conn.execute(f"DROP TABLE {table}")
    return figures


def summed(conn: sqlite3.Connection, window: Window, figures: list[dict]) -> dict:
    """The statistics block from the parts' ``part_figures`` (all of a window's parts): the
    author rows go into the table _AUTHORS would have made, so the same statements follow."""
    table = f"{window.table}_authors"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(f"CREATE TABLE {table} ({', '.join(_AUTHOR_COLUMNS)})")
    marks = ", ".join("?" * len(_AUTHOR_COLUMNS))
    rows = (row for part in figures for row in part["authors"])
    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    kinds = {"images": dict(_EMPTY), "files": dict(_EMPTY)}
    for part in figures:
        for kind, values in part["files"].items():
            for name, value in zip(_EMPTY, values, strict=True):
                kinds[kind][name] += value
    # The parts are of a window of all messages (render/partial.py): the space's messages are
    # the window's, summed, where counting them would read the space's index whole.
    return _summary(conn, table, window.space_id, kinds, "coalesce(sum(messages), 0)")


_COUNT = "(SELECT count(*) FROM messages WHERE space_id = :space)"


def _summary(
    conn: sqlite3.Connection, table: str, space_id: str, kinds: dict, in_archive: str = _COUNT
) -> dict:
    """The figures from the author table ``table`` (dropped here) and the attachments;
    ``in_archive``: how to count the space's messages."""
    sql = _STATS.format(table=table, in_archive=in_archive)
    stats = dict(conn.execute(sql, {"space": space_id}).fetchone())
    with_domain = stats.pop("with_domain")
    stats["top_authors"], stats["other_authors"] = _top(
        conn, _TOP_AUTHORS.format(table=table), stats["in_window"]
    )
    stats["top_domains"], stats["other_domains"] = _top(
        conn, _TOP_DOMAINS.format(table=table), with_domain
    )
    conn.execute(f"DROP TABLE {table}")
    stats.update(kinds)
    return _real(stats)


def _top(conn: sqlite3.Connection, sql: str, total: int) -> tuple[list[dict], int]:
    """The first ten rows, and how many messages the rest account for: the groups split the
    ``total`` messages between them, so the rest is what the first ten leave."""
    rows = [dict(r) for r in conn.execute(sql)]
    if len(rows) <= 10:
        return rows, 0
    return rows[:10], total - sum(r["messages"] for r in rows[:10])

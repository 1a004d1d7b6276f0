"""Attachment metadata: what each file of a space is called, its type and size (HEAD).

Render shows names and sizes of attachments without downloading them, so the sync asks Webex
about each new file once (``HEAD /v1/contents/{id}``, webex-api.md §4) and records the answer
in the ``files`` table. The name is stored exactly as Webex sent it: it is data (a person may
search for it); only the code that writes bytes to disk makes it safe (``etl.files.names``).

Anti-malware scanning shapes the outcomes: 423 means "still being scanned, ask again after
Retry-After"; 410 means infected and 428 unscannable, both final verdicts; 404 means the file
or its message is gone.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from email.errors import HeaderParseError
from email.header import decode_header
from urllib.parse import unquote

import requests
from sqlite_utils import Database

from etl.api import AuthError, WebexClient, WebexError
from etl.origin import may_carry_token
from etl.store import transaction

BATCH_ROWS = 200  # rows per write transaction
BATCH_SECONDS = 5.0  # ... or fewer, so that a slow run commits what it has learnt
LOCKED_RETRIES = 5  # 423 "being scanned": retries before giving up for this run
LOCKED_DEFAULT_WAIT = 1.0  # seconds, when a 423 carries no Retry-After
LOCKED_MAX_WAIT = 60.0
VERDICTS = {404: "gone", 410: "infected", 428: "unscannable"}
COUNTERS = ("checked", "info", "gone", "infected", "unscannable", "failed")
# Rows that still need a HEAD: never asked, or asked without an answer (a download failure
# after a HEAD keeps its name, so it is the download step's to retry, not ours).
_NEEDS_INFO = "(status = 'pending' OR (status = 'failed' AND name IS NULL))"

# One Content-Disposition item: a name, then optionally "=" and a quoted-string (possibly
# unterminated, as broken servers send) or a token running to the next ";".
_ITEM = re.compile(r'[\s;]*([^\s;="]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|"[^;]*|[^;]*))?', re.DOTALL)
_EXT_VALUE = re.compile(r"([A-Za-z0-9!#$%&+^_`{}~-]+)'([^']*)'(.*)", re.DOTALL)
_CHARSETS = {"utf-8": "utf-8", "iso-8859-1": "iso-8859-1", "us-ascii": "ascii"}
# A value made of RFC 2047 encoded-words only (``=?UTF-8?B?5Zu+54mHLnBuZw==?=``), one or more.
_WORD = r"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?="
_ENCODED_WORDS = re.compile(rf"{_WORD}(?:\s+{_WORD})*")
# A percent-encoded byte that no plain file name would spell by chance: beyond ASCII (UTF-8)
# or a control character.
_ENCODED_BYTE = re.compile(r"%(?:[89A-Fa-f][0-9A-Fa-f]|[01][0-9A-Fa-f]|7[Ff])")


# ----- Content-Disposition (RFC 6266, RFC 5987) --------------------------------------------


def parse_content_disposition(header: str | None) -> str | None:
    """The file name a Content-Disposition header carries, or None when it has none.

    ``filename*`` (RFC 5987: ``UTF-8''%E5%9B%BE.png``, also ISO-8859-1 and a language tag)
    wins over ``filename``, as RFC 6266 says, because it is the exact name and ``filename`` a
    fallback for old clients. A ``filename*`` that does not decode falls back to ``filename``.
    Parameter names are case-insensitive; the first of a repeated parameter counts.

    Webex documents only a plain ``filename="…"`` and servers put a name beyond ASCII there
    in several forms (docs/undocumented.md), each read here (``_plain_name``).
    """
    if not header:
        return None
    params = _parameters(header)
    extended = _decode_ext_value(params["filename*"]) if "filename*" in params else None
    name = extended if extended else _plain_name(params.get("filename", ""))
    return name if name.strip() else None


def _plain_name(value: str) -> str:
    """The name in a plain ``filename``: RFC 2047 encoded-words, percent-encoded UTF-8, raw
    UTF-8 or ISO-8859-1, whichever the value is.

    Percent-encoding is undone only when the value is ASCII and encodes a byte beyond ASCII or
    a control character, and the whole decodes as UTF-8: a name such as ``a%20b.txt`` or
    ``..%2F..%2Fetc%2Fpasswd`` is a name, kept as it is (one that spells UTF-8 in percent
    escapes, ``caf%C3%A9.txt``, cannot be told from the encoding and is read as ``café.txt``).
    """
    if _ENCODED_WORDS.fullmatch(value):
        decoded = _decode_words(value)
        if decoded is not None:
            return decoded
    if value.isascii() and _ENCODED_BYTE.search(value):
        try:
            return unquote(value, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            pass
    return _recover_utf8(value)


def _decode_words(value: str) -> str | None:
    """RFC 2047 encoded-words to text (the space between two words is not part of the name);
    None when one does not decode."""
    try:
        parts = decode_header(value)
        return "".join(
            part.decode(charset or "ascii", errors="strict") if isinstance(part, bytes) else part
            for part, charset in parts
        )
    except (HeaderParseError, LookupError, ValueError):
        return None


def _parameters(header: str) -> dict[str, str]:
    """Parameter name (lower case) → value with quoting undone, first occurrence wins."""
    params: dict[str, str] = {}
    position = 0
    while position < len(header):
        match = _ITEM.match(header, position)
        if match is None:
            position += 1  # a stray quote or "=": skip it
            continue
        position = match.end()
        name, value = match[1].lower(), match[2]
        if value is not None and name not in params:
            params[name] = _unquote(value)
    return params


def _unquote(value: str) -> str:
    """A quoted-string's content (backslash escapes undone), or a token without its spaces."""
    if not value.startswith('"'):
        return value.strip()
    inner = value[1:-1] if len(value) >= 2 and value.endswith('"') else value[1:]
    return re.sub(r"\\(.)", r"\1", inner, flags=re.DOTALL)


def _decode_ext_value(value: str) -> str | None:
    """``charset'language'percent-encoded`` → text; None if malformed or not decodable."""
    match = _EXT_VALUE.fullmatch(value.strip())
    if match is None:
        return None
    charset = _CHARSETS.get(match[1].lower())
    if charset is None:
        return None
    try:
        return unquote(match[3], encoding=charset, errors="strict")
    except UnicodeDecodeError:
        return None


def _recover_utf8(name: str) -> str:
    """Raw UTF-8 in a plain ``filename`` arrives as Latin-1 mojibake (http.client decodes
    headers as Latin-1); give back the UTF-8 text when that is what the bytes are."""
    if name.isascii():
        return name
    try:
        return name.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


# ----- HEAD of one file ----------------------------------------------------------------------


@dataclass(frozen=True)
class FileInfo:
    """What Webex said about one file URL: a status of the files table and its details."""

    status: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    error: str | None = None


def info_from_headers(headers: Mapping[str, str]) -> FileInfo:
    """FileInfo from a successful HEAD's headers (a case-insensitive mapping).

    Content-Length is kept only when it is a plain integer: webex-api.md §4 notes it is not
    always reliable, and a download counts the bytes anyway.
    """
    length = (headers.get("Content-Length") or "").strip()
    return FileInfo(
        status="info",
        name=parse_content_disposition(headers.get("Content-Disposition")),
        content_type=headers.get("Content-Type") or None,
        size=int(length) if length.isascii() and length.isdigit() else None,
    )


def head_file(client: WebexClient, url: str) -> FileInfo:
    """HEAD one file URL, waiting out 423 "being scanned" up to LOCKED_RETRIES times.

    The client already retries 429, 5xx and dropped connections. AuthError is raised, not
    recorded: with an expired token every file would fail, and the run must stop and say so.
    """
    if not may_carry_token(url, client.origin):
        return FileInfo("failed", error=f"not a Webex file URL ({url:.100}): not sent the token")
    for attempt in range(LOCKED_RETRIES + 1):
        try:
            response = client.request("HEAD", url)
            return info_from_headers(response.headers)
        except AuthError:
            raise
        except WebexError as error:
            if error.status in VERDICTS:
                return FileInfo(VERDICTS[error.status], error=one_line(error))
            if error.status != 423:
                return FileInfo("failed", error=one_line(error))
            if attempt < LOCKED_RETRIES:
                client.sleep(locked_wait(error.retry_after))
        except requests.RequestException as error:  # e.g. a malformed URL: not transient
            return FileInfo("failed", error=one_line(error))
    return FileInfo("failed", error="still being scanned")


def locked_wait(retry_after: float | None) -> float:
    wait_for = LOCKED_DEFAULT_WAIT if retry_after is None else retry_after
    return min(max(wait_for, 0.0), LOCKED_MAX_WAIT)


def one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# ----- every pending file of a space ---------------------------------------------------------


def fetch_file_info(
    db: Database,
    client: WebexClient,
    space_id: str,
    now: str,
    workers: int = 4,
    notify: Callable[..., None] | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """HEAD every file of the space not yet asked about; record name, type, size and status.
    ``limit``: ask about at most this many URLs (the rest stay 'pending' for a later run).

    Rows 'pending', and 'failed' ones that never got a name, are asked about; every other
    status is final or belongs to the download step, so a second run sends no request. A URL
    shared by several rows is asked about once. HEADs run in ``workers`` threads; the
    database is written on this thread only, in transactions of up to BATCH_ROWS rows, and
    what was learnt is committed even when the run stops early (Ctrl-C, AuthError).
    ``notify`` gets progress (etl.sync.Progress), on this thread. Returns counters (COUNTERS).
    """
    rows = _rows_to_check(db, space_id)
    by_url: dict[str, int] = {}
    for url in rows:
        if url in by_url or limit is None or len(by_url) < limit:
            by_url[url] = by_url.get(url, 0) + 1
    total = sum(by_url.values())
    counts = dict.fromkeys(COUNTERS, 0)
    batch: list[dict[str, object]] = []
    last_commit = time.monotonic()
    try:
        for url, info in _head_all(client, by_url, workers):
            batch.append(_update(space_id, url, info, now))
            counts["checked"] += by_url[url]
            counts[info.status] += by_url[url]
            if info.status == "failed" and notify:
                notify(f"file info failed for {url}: {info.error}")
            if notify:
                notify("file info", counts["checked"], total)
            if len(batch) >= BATCH_ROWS or time.monotonic() - last_commit >= BATCH_SECONDS:
                _write(db, batch)
                batch, last_commit = [], time.monotonic()
    finally:
        _write(db, batch)
    return counts


def _rows_to_check(db: Database, space_id: str) -> list[str]:
    """The URL of each files row of the space that still needs a HEAD, in a stable order."""
    cursor = db.conn.execute(
        f"SELECT url FROM files WHERE space_id = ? AND {_NEEDS_INFO} ORDER BY message_id, position",
        [space_id],
    )
    return [row[0] for row in cursor]


def _update(space_id: str, url: str, info: FileInfo, now: str) -> dict[str, object]:
    return {"space_id": space_id, "url": url, "now": now, **asdict(info)}


def _write(db: Database, batch: list[dict[str, object]]) -> None:
    """Record a batch of answers in one transaction. Only rows still needing info change: a
    row that another step moved on meanwhile keeps its state."""
    if not batch:
        return
    with transaction(db):
        db.conn.executemany(
            "UPDATE files SET status = :status, name = :name, content_type = :content_type, "
            "size = :size, error = :error, checked_at = :now "
            f"WHERE space_id = :space_id AND url = :url AND {_NEEDS_INFO}",
            batch,
        )


def _head_all(
    client: WebexClient, urls: Iterable[str], workers: int
) -> Iterator[tuple[str, FileInfo]]:
    """(url, FileInfo) as the HEADs finish, with at most ``4 * workers`` URLs queued, so a
    space of 100,000 files does not hold 100,000 futures. Stopping early (an exception, or
    the caller closing the generator) cancels what has not started."""
    todo = iter(urls)
    with ThreadPoolExecutor(max(workers, 1), thread_name_prefix="file-info") as pool:
        running: dict[Future[FileInfo], str] = {}

        def submit(count: int) -> None:
            for url in itertools.islice(todo, count):
                running[pool.submit(head_file, client, url)] = url

        submit(4 * max(workers, 1))
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in [f for f in running if f in done]:  # in the order submitted
                    yield running.pop(future), future.result()
                submit(len(done))
        finally:
            for future in running:
                future.cancel()

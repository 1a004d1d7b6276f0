"""The chain of custody: every rendering writes ``X.custody.json`` beside its outputs, and
``webex-archive verify`` names each file changed, missing or added since (exit 1), or says in
one line that all match (exit 0)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from render import RenderOptions, query, render_spaces
from render.custody import _BY_FILES, _BY_ROWS, SUFFIX, check, verify, write_statement
from render.query import Filters, RenderError
from render.window import Window
from tests.render.conftest import PEOPLE, SPACE_ID
from tests.test_cli import run

SLIDES = b"%PDF-1.4 the slides"
NAMED = b"a file stored under a person's name"


@pytest.fixture
def archive(small_archive: Path) -> Path:
    """The hand-built archive with the slides' bytes (and the sha256 the sync recorded), a
    second downloaded file stored under Alice's name, and two sync runs."""
    files = small_archive / "Project Falcon" / "files"
    files.mkdir(parents=True)
    (files / "slides.pdf").write_bytes(SLIDES)
    (files / "Alice Example.txt").write_bytes(NAMED)
    conn = sqlite3.connect(small_archive / "archive.db")
    with conn:
        conn.execute("UPDATE files SET sha256 = ? WHERE content_id = 'c1'",
                     [sha(SLIDES)])  # fmt: skip
        conn.execute("UPDATE files SET status = 'downloaded', sha256 = ?, local_path = ? "
                     "WHERE content_id = 'c2'",
                     [sha(NAMED), "Project Falcon/files/Alice Example.txt"])  # fmt: skip
        conn.executemany(
            "INSERT INTO sync_runs (id, started_at, finished_at, status) VALUES (?, ?, ?, ?)",
            [(1, "2024-04-05T09:00:00Z", "2024-04-05T09:10:00Z", "ok"),
             (2, "2024-04-06T09:00:00Z", None, "interrupted")],
        )  # fmt: skip
    conn.close()
    return small_archive


def render(archive: Path, **options) -> list[Path]:
    options = {"formats": ("html", "json", "txt", "rsmf"), "zone_name": "UTC"} | options
    return render_spaces(archive, [SPACE_ID], False, RenderOptions(**options))


def custody(archive: Path, folder: str = "Project Falcon") -> Path:
    [found] = (archive / folder).glob(f"*{SUFFIX}")
    return found


def sha(data: Path | bytes) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.read_bytes()).hexdigest()


def test_the_manifest_says_what_was_written_from_what(archive):
    written = render(archive, filters=Filters(since="2024-03-01T00:00:00.000Z"))
    path = custody(archive)
    assert path.name == "Project Falcon.custody.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    folder = path.parent
    search = folder / "Project Falcon.search.js"  # the HTML page's search file goes with it
    assert record["outputs"] == [
        {"path": p.name, "sha256": sha(p), "size": p.stat().st_size} for p in [*written, search]
    ]
    assert [p.suffix for p in written][:3] == [".html", ".json", ".txt"] and len(written) > 8
    assert record["attachments"] == [
        {"path": "files/Alice Example.txt", "sha256": sha(folder / "files/Alice Example.txt"),
         "size": len(NAMED)},
        {"path": "files/slides.pdf", "sha256": sha(folder / "files/slides.pdf"),
         "size": len(SLIDES)},
    ]  # fmt: skip
    meta = dict(sqlite3.connect(archive / "archive.db").execute("SELECT key, value FROM meta"))
    assert record["archive"] == {
        "id": meta["archive_id"], "schema_version": "1",
        "last_sync_run": {"id": 2, "started_at": "2024-04-06T09:00:00Z", "finished_at": None,
                          "status": "interrupted"},
        "last_good_sync_run": {"id": 1, "started_at": "2024-04-05T09:00:00Z",
                               "finished_at": "2024-04-05T09:10:00Z", "status": "ok"},
    }  # fmt: skip
    assert len(meta["archive_id"]) == 32
    assert record["window"] == {
        "since": "2024-03-01T00:00:00.000Z", "until": None, "last": None, "sort": "oldest",
        "description": "all messages", "time_zone": "UTC"}  # fmt: skip
    assert record["space"] == {"id": SPACE_ID, "title": "Project Falcon",
                               "last_synced": "2024-04-05T10:00:00.000Z"}  # fmt: skip
    assert (record["formats"], record["blur"], record["attachments_withheld"]) == (
        ["html", "json", "txt", "rsmf"], False, 0)  # fmt: skip
    assert record["tool"]["name"] == "webex-space-archive"


def test_verify_passes_then_names_each_change(archive):
    written = render(archive)
    path = custody(archive)
    ok = run("verify", str(path))
    assert ok.returncode == 0 and ok.stderr == ""
    # the outputs, the HTML page's search file, the slides and the file named after Alice
    assert ok.stdout == (f"ok: {len(written) + 3} files match {path} (sha256 {sha(path)})\n")
    page, removed = written[1], written[5]
    page.write_bytes(page.read_bytes().replace(b"Budget approved", b"Budget rejected"))
    removed.unlink()
    added = path.parent / "Project Falcon-2024-05-01.rsmf"
    added.write_bytes(b"planted")
    (path.parent / "files" / "slides.pdf").write_bytes(SLIDES + b" altered")
    (path.parent / "notes.txt").write_text("a person's file: not the rendering's")
    bad = run("verify", str(path.parent))  # a folder: every manifest in it
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"changed: {page}", f"changed: {path.parent / 'files' / 'slides.pdf'}",
        f"missing: {removed}", f"added: {added}"]  # fmt: skip
    assert bad.stderr.startswith("Error: 4 difference(s) in 1 of 1 custody manifest(s)")
    assert "Traceback" not in bad.stderr


def test_the_same_size_with_other_bytes_is_a_change(archive):
    written = render(archive, formats=("txt",))
    target = written[0]
    data = target.read_bytes()
    target.write_bytes(data[:-2] + b"?\n")
    assert check(custody(archive)).changed == [str(target)]


def test_a_later_rendering_replaces_the_statement(archive):
    render(archive)
    [json_page] = render(archive, formats=("json",))
    record = json.loads(custody(archive).read_text(encoding="utf-8"))
    assert [o["path"] for o in record["outputs"]] == [json_page.name]
    [verdict] = verify(archive)  # the HTML of the first rendering is not "added" to the JSON
    assert verdict.ok and verdict.checked == 3


def test_blurred_statement_names_nobody(archive):
    render(archive, blur=True)
    path = custody(archive, "blurred")
    text = path.read_text(encoding="utf-8").casefold()
    for _, name, email, _ in PEOPLE:
        assert name.casefold() not in text and email.casefold() not in text
    record = json.loads(text)
    assert [a["path"] for a in record["attachments"]] == ["../project falcon/files/slides.pdf"]
    assert record["attachments_withheld"] == 1 and record["blur"] is True
    assert verify(path)[0].ok


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot be read as a custody manifest"),
        ('{"format": "something else"}', "is not a custody manifest of this tool"),
        ('{"format": "webex-space-archive custody", "version": 9, "formats": [], '
         '"outputs": [], "attachments": []}', "is custody format version 9"),
        ('{"format": "webex-space-archive custody", "version": 1, "formats": [], '
         '"outputs": [{"path": 3}], "attachments": []}', "is not a custody manifest"),
    ],
)  # fmt: skip
def test_what_is_not_a_manifest_is_an_error_not_a_pass(tmp_path, content, message):
    path = tmp_path / f"x{SUFFIX}"
    path.write_text(content)
    result = run("verify", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    with pytest.raises(RenderError, match=message):
        verify(path)


def test_nothing_to_verify_is_said(tmp_path):
    assert "no custody manifest" in run("verify", str(tmp_path)).stderr
    gone = run("verify", str(tmp_path / "gone.custody.json"))
    assert gone.returncode == 1 and "does not exist" in gone.stderr


def test_hostile_names_cannot_rewrite_the_terminal_line(archive):
    written = render(archive, formats=("txt",))
    path = custody(archive)
    record = json.loads(path.read_text(encoding="utf-8"))
    record["outputs"].append({"path": "evil\x1b[2K\r\u202ename.txt", "sha256": None, "size": 1})
    path.write_text(json.dumps(record))
    result = run("verify", str(path))
    assert result.returncode == 1 and written
    assert result.stdout.splitlines()[-1].endswith("evil\\u001b[2K\\u000d\\u202ename.txt")


def test_an_export_states_its_files_with_the_same_functions(tmp_path):
    """What an export that is no space's rendering uses (``write_statement``): verify reads
    its statement like any other."""
    files = [tmp_path / "messages.parquet", tmp_path / "messages-2024-03.parquet"]
    for number, path in enumerate(files):
        path.write_bytes(bytes([number]) * 10)
    path = write_statement(tmp_path / f"messages{SUFFIX}", tmp_path, {"formats": ["parquet"]},
                           files)  # fmt: skip
    assert verify(tmp_path)[0].ok
    (tmp_path / "messages-2024-04.parquet").write_bytes(b"late")
    assert check(path).added == [str(tmp_path / "messages-2024-04.parquet")]


def test_a_folder_of_mails_is_stated_mail_by_mail(archive):
    """EML writes a folder, one file a mail: the statement lists each mail, so that verify
    names a mail changed, removed or planted in that folder."""
    render(archive, formats=("eml",))
    path = custody(archive)
    record = json.loads(path.read_text())
    mails = sorted((archive / "Project Falcon" / "Project Falcon-eml").iterdir())
    assert mails and [o["path"] for o in record["outputs"]] == [
        f"Project Falcon-eml/{mail.name}" for mail in mails
    ]
    assert [o["sha256"] for o in record["outputs"]] == [sha(mail) for mail in mails]
    assert run("verify", str(path)).returncode == 0
    changed, removed = mails[0], mails[1]
    changed.write_bytes(changed.read_bytes() + b"\r\nforged")
    removed.unlink()
    planted = changed.with_name("20240101T000000Z-0000000000000000.eml")
    planted.write_bytes(b"From: nobody\r\n\r\nplanted")
    bad = run("verify", str(path))
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        f"changed: {changed}",
        f"missing: {removed}",
        f"added: {planted}",
    ]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_streamed_statement_is_the_document_json_would_write(tmp_path, count):
    """The outputs are streamed into the statement; the bytes are json.dumps(indent=1)'s
    of the whole record, whatever a title holds (a line break, the key itself)."""
    folder = tmp_path / "out"
    mails = folder / "Space-eml"
    mails.mkdir(parents=True)
    names = ["b.eml", "\u00e9t\u00e9.eml", "A.eml", "z\u4e2d.eml", "a b.eml", "\U0001f600.eml"]
    for n, name in enumerate(names[: count * 2]):
        (mails / name).write_bytes(b"mail %d" % n)
    (mails / "sub").mkdir()  # not a file: not listed
    (mails / "link.eml").symlink_to(mails / "sub")  # nor a link
    title = 'x\n "outputs": []\n "outputs": [' + '"'
    about = {"space": {"title": title}, "formats": ["eml"]}
    written = [mails] if count else []
    path = write_statement(folder / f"Space{SUFFIX}", folder, about, written)
    text = path.read_text(encoding="utf-8")
    record = json.loads(text)
    assert text == json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    assert record["space"]["title"] == title
    assert [e["path"] for e in record["outputs"]] == [
        f"Space-eml/{name}" for name in sorted(names[: count * 2])
    ]
    for entry in record["outputs"]:
        data = (folder / entry["path"]).read_bytes()
        assert (entry["sha256"], entry["size"]) == (hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), ["Project Falcon/avatars/alice.png", "Project Falcon/avatars/eve.png",
                     "Project Falcon/files/Alice Example.txt", "Project Falcon/files/slides.pdf"]),
        (Filters(last=2), ["Project Falcon/avatars/alice.png"]),  # msg-13, msg-14 and msg-09
        (Filters(since="2024-03-20T00:00:00.000Z", until="2024-03-21T00:00:00.000Z"),
         ["Project Falcon/avatars/alice.png", "Project Falcon/files/Alice Example.txt",
          "Project Falcon/files/slides.pdf"]),
        (Filters(since="2030-01-01T00:00:00.000Z"), []),
    ],
)  # fmt: skip
def test_both_ways_of_reading_the_attachments_give_the_same_rows(archive, filters, expected):
    """The window's attachments are read from its rows or from the space's files, whichever
    are fewer (render/custody.py): both statements must name the same files, whatever the
    window. Dave's avatar is in the space, but none of his messages is in any window."""
    with sqlite3.connect(archive / "archive.db") as conn:
        conn.executemany(
            "INSERT INTO avatars (space_id, person_id, url, local_path, fetched_at) "
            "VALUES (?, ?, 'https://avatars.example/a', ?, '2024-04-05')",
            [(SPACE_ID, pid, f"Project Falcon/avatars/{pid[2:]}.png")
             for pid in ("p-alice", "p-eve", "p-dave")],
        )  # fmt: skip
    conn = query.connect(archive)
    window = Window(conn, SPACE_ID, filters)
    found = [
        conn.execute(sql.format(table=window.table), {"space": SPACE_ID, "avatars": True})
        for sql in (_BY_ROWS, _BY_FILES)
    ]
    by_rows, by_files = ([tuple(row) for row in rows] for rows in found)
    assert [path for path, _ in by_rows] == expected
    assert by_files == by_rows
    conn.close()

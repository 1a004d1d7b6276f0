"""The mail writers' speed paths (render/mail.py's forked sink, render/eml.py's two sinks, new
folder filled under a temporary name, hashes recorded as written) must give the bytes and the
statement the plain path gives, and keep the crash guarantee: a killed rendering leaves no
half mail under a final name, and an old complete folder whole."""

from __future__ import annotations

import email
import hashlib
import json
import re
import sqlite3
from email import policy
from pathlib import Path

import pytest

from render import RenderOptions, render_spaces
from render.custody import SUFFIX
from render.eml import EML_NAME
from render.mail import boundary
from tests.render.conftest import SPACE_ID
from tests.render.forked import FORKS, fresh, killed

_GENERATED = re.compile(rb'\n "generated_at": "[^"]*",')


def render_to(archive: Path, fmt: str, out: Path, blur: bool = False) -> dict[str, bytes]:
    """Render the test space as ``fmt`` into ``out``; every file written there, by path (the
    statement without its time)."""
    options = RenderOptions(formats=(fmt,), output=out, blur=blur, zone_name="Europe/Amsterdam")
    render_spaces(archive, [SPACE_ID], False, options)
    return {
        path.relative_to(out).as_posix(): _GENERATED.sub(b"", path.read_bytes())
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


SAME_BYTES = """
import sys
from pathlib import Path
from render import eml, mail, mbox, worker
from tests.render.test_eml import render_to
archive, out = Path(sys.argv[1]), Path(sys.argv[2])
mail.BATCH = 2  # the 14 messages in 7 batches: both sinks get several
tasks = []
submit = worker.Sink.submit
worker.Sink.submit = lambda self, *task: (tasks.append(1), submit(self, *task))[1]
for fmt in ("mbox", "eml"):
    for blur in (False, True):
        mbox.FORK_FROM = eml.FORK_FROM = 1
        forked = render_to(archive, fmt, out / f"forked-{fmt}-{blur}", blur)
        handed_out = len(tasks)
        mbox.FORK_FROM = eml.FORK_FROM = 10**9
        alone = render_to(archive, fmt, out / f"alone-{fmt}-{blur}", blur)
        assert len(tasks) == handed_out, "in-process: no batch handed out"
        assert forked == alone, (fmt, blur)
        mbox.FORK_FROM = eml.FORK_FROM = 1  # into the folder that exists now: replaced mails
        again = render_to(archive, fmt, out / f"alone-{fmt}-{blur}", blur)
        assert again == alone, (fmt, blur)
        print(fmt, blur, handed_out >= 7, len(alone))
        tasks.clear()
"""


@FORKS
def test_forked_sinks_give_the_bytes_and_statement_of_one_process(small_archive, tmp_path):
    """In a fresh process (the suite's own may have threads, where nothing forks): batches
    of two messages, so the sinks take turns; mbox and EML, with and without --blur, a new
    folder and one that exists."""
    result = fresh(SAME_BYTES, str(small_archive), str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    files = {"mbox": 3, "eml": 16}  # mbox: the file, its statement, its record; EML: 14 mails
    assert result.stdout.splitlines() == [
        f"{fmt} {blur} True {files[fmt]}" for fmt in ("mbox", "eml") for blur in (False, True)
    ]


def test_a_text_holding_its_boundary_moves_the_boundary(small_archive, tmp_path):
    """A message edited to quote the boundary its id would give: the mail takes the next
    one, and reads back as the message, text and HTML whole."""
    first = boundary("msg-05", [])
    text = f"quoting\n--{first}_1\n--{first}_0--\n{first}"
    conn = sqlite3.connect(small_archive / "archive.db")
    with conn:
        conn.execute("UPDATE messages SET text = ?, html = NULL WHERE id = 'msg-05'", [text])
    conn.close()
    for fmt in ("eml", "mbox"):
        render_to(small_archive, fmt, tmp_path / fmt)
    [raw] = [p.read_bytes() for p in (tmp_path / "eml").rglob("*.eml")
             if b"X-Webex-Message-Id: msg-05" in p.read_bytes()]  # fmt: skip
    second = boundary("msg-05", [text])
    assert second != first
    assert f'boundary="{second}_1"'.encode() in raw and f'boundary="{first}'.encode() not in raw
    assert second == "=_" + hashlib.sha256(b"msg-05\n1").hexdigest()[:40]
    mail = email.message_from_bytes(raw, policy=policy.default)
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert plain == text + "\n"
    assert f"--{first}_0--" in mail.get_body(("html",)).get_content()
    [mbox] = (tmp_path / "mbox").rglob("*.mbox")
    assert f'boundary="{second}_1"\n'.encode() in mbox.read_bytes()


def kill_while_writing(archive: Path, out: Path, forked: bool) -> None:
    result = killed(archive, out, forked, module="eml", test="test_eml", render="render_to",
                    fmt="eml", marker=b"From: ", nth=5)  # fmt: skip
    assert result.returncode == -9, result.stderr


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("forked", [False, pytest.param(True, marks=FORKS)],
                         ids=["in-process", "forked"])  # fmt: skip
def test_a_killed_rendering_into_a_new_folder_leaves_no_mail_under_a_final_name(
    small_archive, tmp_path, forked
):
    """Killed with half a mail written: the folder does not exist under its name; the next
    rendering removes what was left and writes it whole."""
    out = tmp_path / "out"
    kill_while_writing(small_archive, out, forked)
    left = hidden(out)
    assert [name for name in left if name.endswith(".part-eml")], left
    assert not (out / "Project Falcon-eml").exists()
    files = render_to(small_archive, "eml", out)
    assert len([name for name in files if EML_NAME.fullmatch(name.split("/")[-1])]) == 14
    assert hidden(out) == [".Project Falcon-eml.rendered.json"]  # nothing half-made is left


@pytest.mark.parametrize("forked", [False, pytest.param(True, marks=FORKS)],
                         ids=["in-process", "forked"])  # fmt: skip
def test_a_killed_rendering_into_an_existing_folder_keeps_every_mail_whole(
    small_archive, tmp_path, forked
):
    """Killed with half a mail written into a folder an earlier rendering filled: every
    mail there is still whole (the old one or the new one, the same bytes here); the half
    one is under a temporary name, which the next rendering removes."""
    out = tmp_path / "out"
    before = render_to(small_archive, "eml", out)
    kill_while_writing(small_archive, out, forked)
    folder = out / "Project Falcon-eml"
    now = {f"Project Falcon-eml/{p.name}": p.read_bytes() for p in folder.iterdir()
           if EML_NAME.fullmatch(p.name)}  # fmt: skip
    assert now == {name: data for name, data in before.items() if name in now}
    assert len(now) == 14
    assert hidden(folder), "the half mail is under a temporary name"
    assert render_to(small_archive, "eml", out) == before
    assert hidden(folder) == []


def test_the_statement_lists_what_was_written_and_a_person_s_file_as_it_is(small_archive, tmp_path):
    """The mails' sha256 and sizes come from their writers' records; a file a person put in
    the folder is read, and listed as it is."""
    out = tmp_path / "out"
    render_to(small_archive, "eml", out)
    folder = out / "Project Falcon-eml"
    (folder / "notes.txt").write_bytes(b"my own notes")
    render_to(small_archive, "eml", out)
    record = json.loads((out / f"Project Falcon-eml{SUFFIX}").read_text(encoding="utf-8"))
    files = sorted(p for p in folder.iterdir())
    assert [entry["path"] for entry in record["outputs"]] == [
        f"Project Falcon-eml/{p.name}" for p in files
    ]
    for entry, path in zip(record["outputs"], files, strict=True):
        data = path.read_bytes()
        assert (entry["sha256"], entry["size"]) == (hashlib.sha256(data).hexdigest(), len(data))
    assert (folder / "notes.txt").read_bytes() == b"my own notes"

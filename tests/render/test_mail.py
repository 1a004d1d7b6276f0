"""EML and MBOX over the hand-built archive of conftest.py, parsed back with ``email`` and
``mailbox`` and compared with the archive: every header, both bodies, the attachment bytes."""

from __future__ import annotations

import base64
import email
import json
import mailbox
import os
import re
import time
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from render import RenderOptions, mime, render_spaces
from render.clock import parse_utc
from render.eml import EML_NAME
from render.mail import Source, eml_name, message_id, thread_subject
from render.mbox import from_date
from render.query import Filters, RenderError
from render.text import clean_line, clean_text
from tests.render.conftest import PEOPLE, SPACE_ID

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SINCE_MARCH = Filters(since="2024-03-01")
SLIDES = b"%PDF-1.4 the slides\n"
NAMES = {"p-alice": ("Alice Example", "alice@example.com"), "p-bob": ("Bob Builder",
         "bob@partner.org"), "p-carol": ("Carol Chen", "carol@example.com"),
         "p-eve": ("Eve Evil", "eve@evil.test")}  # fmt: skip
# (id, author, Date header, parent) of every mail of the since-March window, in page order
EXPECTED = [
    ("msg-01", "p-alice", "Sat, 10 Feb 2024 10:00:00 +0100", None),
    ("msg-04", "p-alice", "Sun, 10 Mar 2024 13:00:00 +0100", "msg-01"),
    ("msg-03", "p-carol", "Tue, 05 Mar 2024 09:15:00 +0100", None),
    ("msg-05", "p-bob", "Tue, 12 Mar 2024 15:00:00 +0100", None),
    ("msg-06", "p-carol", "Fri, 15 Mar 2024 17:00:00 +0100", None),
    ("msg-07", "p-bob", "Mon, 18 Mar 2024 10:30:00 +0100", None),
    ("msg-08", "p-alice", "Wed, 20 Mar 2024 12:00:00 +0100", None),
    ("msg-09", "p-carol", "Sun, 31 Mar 2024 01:30:00 +0100", None),
    ("msg-13", "p-alice", "Wed, 03 Apr 2024 12:02:00 +0200", "msg-09"),
    ("msg-14", "p-carol", "Thu, 04 Apr 2024 10:00:00 +0200", "msg-09"),
    ("msg-10", "p-alice", "Sun, 31 Mar 2024 03:30:00 +0200", None),
    ("msg-11", "p-bob", "Tue, 02 Apr 2024 09:00:00 +0200", "msg-00"),
    ("msg-12", "p-eve", "Wed, 03 Apr 2024 12:00:00 +0200", None),
]


def render(archive: Path, fmt: str, filters: Filters = SINCE_MARCH, **options) -> Path:
    options = {"zone": AMSTERDAM, "zone_name": "Europe/Amsterdam"} | options
    written = render_spaces(archive, [SPACE_ID], False,
                            RenderOptions(filters=filters, formats=(fmt,), **options))  # fmt: skip
    assert len(written) == 1
    return written[0]


@pytest.fixture
def archive(small_archive: Path) -> Path:
    """The small archive with the bytes of its one downloaded file on disk."""
    folder = small_archive / "Project Falcon" / "files"
    folder.mkdir(parents=True)
    (folder / "slides.pdf").write_bytes(SLIDES)
    return small_archive


def document(archive: Path) -> dict[str, dict]:
    """The JSON rendering of the same window: each message object by id, for comparison."""
    path = render(archive, "json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {m["id"]: m for thread in doc["messages"] for m in (thread, *thread["replies"])}


def eml_messages(folder: Path) -> list[email.message.EmailMessage]:
    files = sorted(folder.iterdir())
    assert all(EML_NAME.fullmatch(f.name) for f in files), [f.name for f in files]
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def page_order(messages: list) -> list:
    order = [mid for mid, *_ in EXPECTED]
    return sorted(messages, key=lambda m: order.index(m["X-Webex-Message-Id"]))


def test_eml_has_one_mail_per_message_equal_to_the_archive(archive):
    folder = render(archive, "eml")
    assert folder == archive / "Project Falcon" / "Project Falcon-eml" and folder.is_dir()
    messages = page_order(eml_messages(folder))
    objects = document(archive)
    assert [m["X-Webex-Message-Id"] for m in messages] == [mid for mid, *_ in EXPECTED]
    for mail, (mid, author, date, parent) in zip(messages, EXPECTED, strict=True):
        name, address = NAMES[author]
        assert (mail["From"].addresses[0].display_name, mail["From"].addresses[0].addr_spec) == (
            name,
            address,
        )
        assert str(mail["To"]) == "Project Falcon:;"
        assert mail["Date"] == date
        assert mail["Message-ID"] == f"<{mid}@webex-archive.invalid>"
        assert (
            mail["In-Reply-To"]
            == mail["References"]
            == (f"<{parent}@webex-archive.invalid>" if parent else None)
        )
        assert mail["X-Webex-Parent-Id"] == parent
        assert mail["X-Webex-Space-Id"] == SPACE_ID
        assert mail["X-Webex-Space-Title"] == "Project Falcon"
        assert mail["X-Webex-Person-Id"] == author
        expected = objects[mid]
        assert mail["X-Webex-Created"] == expected["created"]
        assert (mail["X-Webex-Outside-Window"] == "yes") == (not expected["in_window"])
        html = mail.get_body(("html",)).get_content().replace("\r\n", "\n")
        assert html == (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
            f"{expected['html']}\n</body></html>\n"
        )
        plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
        text = clean_text(expected["text"]).strip("\n")
        if mid == "msg-08":
            text += "\n[attachment not in the archive: photo.png (20.0 KB) - not downloaded]"
        assert plain == text + "\n"
        assert eml_name_of(mail) in {f.name for f in folder.iterdir()}


def eml_name_of(mail) -> str:
    from render.model import Item

    item = Item()
    item.id, item.created = mail["X-Webex-Message-Id"], mail["X-Webex-Created"]
    return eml_name(item)


def test_edits_deletions_cards_and_subjects(archive):
    mails = {m["X-Webex-Message-Id"]: m for m in eml_messages(render(archive, "eml"))}
    assert mails["msg-05"]["X-Webex-Edited"] == "2024-03-12T14:05:00.000Z"
    assert mails["msg-06"]["X-Webex-Deleted"] == "2024-03-20T00:00:00.000Z"
    assert mails["msg-07"]["X-Webex-Card"] == "yes"
    edited_or_deleted = {mid for mid, m in mails.items()
                         if m["X-Webex-Edited"] or m["X-Webex-Deleted"]}  # fmt: skip
    assert edited_or_deleted == {"msg-05", "msg-06"}
    assert mails["msg-01"]["Subject"] == "[Project Falcon] Kick-off notes:"
    assert mails["msg-04"]["Subject"] == "Re: [Project Falcon] Kick-off notes:"
    assert mails["msg-13"]["Subject"] == "Re: [Project Falcon] Before the clock change."
    assert mails["msg-11"]["Subject"] == (
        "Re: [Project Falcon] (earlier message not in the archive)"
    )
    assert mails["msg-03"]["Subject"] == (
        "[Project Falcon] Hi Alice Example and Bob Builder, see the plan."
    )
    # the hostile message: controls gone from every header and body, nothing executable
    hostile = mails["msg-12"]
    assert hostile["Subject"] == "[Project Falcon] red alert </script><script>alert(1)</script>"
    assert "<script>" not in hostile.get_body(("html",)).get_content()
    assert hostile["From"].addresses[0].display_name == "Eve Evil"
    assert "msg-00" not in mails  # the lost parent gets no mail


def test_downloaded_files_are_attached_byte_for_byte(archive):
    mails = {m["X-Webex-Message-Id"]: m for m in eml_messages(render(archive, "eml"))}
    parts = list(mails["msg-08"].iter_attachments())
    assert [(p.get_filename(), p.get_content_type(), p.get_content()) for p in parts] == [
        ("slides.pdf", "application/pdf", SLIDES)
    ]
    assert all(not list(m.iter_attachments()) for mid, m in mails.items() if mid != "msg-08")


def test_mbox_holds_the_same_mails_as_the_eml_folder(archive):
    path = render(archive, "mbox")
    assert path == archive / "Project Falcon" / "Project Falcon.mbox"
    box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(
        f, policy=policy.default), create=False)  # fmt: skip
    from_box = list(box)
    assert [m["X-Webex-Message-Id"] for m in from_box] == [mid for mid, *_ in EXPECTED]
    from_eml = page_order(eml_messages(render(archive, "eml")))
    for one, other in zip(from_box, from_eml, strict=True):
        assert one.items() == other.items()
        for part, twin in zip(one.walk(), other.walk(), strict=True):
            if not part.is_multipart():
                content = part.get_content()
                twin_content = twin.get_content()
                if isinstance(content, str):
                    content, twin_content = content.replace("\r\n", "\n"), twin_content
                    twin_content = twin_content.replace("\r\n", "\n")
                assert content == twin_content
    first_lines = [line for line in path.read_bytes().split(b"\n") if line.startswith(b"From ")]
    assert first_lines[0] == b"From alice@example.com Sat Feb 10 09:00:00 2024"
    assert len(first_lines) == len(EXPECTED)


def test_a_line_starting_with_from_is_quoted_in_the_mbox(archive):
    import sqlite3

    conn = sqlite3.connect(archive / "archive.db")
    with conn:
        conn.execute("UPDATE messages SET text = 'From here on\nall good' WHERE id = 'msg-10'")
    conn.close()
    box = list(mailbox.mbox(render(archive, "mbox"), create=False))
    assert len(box) == len(EXPECTED)  # the body line did not start a mail of its own
    mail = next(m for m in box if m["X-Webex-Message-Id"] == "msg-10")
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    assert body.get_payload(decode=True).decode() == ">From here on\nall good\n"


def test_without_filters_and_with_last(archive):
    every = {m["X-Webex-Message-Id"] for m in eml_messages(render(archive, "eml", Filters()))}
    assert every == {f"msg-{n:02d}" for n in range(1, 15)}
    newest = eml_messages(render(archive, "eml", Filters(last=2)))
    # --last 2: msg-13 and msg-14, with their thread's first message as context
    assert sorted(m["X-Webex-Message-Id"] for m in newest) == ["msg-09", "msg-13", "msg-14"]


def test_a_narrower_rendering_removes_only_the_mails_it_no_longer_writes(archive):
    folder = render(archive, "eml", Filters())
    (folder / "notes.txt").write_text("mine")
    (folder / "20240101T000000Z-mine.eml").write_text("mine too")
    render(archive, "eml", Filters(since="2024-04-03"))
    left = sorted(p.name for p in folder.iterdir())
    ids = {m["X-Webex-Message-Id"] for m in eml_messages_of(folder)}
    assert ids == {"msg-09", "msg-12", "msg-13", "msg-14"}
    assert "notes.txt" in left and "20240101T000000Z-mine.eml" in left
    assert len(left) == 6


def eml_messages_of(folder: Path) -> list:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in folder.iterdir() if EML_NAME.fullmatch(p.name)]  # fmt: skip


def test_blur_leaves_no_name_or_email_in_any_byte_or_file_name(archive):
    folder = render(archive, "eml", Filters(), blur=True)
    mbox = render(archive, "mbox", Filters(), blur=True)
    assert folder.parent == mbox.parent == archive / "blurred"
    secrets = [value for _, name, address, _ in PEOPLE for value in (name, address)]
    secrets += ["Eve Evil", "Mara"]  # the hostile name as shown; the archive's owner
    outputs = [mbox, *folder.iterdir()]
    for path in outputs:
        data = path.read_bytes()
        decoded = [data.decode("utf-8", "replace")]
        for mail in email.message_from_bytes(data, policy=policy.default).walk():
            if not mail.is_multipart():
                decoded.append(str(mail.get_content()))
            decoded += [str(value) for value in mail.values()]
        for secret in secrets:
            assert all(secret.lower() not in text.lower() for text in decoded), (path, secret)
            assert secret.lower() not in path.name.lower()
    senders = {m["From"].addresses[0].addr_spec for m in eml_messages(folder)}
    assert senders == {"person1@hidden", "person2@hidden", "person3@hidden", "person5@hidden"}


def test_message_ids_a_header_cannot_be_broken_by():
    assert message_id("Y2lzY29zcGFyazovL3VzL01FU1NBR0UvMTIz") == (
        "<Y2lzY29zcGFyazovL3VzL01FU1NBR0UvMTIz@webex-archive.invalid>"
    )
    hostile = message_id("a>\r\nBcc: x@y <z")
    assert hostile.startswith("<") and hostile.endswith("@webex-archive.invalid>")
    assert len(hostile) == 64 + len("<@webex-archive.invalid>")


def test_names_text_and_files_beyond_ascii_read_back_exactly(archive):
    """What the hand-built MIME must encode: non-ASCII and quoting in names, a title, a long
    subject, a line longer than mail allows, an email no reader accepts, a file name with
    quotes and accents; every one read back by ``email`` as it was."""
    import sqlite3

    long_line = "ünïcode " * 200 + "end"
    conn = sqlite3.connect(archive / "archive.db")
    with conn:
        conn.execute("UPDATE people SET display_name = 'Zoë \"Q\" O''Brien <x@y>' "
                     "WHERE id = 'p-alice'")  # fmt: skip
        conn.execute("UPDATE spaces SET title = 'Équipe: Ω, \"test\"'")
        conn.execute("UPDATE messages SET text = ? WHERE id = 'msg-10'", [long_line])
        conn.execute("UPDATE messages SET person_email = 'not an email' WHERE id = 'msg-08'")
        conn.execute("UPDATE files SET name = 'slïdes \"final\"; v2.pdf' WHERE position = 0")
    conn.close()
    for fmt in ("eml", "mbox"):
        path = render(archive, fmt)
        if fmt == "eml":
            mails = {m["X-Webex-Message-Id"]: m for m in eml_messages(path)}
        else:
            box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(
                f, policy=policy.default), create=False)  # fmt: skip
            mails = {m["X-Webex-Message-Id"]: m for m in box}
        after = mails["msg-10"]
        sender = after["From"].addresses[0]
        assert (sender.display_name, sender.addr_spec) == (
            'Zoë "Q" O\'Brien <x@y>',
            "alice@example.com",
        )
        assert after["To"].groups[0].display_name == 'Équipe: Ω, "test"'
        assert after["X-Webex-Space-Title"] == 'Équipe: Ω, "test"'
        assert after["Subject"] == f'[Équipe: Ω, "test"] {long_line[:71].rstrip()}…'
        text = after.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert text == long_line + "\n"
        files = mails["msg-08"]
        assert files["From"].addresses[0].addr_spec == "unknown@webex-archive.invalid"
        parts = list(files.iter_attachments())
        assert [(p.get_filename(), p.get_content()) for p in parts] == [
            ('slïdes "final"; v2.pdf', SLIDES)
        ]
        raw = path.read_bytes() if fmt == "mbox" else b"".join(
            f.read_bytes() for f in path.iterdir())  # fmt: skip
        assert raw.isascii()  # everything beyond ASCII is encoded
        assert max(map(len, raw.splitlines())) <= 998


def test_text_parts_are_7bit_only_when_mail_allows_it():
    from render.mime import text_body

    assert text_body("x" * 998 + "\nok", "\r\n", False) == ("7bit", "x" * 998 + "\r\nok")
    for text in ("x" * 999, "caf\u00e9", "a\rb"):  # too long a line, not ASCII, a bare CR
        encoding, body = text_body(text, "\r\n", False)
        assert encoding == "base64"
        assert base64.b64decode(body.replace("\r\n", "")).decode() == text
    quoted = text_body("From me\nnot From you\nFrom", "\n", True)[1]
    assert quoted == ">From me\nnot From you\nFrom"


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_the_alternative_part_is_the_multipart_of_its_two_text_parts(linesep):
    """``alternative`` writes in one string what ``multipart`` makes of the two parts."""
    from render.mime import alternative, multipart, text_body

    plain, html = "From here\ncaf\u00e9", "<p>ok</p>\nFrom there"
    parts = []
    for subtype, text in (("plain", plain), ("html", html)):
        encoding, body = text_body(text, linesep, True)
        parts.append(([f'Content-Type: text/{subtype}; charset="utf-8"',
                       f"Content-Transfer-Encoding: {encoding}"], body))  # fmt: skip
    assert alternative(plain, html, "=_b", linesep, True) == multipart(
        "alternative", parts, "=_b", linesep
    )
    assert [headers[1] for headers, _ in parts] == [
        "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: 7bit"]  # fmt: skip


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_second_process_writes_the_same_files_as_this_one(archive, monkeypatch):
    """From FORK_FROM messages on, the files are written by a forked sink, BATCH at a time:
    byte for byte the files the in-process writer gives, stale mails removed as there."""
    here = folder_bytes(render(archive, "eml", Filters()))
    render(archive, "eml", Filters(last=2))  # three mails left: the next run adds the rest
    monkeypatch.setattr("render.eml.FORK_FROM", 1)
    monkeypatch.setattr("render.mail.BATCH", 3)  # several batches, the last one short
    forked = render(archive, "eml", Filters())
    assert folder_bytes(forked) == here and len(here) == 14
    monkeypatch.setattr("render.eml.can_fork", lambda: False)  # it would not fork: in-process
    assert folder_bytes(render(archive, "eml", Filters())) == here


@pytest.mark.parametrize("fork_from", [1, 10**9], ids=["forked", "in-process"])
def test_a_mail_that_cannot_be_written_fails_the_render(archive, monkeypatch, fork_from):
    """A write error in the sink is raised here, as the in-process writer raises it (the
    space fails in one line), and leaves no temporary file; the other mails are whole."""
    monkeypatch.setattr("render.eml.FORK_FROM", fork_from)
    monkeypatch.setattr("render.mail.BATCH", 2)
    folder = render(archive, "eml", Filters())
    names = sorted(p.name for p in folder.iterdir())
    (folder / names[5]).unlink()
    (folder / names[5]).mkdir()  # a folder where a mail goes: the rename onto it fails
    with pytest.raises(RenderError, match=r"1 of 1 spaces failed: .*Is a directory"):
        render(archive, "eml", Filters())
    assert sorted(p.name for p in folder.iterdir()) == names
    for name in names[:5] + names[6:]:
        assert email.message_from_bytes((folder / name).read_bytes())["X-Webex-Message-Id"]


@pytest.mark.parametrize(
    "created",
    ["2024-03-05T08:15:00.123Z", "2024-02-29T23:59:59.999Z", "1969-12-31T23:59:59.500Z",
     "0999-01-01T00:00:00.000Z", "2024-03-05T08:15:00Z", "2024-03-05T09:15:00+01:00"],
)  # fmt: skip
def test_the_mbox_from_line_date_is_asctime_of_the_utc_time(created):
    days: dict[str, tuple[str, str]] = {}
    expected = time.asctime(parse_utc(created).utctimetuple())
    assert from_date(created, days) == expected
    assert from_date(created, days) == expected  # its day remembered


@pytest.mark.parametrize(
    "value",
    ["", "Y2lzY29zcGFyazovL3VzL01FU1NBR0UvNmU3ZDVhODAtMzVmZi00OWQyLWFjMDctNjYyZmZjNThlYzkz",
     "2024-03-05T08:15:00.123Z", "x" * 1200, "tab\there", "caf\u00e9", "a\r\nX-Injected:yes"],
)  # fmt: skip
def test_a_header_value_without_spaces_is_kept_as_it_is(value):
    """unstructured's shortcut for values with no space (ids, times): the value itself when
    it is printable ASCII (nothing to fold at), else encoded words; either reads back."""
    folded = mime.unstructured(value, "\r\n")
    assert (folded == value) == (value.isascii() and value.isprintable())
    parsed = email.message_from_bytes(f"X-Test: {folded}\r\n\r\n".encode(),
                                      policy=policy.default)  # fmt: skip
    assert parsed["X-Test"] == value


@pytest.mark.parametrize("kernel", [True, False], ids=["copy_file_range", "read-write"])
def test_a_part_is_copied_into_the_mbox_whole_or_the_render_fails(tmp_path, monkeypatch, kernel):
    """The parts' batches go into the mbox by the kernel's copy where it can, else read and
    written (another system, another file system): the same bytes from each file's position;
    a part shorter than its recorded size is an error, never a short mbox."""
    from render.parts import _copy

    if not kernel:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    source, target = tmp_path / "part", tmp_path / "mbox"
    source.write_bytes(b"skipped|" + bytes(range(256)) * 5000)
    with open(source, "rb") as part, open(target, "wb") as out:
        out.write(b"head|")
        out.flush()
        part.seek(8)
        _copy(part.fileno(), out.fileno(), 256 * 4000)
        _copy(part.fileno(), out.fileno(), 256)
        with pytest.raises(OSError, match="ended before its recorded size"):
            _copy(part.fileno(), out.fileno(), 256 * 1000)
    assert target.read_bytes()[: 5 + 256 * 4001] == b"head|" + bytes(range(256)) * 4001


@pytest.mark.parametrize("blur", [False, True])
def test_a_member_joining_or_leaving_is_a_mail_that_says_so(archive, blur):
    """--events: each join and leave is a mail at its time, from that person, whose subject
    and text say what happened (pseudonyms with --blur)."""
    path = render(archive, "mbox", Filters(), events=True, blur=blur)
    changes = [m for m in mailbox.mbox(path) if not m["X-Webex-Message-Id"].startswith("msg")]
    dave = "Person 4" if blur else "Dave Departed"
    assert [(m["X-Webex-Message-Id"], m["Subject"]) for m in changes][-2:] == [
        ("joined-mem-p-mara",
         f"[Project Falcon] {'Person 6' if blur else 'Mara Meijer'} joined the space"),
        ("left-mem-p-dave", f"[Project Falcon] {dave} left the space"),
    ]  # fmt: skip
    plain, html = (part.get_payload(decode=True).decode() for part in changes[-1].get_payload())
    assert plain == f"{dave} left the space\n"
    assert f"<body>\n{dave} left the space\n</body>" in html
    assert len(changes) == 7 and changes[-1]["From"].startswith(f"{dave} <")


LINE_PARTS = ["x", "Hello, world", " ", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c", "\x85", "\u2028",
              "\u00a0", "\u3000", "\x1b[31m", "\x00", "\u202e", "caf\u00e9", "y" * 80]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(LINE_PARTS), max_size=12).map("".join))
def test_a_subject_is_the_first_line_with_a_non_space(plain: str):
    """The subject takes the text's first line that holds a non-space (white space collapsed),
    read with str methods from the text clean_text made once: what a regular expression over
    the text and clean_line of its match gave before. clean_text is idempotent, which is why
    the text can be made once for the subject and the plain part."""
    text = clean_text(plain)
    assert clean_text(text) == text
    line = re.search(r"\S[^\n]*", text)
    first = clean_line(line.group().strip()) if line else ""
    if len(first) > 72:
        first = first[:71].rstrip() + "\u2026"
    item = Source("m", "message", False, True, "m", None, None, None, "a", "e", None, None,
                  False, [])  # fmt: skip
    assert thread_subject("T", item, text) == f"[T] {first or '(no text)'}"

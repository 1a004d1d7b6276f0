"""``--format eml-zip``: the EML folder's mails, byte for byte, as members of one ZIP under
the folder ``<stem>-eml/``. Read back with Python's ``zipfile`` (and ``unzip -t`` where it
is installed) and compared with what ``--format eml`` writes for the same archive and
options; made in this process and by the forked sinks, the same bytes; ZIP64 past 65,535
members or 4 GiB; written whole, its leftovers removed; under custody like the mbox."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import shutil
import sqlite3
import struct
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from render import RenderOptions, eml_zip, render_spaces, zip_stream
from render.custody import SUFFIX
from render.eml import EML_NAME
from render.query import Filters
from tests.render.conftest import SPACE_ID
from tests.render.forked import FORKS, fresh, killed
from tests.test_cli import run

UNZIP = shutil.which("unzip")
FOLDER = "Project Falcon-eml"
ZIP = f"{FOLDER}.zip"


def render_as(archive: Path, fmt: str, out: Path, **options) -> Path:
    """The test space rendered as ``fmt`` into ``out``; the path written."""
    options = {"zone_name": "Europe/Amsterdam", "output": out} | options
    [written] = render_spaces(archive, [SPACE_ID], False,
                              RenderOptions(formats=(fmt,), **options))  # fmt: skip
    return written


def members(path: Path) -> dict[str, bytes]:
    """Every member of the ZIP by name (its folder's entry as b""), after checking every
    member's CRC."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def folder_files(folder: Path) -> dict[str, bytes]:
    """The EML folder as the ZIP should hold it: each mail under the folder's name."""
    return {f"{folder.name}/{mail.name}": mail.read_bytes() for mail in sorted(folder.iterdir())}


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    """This process makes the members (the forked sinks are tested in a fresh process)."""
    monkeypatch.setattr(eml_zip, "FORK_FROM", 10**9)


@pytest.mark.parametrize(
    ("options", "mails"),
    [({}, 14), ({"blur": True}, 14),
     ({"filters": Filters(since="2024-03-12", until="2024-04-03")}, 7),  # msg-05 … msg-11
     ({"filters": Filters(last=3, sort="newest")}, 4),  # and msg-09, the replies' thread
     ({"events": True}, 21)],  # and six joins and a leave
    ids=["all", "blur", "since-until", "last", "events"],
)  # fmt: skip
def test_the_zip_holds_the_eml_folder_byte_for_byte(small_archive, tmp_path, options, mails):
    """Whatever the options: the members are the mails ``--format eml`` writes for them,
    under the same names in ``<stem>-eml/``, then the folder's own entry."""
    folder = render_as(small_archive, "eml", tmp_path / "eml", **options)
    packed = render_as(small_archive, "eml-zip", tmp_path / "zip", **options)
    assert packed.name == f"{folder.name}.zip"
    expected = folder_files(folder)
    assert len(expected) == mails
    assert members(packed) == expected | {f"{folder.name}/": b""}
    with zipfile.ZipFile(packed) as archive:
        infos = archive.infolist()
    assert infos[-1].filename == f"{folder.name}/" and infos[-1].is_dir()
    assert all(info.compress_type == zipfile.ZIP_STORED for info in infos)


def test_members_are_in_page_order_dated_by_their_message(small_archive, tmp_path):
    """Threads together, as the mbox has them; each member's time (DOS fields and the
    extended timestamp) is its message's UTC second, the one its name says; files are
    0644 and the folder 0755, made by Unix; the folder is dated as its newest mail."""
    packed = render_as(small_archive, "eml-zip", tmp_path, filters=Filters(since="2024-03-01"))
    with zipfile.ZipFile(packed) as archive:
        infos = archive.infolist()
    names = [info.filename.removeprefix(f"{FOLDER}/") for info in infos]
    assert [name[:15] for name in names[:4]] == [
        "20240210T090000",
        "20240310T120000",
        "20240305T081500",
        "20240312T140000",
    ]  # msg-01, its reply msg-04, then msg-03, msg-05 (--sort oldest, threads whole)
    for info, name in zip(infos[:-1], names, strict=False):
        stamp = time.strptime(name[:15], "%Y%m%dT%H%M%S")
        assert info.date_time == stamp[:6]
        assert _extended_time(info.extra) == calendar.timegm(stamp)
        assert info.external_attr >> 16 == 0o100644 and info.create_system == 3
    folder = infos[-1]
    assert folder.external_attr >> 16 == 0o040755 and folder.external_attr & 0x10
    assert folder.date_time == max(info.date_time for info in infos[:-1])


def _extended_time(extra: bytes) -> int | None:
    """The modification time of Info-ZIP's extended timestamp field (0x5455) in ``extra``."""
    while extra:
        tag, size = struct.unpack("<HH", extra[:4])
        if tag == 0x5455:
            return struct.unpack("<I", extra[5:9])[0]
        extra = extra[4 + size :]
    return None


def test_the_same_archive_and_options_give_the_same_zip(small_archive, tmp_path):
    """No clock anywhere in it: two renderings, and one into a folder where the ZIP already
    is (replaced whole), give the same bytes."""
    first = render_as(small_archive, "eml-zip", tmp_path / "a").read_bytes()
    second = render_as(small_archive, "eml-zip", tmp_path / "b").read_bytes()
    again = render_as(small_archive, "eml-zip", tmp_path / "a").read_bytes()
    assert first == second == again


def test_where_forking_is_unsafe_a_large_window_is_made_here(small_archive, tmp_path,
                                                             monkeypatch):  # fmt: skip
    """No fork (macOS, Windows, a process with threads): the members are made in this
    process, whatever the window's size, the same bytes."""
    alone = render_as(small_archive, "eml-zip", tmp_path / "alone").read_bytes()
    monkeypatch.setattr(eml_zip, "FORK_FROM", 1)
    monkeypatch.setattr(eml_zip, "can_fork", lambda: False)
    monkeypatch.setattr(eml_zip, "parts_beside", None)  # a fork would fail on it
    assert render_as(small_archive, "eml-zip", tmp_path / "large").read_bytes() == alone


@pytest.mark.skipif(UNZIP is None, reason="unzip is not installed")
def test_unzip_tests_it_and_unpacks_the_eml_folder(small_archive, tmp_path):
    """Info-ZIP's unzip finds no error, and unpacking gives the EML folder, each mail dated
    by its message's time."""
    folder = render_as(small_archive, "eml", tmp_path / "eml")
    packed = render_as(small_archive, "eml-zip", tmp_path / "zip")
    tested = subprocess.run([UNZIP, "-t", str(packed)], capture_output=True, text=True)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout
    unpacked = tmp_path / "unpacked"
    subprocess.run([UNZIP, "-q", str(packed), "-d", str(unpacked)], check=True)
    assert folder_files(unpacked / FOLDER) == folder_files(folder)
    for mail in (unpacked / FOLDER).iterdir():
        stamp = calendar.timegm(time.strptime(mail.name[:15], "%Y%m%dT%H%M%S"))
        assert int(mail.stat().st_mtime) == stamp


SAME_BYTES = """
import sys
from pathlib import Path
import hashlib, json
from render import custody, eml_zip, mail, worker
from tests.render.test_eml_zip import render_as
archive, out = Path(sys.argv[1]), Path(sys.argv[2])
mail.BATCH = 2  # the 14 messages in 7 batches: both sinks get several
handed, hashed = [], []
submit = worker.Sink.submit
worker.Sink.submit = lambda self, *task: (handed.append(1), submit(self, *task))[1]
facts = custody._facts  # which outputs the statement read again (no digest known)
def noted(path, known=None):
    hashed.append((path.suffix, known))
    return facts(path, known)
custody._facts = noted
def stated(path):  # the ZIP's sha256 as its statement gives it
    [statement] = path.parent.glob(f"*{custody.SUFFIX}")  # with --blur, not the title's
    statement = json.loads(statement.read_text())
    [output] = statement["outputs"]
    return output["sha256"]
for blur in (False, True):
    eml_zip.FORK_FROM = 1
    path = render_as(archive, "eml-zip", out / f"forked-{blur}", blur=blur)
    forked, count = path.read_bytes(), len(handed)
    assert stated(path) == hashlib.sha256(forked).hexdigest() == dict(hashed)[".zip"]
    hashed.clear()
    eml_zip.FORK_FROM = 10**9
    alone = render_as(archive, "eml-zip", out / f"alone-{blur}", blur=blur).read_bytes()
    assert len(handed) == count, "in-process: no batch handed out"
    assert dict(hashed)[".zip"] is None, "in-process: hashed by the statement"
    assert forked == alone, blur
    print(blur, count >= 7, sorted(p.name for p in (out / f"forked-{blur}").iterdir()
                                   if p.name.startswith(".webex-archive")))
    handed.clear()
    hashed.clear()
"""


@FORKS
def test_the_forked_sinks_make_the_bytes_one_process_makes(small_archive, tmp_path):
    """In a fresh process (the suite's own has threads, where nothing forks): batches of two
    messages, so the two sinks take turns; with and without --blur; their part files are
    gone after; the ZIP hashed as it was written (render/settle.py), so the statement gives
    its sha256 without reading it again, and that is the ZIP's."""
    result = fresh(SAME_BYTES, str(small_archive), str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["False True []", "True True []"]


@pytest.mark.parametrize("forked", [False, pytest.param(True, marks=FORKS)],
                         ids=["in-process", "forked"])  # fmt: skip
def test_a_killed_rendering_leaves_no_zip_and_the_next_removes_its_leftovers(
    small_archive, tmp_path, forked
):
    """Killed in the middle of the members: no ZIP under its name, only temporary files
    (the ZIP's, the parts'), which the next rendering removes as it writes the ZIP whole."""
    out = tmp_path / "out"
    result = killed(small_archive, out, forked, module="eml_zip", test="test_eml_zip",
                    render="render_as", fmt="eml-zip", marker=b"PK\x03\x04", nth=3)  # fmt: skip
    assert result.returncode == -9, result.stderr
    left = sorted(p.name for p in out.iterdir())
    assert not (out / ZIP).exists()
    assert left and all(n.startswith(".webex-archive-") and n.endswith(".part") for n in left)
    assert len(left) == (3 if forked else 1)  # the ZIP's temporary file, and two parts
    packed = render_as(small_archive, "eml-zip", out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [ZIP, f".{FOLDER}.rendered.json", f"{FOLDER}{SUFFIX}"]
    )
    assert len(members(packed)) == 15


@pytest.mark.parametrize("blur", [False, True])
def test_a_hostile_title_cannot_lead_a_member_out_of_its_folder(small_archive, tmp_path, blur):
    """The members' names are the renderer's own (a UTC time and a digest), in a folder
    named as the ZIP is: the space's safe folder name, or under --blur its blurred title
    made safe; none leaves that folder, however the title reads."""
    conn = sqlite3.connect(small_archive / "archive.db")
    with conn:
        conn.execute("UPDATE spaces SET title = ? WHERE id = ?",
                     ["../../etc/passwd\\..\\x:/\u202e", SPACE_ID])  # fmt: skip
    conn.close()
    packed = render_as(small_archive, "eml-zip", tmp_path, blur=blur)
    folder = packed.name.removesuffix(".zip")
    assert folder.endswith("-eml") and "\u202e" not in folder  # one component, not ".."
    assert "/" not in folder and "\\" not in folder and not folder.startswith(".")
    names = list(members(packed))
    assert len(names) == 15 and names[-1] == f"{folder}/"
    for name in names[:-1]:
        head, inside = name.split("/")
        assert head == folder and EML_NAME.fullmatch(inside), name


def test_the_statement_hashes_the_zip_and_verify_names_it_when_changed(small_archive):
    """Under custody as the mbox is: one output with its sha256 and size; a byte changed
    in it makes ``verify`` exit 1 naming the ZIP."""
    slides = small_archive / "Project Falcon" / "files" / "slides.pdf"  # the one download
    slides.parent.mkdir(parents=True)
    slides.write_bytes(b"%PDF-1.4 the slides")
    conn = sqlite3.connect(small_archive / "archive.db")
    with conn:
        conn.execute("UPDATE files SET sha256 = ? WHERE content_id = 'c1'",
                     [hashlib.sha256(slides.read_bytes()).hexdigest()])  # fmt: skip
    conn.close()
    render_spaces(small_archive, [SPACE_ID], False,
                  RenderOptions(formats=("eml-zip",), zone_name="UTC"))  # fmt: skip
    packed = small_archive / "Project Falcon" / ZIP
    manifest = small_archive / "Project Falcon" / f"{FOLDER}{SUFFIX}"
    record = json.loads(manifest.read_text(encoding="utf-8"))
    data = packed.read_bytes()
    assert record["formats"] == ["eml-zip"]
    assert record["outputs"] == [
        {"path": ZIP, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    ]
    assert run("verify", str(manifest)).returncode == 0
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 1
    packed.write_bytes(bytes(tampered))
    bad = run("verify", str(manifest))
    assert (bad.returncode, bad.stdout.splitlines()) == (1, [f"changed: {packed}"])


def test_past_65535_members_the_zip_has_the_zip64_end_records(tmp_path):
    """70,000 tiny members through the writer's own functions: the end of central
    directory record says 0xFFFF and the ZIP64 records hold the count; zipfile (and unzip)
    read every member."""
    path, count = tmp_path / "many.zip", 70_000
    folder = b"many-eml/"
    with open(path, "wb") as out:
        records = []
        for number in range(count):
            name = folder + b"%08d.eml" % number
            header, record = zip_stream.member(name, b"mail %d\r\n" % number,
                                               zip_stream.stamp(1_700_000_000 + number),
                                               out.tell(), len(folder))  # fmt: skip
            out.write(header + b"mail %d\r\n" % number)
            records.append(record)
        start = out.tell()
        directory = zip_stream.central_directory(b"".join(records), folder, 0)
        out.write(directory + zip_stream.end_records(count, start, len(directory)))
    data = path.read_bytes()
    end = data[-22:]
    assert end[:4] == b"PK\x05\x06" and struct.unpack("<HH", end[8:12]) == (0xFFFF, 0xFFFF)
    locator = data[-42:-22]
    assert locator[:4] == b"PK\x06\x07"
    record64 = data[struct.unpack("<Q", locator[8:16])[0] :][:56]
    assert record64[:4] == b"PK\x06\x06" and struct.unpack("<QQ", record64[24:40]) == (count,) * 2
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert len(infos) == count and archive.testzip() is None
        assert archive.read("many-eml/00069999.eml") == b"mail 69999\r\n"
    if UNZIP:
        tested = subprocess.run([UNZIP, "-tq", str(path)], capture_output=True, text=True)
        assert tested.returncode == 0, tested.stdout + tested.stderr


def test_past_4_gib_sizes_and_offsets_take_zip64_fields(small_archive, tmp_path, monkeypatch):
    """With the 32-bit limit lowered to 1,000 bytes (mails are about 1 kB), offsets, sizes
    and the central directory's place take ZIP64 fields, local and central, and version 4.5:
    zipfile and unzip still read the mails ``--format eml`` writes."""
    folder = render_as(small_archive, "eml", tmp_path / "eml")
    monkeypatch.setattr(zip_stream, "LIMIT", 1000)
    packed = render_as(small_archive, "eml-zip", tmp_path / "zip")
    assert members(packed) == folder_files(folder) | {f"{FOLDER}/": b""}
    with zipfile.ZipFile(packed) as archive:
        infos = archive.infolist()
    wide = [info for info in infos if info.header_offset >= 1000 or info.file_size >= 1000]
    assert len(wide) == 14 and all(info.extract_version == 45 for info in wide)
    assert infos[0].extract_version == 20  # at offset 0, under 1,000 bytes: no ZIP64
    assert any(info.file_size >= 1000 for info in wide)
    data = packed.read_bytes()
    assert data[-42:-38] == b"PK\x06\x07"  # the central directory starts past the limit
    first_big = next(info for info in infos if info.file_size >= 1000)
    local = data[first_big.header_offset :][:30]
    assert struct.unpack("<II", local[18:26]) == (0xFFFFFFFF, 0xFFFFFFFF)  # in the ZIP64 field
    if UNZIP:
        tested = subprocess.run([UNZIP, "-t", str(packed)], capture_output=True, text=True)
        assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize(
    ("seconds", "date_time", "extended"),
    [(0, (1980, 1, 1, 0, 0, 0), 0),
     (315532799, (1980, 1, 1, 0, 0, 0), 315532799),
     (1709626501, (2024, 3, 5, 8, 15, 0), 1709626501),  # odd seconds: DOS's 2-second steps
     (4354819199, (2107, 12, 31, 23, 59, 58), 0x7FFFFFFF),
     (5_000_000_000, (2107, 12, 31, 23, 59, 58), 0x7FFFFFFF)],
)  # fmt: skip
def test_a_time_outside_what_a_field_holds_is_clamped(tmp_path, seconds, date_time, extended):
    """MS-DOS's date holds 1980 to 2107 in 2-second steps; the extended timestamp the
    seconds up to 2038, read alike as a signed or unsigned number."""
    path = tmp_path / "one.zip"
    header, record = zip_stream.member(b"a/b.eml", b"x", zip_stream.stamp(seconds), 0, 2)
    directory = zip_stream.central_directory(record, b"a/", 0)
    path.write_bytes(header + b"x" + directory + zip_stream.end_records(1, len(header) + 1,
                                                                       len(directory)))  # fmt: skip
    with zipfile.ZipFile(path) as archive:
        [info] = archive.infolist()
        assert archive.read("a/b.eml") == b"x"
    assert info.date_time == date_time
    assert _extended_time(info.extra) == extended
    assert _extended_time(header[30 + 7 :]) == extended  # the local header's field, the same


def test_a_name_beyond_ascii_is_flagged_utf8(tmp_path):
    """A folder named after a title in any script: bit 11 says the names are UTF-8, so
    every unzipper shows them as they are."""
    header, record = zip_stream.member("Café-eml/a.eml".encode(), b"x", zip_stream.stamp(0),
                                       0, len("Café-eml/".encode()))  # fmt: skip
    path = tmp_path / "utf8.zip"
    directory = zip_stream.central_directory(record, "Café-eml/".encode(), 0)
    path.write_bytes(header + b"x" + directory + zip_stream.end_records(1, len(header) + 1,
                                                                       len(directory)))  # fmt: skip
    with zipfile.ZipFile(path) as archive:
        [info] = archive.infolist()
    assert info.filename == "Café-eml/a.eml" and info.flag_bits & 0x800


@pytest.mark.parametrize(
    "created",
    ["2024-03-05T08:15:00.123Z", "2024-03-05T08:15:00Z", "2024-03-05", "20240305T081500Z",
     "2024-03-05 08:15:00", "2024-03-05T08:15:00+01:00", "\u0662\u0660\u0662\u0664-03-05T08:15",
     "2024-03-05T08:15:0\u0663", "T-:", "", None],
)  # fmt: skip
def test_a_mail_s_name_keeps_the_digits_of_its_time_whatever_its_form(created):
    """``eml_name`` (the folder's and the ZIP's names) skips its regular expression for the
    archive's usual times; every other form still gets the digits the expression keeps."""
    from render.mail import eml_name
    from tests.render.conftest import make_item

    stamp = re.sub(r"\D", "", (created or "1970-01-01T00:00:00")[:19])
    digest = hashlib.sha256(b"m").hexdigest()[:16]
    assert eml_name(make_item(created=created)) == f"{stamp[:8]}T{stamp[8:14]}Z-{digest}.eml"

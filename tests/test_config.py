"""The old tool's .ini: every key and value form it knew loads, and its crashes are fixed."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from webex_archive.config import (
    DEFAULT_NAME,
    DST_NOTE,
    ConfigError,
    RunConfig,
    default_config_text,
    load_config,
    migration_table,
    write_default_config,
)

TOKEN = "NjA0ZTk2ZDItY2FmYS00NzBhLWE3YzQtZmQ0ZDZkYzA4ZTFkZjM2NTJlNjktYzAw_PF84_ci"
SPACE = "Y2lzY29zcGFyazovL3VzL1JPT00vNWI5ZGNmZDAtMjA0Ni0xMWVmLWE5NjktYWRhZTA5NmVkYjlk"

# The file the old tool wrote on its first run (seed-behaviour.md §2): its explanations are
# comment lines that its writer stored as value-less keys, and maxTotalMessages is camel case.
OLD_DEFAULT = """\
[Archive Settings]
# Your Cisco Webex developer token (valid 12 hours): https://developer.webex.com
mytoken = __YOUR_TOKEN_HERE__
# Space ID: enter the space ID, or pass it as a command-line argument
myspaceid = __YOUR_SPACE_ID_HERE__
# Download: no = no downloads, info = file info (name & size), images = images only, files = all
download = no
# User avatar: no = initials, link = link to the avatar image, download = download avatars
useravatar = no
# Max total messages: N, Nd (days), DDMMYYYY- or DDMMYYYY-DDMMYYYY
maxTotalMessages = 1000
# Output filename: empty = the space title
outputfilename =
# Sort old-new: yes = oldest first, no = newest first
sortoldnew = yes
# Output JSON: no, yes/both (json and txt), json, txt
outputjson = no
# DST: W,D,M with W = week 1-4 or L (last), D = day 1-7 (Mon=1), M = month 1-12
dst_start =
dst_stop =
# Blurring: yes = blur names, domains and mentions
blurring =
"""


def write(tmp_path: Path, body: str, name: str = DEFAULT_NAME) -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def load(tmp_path: Path, body: str, environ: dict[str, str] | None = None) -> RunConfig:
    """Load ``body`` under an ``[Archive Settings]`` header, with no environment token."""
    path = write(tmp_path, "[Archive Settings]\n" + body)
    return load_config(path, environ or {})


def fields(config: RunConfig, *names: str) -> dict:
    return {name: getattr(config, name) for name in names}


def error(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, body)
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- defaults ------------------------------------------------------------------------------


def test_an_empty_section_gives_the_defaults(tmp_path):
    config = load(tmp_path, "")
    assert config == RunConfig(
        path=tmp_path / DEFAULT_NAME,
        token=None,
        space_id=None,
        download="no",
        avatars="no",
        last=1000,
        days=None,
        since=None,
        until=None,
        output_name=None,
        sort="oldest",
        formats=("html",),
        blur=False,
        dst_configured=False,
        notes=[],
    )


# --- every key, every value form -----------------------------------------------------------

DOWNLOAD = [
    ("no", "no"),
    ("none", "no"),
    ("NO", "no"),
    ("info", "info"),
    ("images", "images"),
    ("image", "images"),
    ("  Images  ", "images"),
    ("files", "files"),
    ("file", "files"),
    ("FILES", "files"),
    ("", "no"),
]


@pytest.mark.parametrize(("value", "expected"), DOWNLOAD)
def test_download(tmp_path, value, expected):
    assert load(tmp_path, f"download = {value}\n").download == expected


@pytest.mark.parametrize(("value", "expected"), DOWNLOAD)
def test_download_under_its_old_name(tmp_path, value, expected):
    config = load(tmp_path, f"downloadfiles = {value}\n")
    assert config.download == expected
    if value.strip():
        assert config.notes == ["read the old key name downloadfiles as download"]


def test_download_wins_over_its_old_name(tmp_path):
    config = load(tmp_path, "downloadfiles = files\ndownload = info\n")
    assert config.download == "info"
    assert config.notes == ["downloadfiles (old name) ignored: download is set"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("no", "no"), ("none", "no"), ("", "no")],
        *[("link", "link"), ("Link", "link"), ("download", "download"), ("DOWNLOAD", "download")],
    ],
)
def test_useravatar(tmp_path, value, expected):
    assert load(tmp_path, f"useravatar = {value}\n").avatars == expected


LIMITS = [
    ("", (1000, None, None, None)),
    ("1000", (1000, None, None, None)),
    ("5", (5, None, None, None)),
    ("1,000", (1000, None, None, None)),
    ("1.000", (1000, None, None, None)),
    ("1 000", (1000, None, None, None)),
    ("1_000_000", (1000000, None, None, None)),
    ("12,345,678", (12345678, None, None, None)),
    ("+20", (20, None, None, None)),
    ("all", (None, None, None, None)),
    ("ALL", (None, None, None, None)),
    ("30d", (None, 30, None, None)),
    ("30D", (None, 30, None, None)),
    ("30 d", (None, 30, None, None)),
    ("7 days", (None, 7, None, None)),
    ("1 day", (None, 1, None, None)),
    ("01012024-", (None, None, date(2024, 1, 1), None)),
    ("31122023-", (None, None, date(2023, 12, 31), None)),
    ("01012024-31012024", (None, None, date(2024, 1, 1), date(2024, 1, 31))),
    ("01012024 - 31012024", (None, None, date(2024, 1, 1), date(2024, 1, 31))),
    ("15032024-15032024", (None, None, date(2024, 3, 15), date(2024, 3, 15))),
    ("2024-01-31-", (None, None, date(2024, 1, 31), None)),
    ("2024-01-31-2024-02-28", (None, None, date(2024, 1, 31), date(2024, 2, 28))),
    ("01012024-2024-02-28", (None, None, date(2024, 1, 1), date(2024, 2, 28))),
]


@pytest.mark.parametrize(("value", "expected"), LIMITS)
def test_maxtotalmessages(tmp_path, value, expected):
    config = load(tmp_path, f"maxtotalmessages = {value}\n")
    assert (config.last, config.days, config.since, config.until) == expected


def test_maxtotalmessages_in_camel_case(tmp_path):
    assert load(tmp_path, "maxTotalMessages = 250\n").last == 250


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("chat", "chat"),
        ("chat.html", "chat"),
        ("chat.HTML", "chat"),
        ("chat.htm", "chat"),
        ("team chat 2024", "team chat 2024"),
        ("v1.2", "v1.2"),
        ("图片空间", "图片空间"),
        (".html", None),
    ],
)
def test_outputfilename(tmp_path, value, expected):
    assert load(tmp_path, f"outputfilename = {value}\n").output_name == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("yes", "oldest"), ("Yes", "oldest"), ("YES", "oldest"), ("true", "oldest")],
        *[("1", "oldest"), ("on", "oldest"), ("", "oldest")],
        *[("no", "newest"), ("No", "newest"), ("false", "newest"), ("0", "newest")],
        ("off", "newest"),
    ],
)
def test_sortoldnew(tmp_path, value, expected):
    assert load(tmp_path, f"sortoldnew = {value}\n").sort == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no", ("html",)),
        ("", ("html",)),
        ("yes", ("html", "json", "txt")),
        ("both", ("html", "json", "txt")),
        ("Both", ("html", "json", "txt")),
        ("json", ("html", "json")),
        ("JSON", ("html", "json")),
        ("txt", ("html", "txt")),
    ],
)
def test_outputjson(tmp_path, value, expected):
    assert load(tmp_path, f"outputjson = {value}\n").formats == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("yes", True), ("Yes", True), ("true", True), ("1", True)],
        *[("no", False), ("", False), ("false", False), ("0", False)],
    ],
)
def test_blurring(tmp_path, value, expected):
    assert load(tmp_path, f"blurring = {value}\n").blur is expected


@pytest.mark.parametrize(
    "body",
    [
        "dst_start = L,7,3\ndst_stop = L,7,10\n",
        "dst_start = 1,7,10\ndst_stop = 1,7,4\n",
        "dst_start = l, 7, 03\ndst_stop = 4,1,12\n",
        "dst_start = L,7,3\n",
        "dst_stop = L,7,10\ndst_start =\n",
    ],
)
def test_dst_rules_are_accepted_and_reported_as_unnecessary(tmp_path, body):
    config = load(tmp_path, body)
    assert config.dst_configured is True
    assert config.notes == [DST_NOTE]


def test_empty_dst_keys_are_not_configured(tmp_path):
    config = load(tmp_path, "dst_start =\ndst_stop =\n")
    assert (config.dst_configured, config.notes) == (False, [])


def test_the_readme_dst_example_that_crashed_the_old_tool(tmp_path):
    config = load(
        tmp_path,
        "dst_start = L,7,3  ; (last Sunday of March)\n"
        "dst_stop = L,7,10  ; (last Sunday of October)\n",
    )
    assert config.dst_configured is True


# --- token and space -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "environ", "expected"),
    [
        (f"mytoken = {TOKEN}\n", {}, TOKEN),
        ("mytoken = __YOUR_TOKEN_HERE__\n", {}, None),
        ("mytoken =\n", {}, None),
        ("", {}, None),
        (f"mytoken = {TOKEN}\n", {"WEBEX_ARCHIVE_TOKEN": "from-env"}, "from-env"),
        ("mytoken = __YOUR_TOKEN_HERE__\n", {"WEBEX_ARCHIVE_TOKEN": "from-env"}, "from-env"),
        ("", {"WEBEX_ARCHIVE_TOKEN": " from-env\n"}, "from-env"),
        (f"mytoken = {TOKEN}\n", {"WEBEX_ARCHIVE_TOKEN": ""}, TOKEN),
        (f'mytoken = "{TOKEN}"\n', {}, TOKEN),
        ("mytoken = abc#def\n", {}, "abc#def"),
        ("mytoken = abc;def%20\n", {}, "abc;def%20"),
    ],
)
def test_token(tmp_path, body, environ, expected):
    assert load(tmp_path, body, environ).token == expected


def test_an_environment_token_that_overrides_the_file_says_so(tmp_path):
    config = load(tmp_path, f"mytoken = {TOKEN}\n", {"WEBEX_ARCHIVE_TOKEN": "from-env"})
    assert config.notes == ["WEBEX_ARCHIVE_TOKEN is set and takes precedence over mytoken"]


def test_the_environment_is_read_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBEX_ARCHIVE_TOKEN", "from-os-environ")
    path = write(tmp_path, "[Archive Settings]\nmytoken = __YOUR_TOKEN_HERE__\n")
    assert load_config(path).token == "from-os-environ"


def test_a_token_with_spaces_is_refused_without_showing_it(tmp_path):
    message = error(tmp_path, "mytoken = Bearer secret-value\n")
    assert "secret-value" not in message
    assert message == (
        f"{tmp_path / DEFAULT_NAME}: mytoken contains spaces (value not shown): it must be the "
        "token alone, without 'Bearer'"
    )


@pytest.mark.parametrize(
    ("body", "expected", "notes"),
    [
        (f"myspaceid = {SPACE}\n", SPACE, []),
        ("myspaceid = __YOUR_SPACE_ID_HERE__\n", None, []),
        ("myspaceid =\n", None, []),
        (f"myroom = {SPACE}\n", SPACE, ["read the old key name myroom as myspaceid"]),
        (
            f"myspaceid = {SPACE}\nmyroom = x\n",
            SPACE,
            ["myroom (old name) ignored: myspaceid is set"],
        ),
        (f"myspaceid =\nmyroom = {SPACE}\n", SPACE, ["read the old key name myroom as myspaceid"]),
        (f"MySpaceId = '{SPACE}'\n", SPACE, []),
    ],
)
def test_space_id(tmp_path, body, expected, notes):
    config = load(tmp_path, body)
    assert (config.space_id, config.notes) == (expected, notes)


# --- robustness where the old tool was not ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("download = images ; comment", "images"),
        ("download = images # comment", "images"),
        ("download = images\t; comment", "images"),
        ('download = "images" ; comment', "images"),
        ('download = "images";comment', "images"),
        ("download = 'images'", "images"),
        ('download = "files"', "files"),
        ("download = ; nothing chosen", "no"),
        ("DOWNLOAD = Images", "images"),
        ("download: images", "images"),
    ],
)
def test_inline_comments_quotes_and_case(tmp_path, line, expected):
    assert load(tmp_path, line + "\n").download == expected


def test_a_semicolon_inside_quotes_is_kept(tmp_path):
    config = load(tmp_path, 'outputfilename = "team ; chat" ; the name\n')
    assert config.output_name == "team ; chat"


def test_a_hash_without_space_before_it_is_kept(tmp_path):
    assert load(tmp_path, "outputfilename = team#1\n").output_name == "team#1"


def test_a_percent_sign_in_a_value(tmp_path):
    config = load(tmp_path, "outputfilename = 100% done\nmytoken = a%b%%c\n")
    assert (config.output_name, config.token) == ("100% done", "a%b%%c")


def test_section_and_keys_ignore_case_and_spaces(tmp_path):
    path = write(tmp_path, "[ archive settings ]\nDownload = FILES\nUserAvatar = Link\n")
    config = load_config(path, {})
    assert fields(config, "download", "avatars") == {"download": "files", "avatars": "link"}


def test_windows_line_endings_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "windows.ini"
    path.write_bytes(b"\xef\xbb\xbf[Archive Settings]\r\ndownload = images\r\nblurring = yes\r\n")
    config = load_config(path, {})
    assert (config.download, config.blur) == ("images", True)


def test_a_latin1_file_is_read_with_a_note(tmp_path):
    path = tmp_path / "latin1.ini"
    path.write_bytes("[Archive Settings]\noutputfilename = Équipe\n".encode("latin-1"))
    config = load_config(path, {})
    assert config.output_name == "Équipe"
    assert config.notes == ["not UTF-8 text; read as Latin-1"]


def test_settings_without_a_section_header_are_read(tmp_path):
    path = write(tmp_path, "download = info\nsortoldnew = no\n")
    config = load_config(path, {})
    assert (config.download, config.sort) == ("info", "newest")
    assert config.notes == ["no [Archive Settings] header; the settings were read anyway"]


def test_unknown_keys_and_sections_are_notes(tmp_path):
    path = write(tmp_path, "[Archive Settings]\ndownlaod = files\ncolour = blue\n[Other]\nx = 1\n")
    config = load_config(path, {})
    assert config.download == "no"
    assert config.notes == [
        "section [Other] ignored",
        "unknown key downlaod ignored (did you mean download?)",
        "unknown key colour ignored",
    ]


def test_value_less_lines_are_comments_not_notes(tmp_path):
    config = load(tmp_path, "Download options are below\nmytoken\ndownload = info\n")
    assert (config.token, config.download, config.notes) == (None, "info", [])


def test_a_value_continued_on_an_indented_line_is_one_value(tmp_path):
    message = error(tmp_path, "download = images\n  useravatar = link\n")
    assert "download = 'images useravatar = link' is not one of" in message


# --- errors: one line, naming file, key, value and the allowed forms --------------------------


DOWNLOADS = "no, none, info, images, files"
NAME = "a file name without / or \\ (empty: the space title)"
DST = "W,D,M with W 1-4 or L, D 1-7 (Mon=1), M 1-12, e.g. L,7,3"


@pytest.mark.parametrize(
    ("line", "shown", "allowed"),
    [
        ("download = sometimes", "download = 'sometimes'", DOWNLOADS),
        ("downloadfiles = all", "downloadfiles = 'all'", DOWNLOADS),
        ("useravatar = yes", "useravatar = 'yes'", "no, link, download"),
        ("sortoldnew = maybe", "sortoldnew = 'maybe'", "yes, no"),
        ("blurring = heavy", "blurring = 'heavy'", "yes, no"),
        ("outputjson = xml", "outputjson = 'xml'", "no, yes, both, json, txt"),
        ("outputfilename = a/b", "outputfilename = 'a/b'", NAME),
        ("outputfilename = a\\b.html", "outputfilename = 'a\\\\b.html'", NAME),
        ("outputfilename = ..", "outputfilename = '..'", NAME),
        (
            "myspaceid = not an id",
            "myspaceid = 'not an id'",
            "a Webex space ID (letters and digits)",
        ),
        ("dst_start = 5,7,3", "dst_start = '5,7,3'", DST),
        ("dst_stop = L,8,10", "dst_stop = 'L,8,10'", DST),
        ("dst_start = L,7,13", "dst_start = 'L,7,13'", DST),
        ("dst_start = L,7", "dst_start = 'L,7'", DST),
    ],
)
def test_invalid_values(tmp_path, line, shown, allowed):
    expected = f"{tmp_path / DEFAULT_NAME}: {shown} is not one of: {allowed}"
    assert error(tmp_path, line + "\n") == expected


FORMS = "N (e.g. 1000), Nd (e.g. 30d), DDMMYYYY- (since), DDMMYYYY-DDMMYYYY (range), all"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "must be at least 1"),
        ("000", "must be at least 1"),
        ("-5", "must be at least 1"),
        ("0d", "must be at least 1"),
        ("-3d", "must be at least 1"),
        ("abc", f"is not one of: {FORMS}"),
        ("12.5", f"is not one of: {FORMS}"),
        ("1,00", f"is not one of: {FORMS}"),
        ("1,000.000", f"is not one of: {FORMS}"),
        ("d", f"is not one of: {FORMS}"),
        ("0101202-", f"is not one of: {FORMS}"),
        ("-01012024", f"is not one of: {FORMS}"),
        ("2024-01-31", f"is not one of: {FORMS}"),
        ("32012024-", "has an invalid date '32012024' (DDMMYYYY, e.g. 31012024)"),
        ("01132024-", "has an invalid date '01132024' (DDMMYYYY, e.g. 31012024)"),
        ("01012024-30022024", "has an invalid date '30022024' (DDMMYYYY, e.g. 31012024)"),
        ("2024-02-30-", "has an invalid date '2024-02-30' (DDMMYYYY, e.g. 31012024)"),
        ("01022024-01012024", "starts after it ends"),
    ],
)
def test_invalid_maxtotalmessages(tmp_path, value, problem):
    message = error(tmp_path, f"maxtotalmessages = {value}\n")
    assert message == f"{tmp_path / DEFAULT_NAME}: maxtotalmessages = {value!r} {problem}"


def test_the_error_names_the_file_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[Archive Settings]\ndownload = sometimes\n")
    with pytest.raises(ConfigError) as raised:
        load_config(Path(DEFAULT_NAME), {})
    assert str(raised.value) == (
        "webexspacearchive-config.ini: download = 'sometimes' is not one of: "
        "no, none, info, images, files"
    )


def test_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.ini: no such file"):
        load_config(tmp_path / "nope.ini", {})


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(ConfigError, match="not a file"):
        load_config(tmp_path, {})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[Settings]\ndownload = no\n", "no [Archive Settings] section (found: [Settings])"),
        ("[Archive Settings]\ndownload = no\ndownload = files\n", "line 3: download is set twice"),
        ("[Archive Settings]\nDownload = no\ndownload = files\n", "line 3: download is set twice"),
        ("[Archive Settings]\n[Archive Settings]\n", "line 2: [Archive Settings] appears twice"),
    ],
)
def test_unreadable_structure(tmp_path, body, problem):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as raised:
        load_config(path, {})
    assert str(raised.value) == f"{path}: {problem}"


def test_a_broken_section_header(tmp_path):
    path = write(tmp_path, "; settings\n[Archive Settings\ndownload = no\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path, {})
    header = "(the section header is [Archive Settings])"
    assert str(raised.value) == f"{path}: line 2: cannot read '[Archive Settings' {header}"


# --- the old tool's own file, and ours -------------------------------------------------------


def test_the_old_tools_default_file_loads(tmp_path):
    config = load_config(write(tmp_path, OLD_DEFAULT), {})
    assert config == RunConfig(path=tmp_path / DEFAULT_NAME)


def test_a_filled_in_old_file_loads(tmp_path):
    body = (
        OLD_DEFAULT.replace("__YOUR_TOKEN_HERE__", TOKEN)
        .replace("__YOUR_SPACE_ID_HERE__", SPACE)
        .replace("download = no", "download = files")
        .replace("useravatar = no", "useravatar = download")
        .replace("maxTotalMessages = 1000", "maxTotalMessages = 01012024-31032024")
        .replace("outputfilename =", "outputfilename = project-x.html")
        .replace("sortoldnew = yes", "sortoldnew = no")
        .replace("outputjson = no", "outputjson = both")
        .replace("dst_start =", "dst_start = L,7,3")
        .replace("dst_stop =", "dst_stop = L,7,10")
        .replace("blurring =", "blurring = yes")
    )
    config = load_config(write(tmp_path, body), {})
    assert config == RunConfig(
        path=tmp_path / DEFAULT_NAME,
        token=TOKEN,
        space_id=SPACE,
        download="files",
        avatars="download",
        last=None,
        since=date(2024, 1, 1),
        until=date(2024, 3, 31),
        output_name="project-x",
        sort="newest",
        formats=("html", "json", "txt"),
        blur=True,
        dst_configured=True,
        notes=[DST_NOTE],
    )


def test_our_default_file_reads_back_as_the_defaults(tmp_path):
    path = tmp_path / DEFAULT_NAME
    write_default_config(path)
    assert path.read_text(encoding="utf-8") == default_config_text()
    assert load_config(path, {}) == RunConfig(path=path)


def test_our_default_file_explains_every_key_on_comment_lines():
    lines = default_config_text().splitlines()
    keys = [line.split("=")[0].strip() for line in lines if "=" in line and line[0] not in ";#"]
    assert keys == [
        "mytoken",
        "myspaceid",
        "download",
        "useravatar",
        "maxtotalmessages",
        "outputfilename",
        "sortoldnew",
        "outputjson",
        "blurring",
    ]
    for index, line in enumerate(lines):
        if line.split("=")[0].strip() in keys:
            assert lines[index - 1].startswith("; "), line
    assert any("dst_start" in line for line in lines if line.startswith(";"))


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = write(tmp_path, "[Archive Settings]\nmytoken = precious\n")
    with pytest.raises(ConfigError) as raised:
        write_default_config(path)
    assert str(raised.value) == f"{path} exists; not overwritten"
    assert path.read_text(encoding="utf-8") == "[Archive Settings]\nmytoken = precious\n"


def test_an_unwritable_place_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot write"):
        write_default_config(tmp_path / "missing-folder" / DEFAULT_NAME)


def test_the_migration_table_covers_every_old_key():
    table = dict(migration_table())
    assert list(table) == [
        "mytoken",
        "myspaceid",
        "download",
        "useravatar",
        "maxtotalmessages",
        "outputfilename",
        "sortoldnew",
        "outputjson",
        "dst_start/dst_stop",
        "blurring",
    ]
    assert table["mytoken"] == "--token / WEBEX_ARCHIVE_TOKEN"
    assert table["download"] == "sync --download no|info|images|files"
    assert all(flag for flag in table.values())


def test_run_config_fields_are_the_documented_ones():
    assert [f.name for f in dataclasses.fields(RunConfig)] == [
        "path",
        "token",
        "space_id",
        "download",
        "avatars",
        "last",
        "days",
        "since",
        "until",
        "output_name",
        "sort",
        "formats",
        "blur",
        "dst_configured",
        "notes",
    ]

"""Safe names: every rule of etl.files.names with exact outputs, and the emulator's hostile
names."""

from __future__ import annotations

import unicodedata

import pytest

from etl.files.names import NameSet, folder_name, safe_name, split_extension, unique_name
from webex_emulator.hostile import FILE_NAMES, TITLE

WINDOWS_FORBIDDEN = set('<>:"|?*')


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("图片.png", "图片.png"),
        ("Größe-Übersicht.xlsx", "Größe-Übersicht.xlsx"),
        ("photo 2024.png", "photo 2024.png"),
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467 family.jpg", "👨‍👩‍👧 family.jpg"),
    ],
)
def test_ordinary_names_are_kept(name, expected):
    assert safe_name(name) == expected


def test_decomposed_unicode_becomes_precomposed():
    result = safe_name("re\u0301sume\u0301.pdf")
    assert result == "r\u00e9sum\u00e9.pdf"
    assert result == unicodedata.normalize("NFC", result)
    assert safe_name("re\u0301sume\u0301.pdf") == safe_name("résumé.pdf")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a/b.png", "a_b.png"),
        ("a\\b.png", "a_b.png"),
        ('a<b>:"c|d?*.png', "a_b___c_d__.png"),
        ("12:30 meeting.txt", "12_30 meeting.txt"),
    ],
)
def test_separators_and_windows_characters_become_underscores(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("bell\x07 and esc\x1b[31m.txt", "bell and esc[31m.txt"),
        ("del\x7f.txt", "del.txt"),
        ("c1\x85\x9b.txt", "c1.txt"),
        ("\u202egnp.exe", "gnp.exe"),
        ("a\u202ab\u202bc\u202cd\u202de.txt", "abcde.txt"),
        ("x\u2066y\u2067z\u2068w\u2069.txt", "xyzw.txt"),
        ("lone\ud800surrogate.txt", "lonesurrogate.txt"),
    ],
)
def test_control_and_bidi_characters_are_removed(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a   b\t\tc.txt", "a b c.txt"),
        ("line\nbreak\r.txt", "line break .txt"),
        ("tab\tand\x01control.txt", "tab andcontrol.txt"),
        ("no\u00a0break\u2028line.txt", "no break line.txt"),
        (" leading and trailing .txt. ", "leading and trailing .txt"),
        ("...hidden", "hidden"),
        (". . x . .", "x"),
    ],
)
def test_whitespace_collapses_and_ends_are_trimmed(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", [".", "..", "", "   ", "...", " . . ", "\x00\x01", "\u202e"])
def test_nothing_left_gives_the_fallback(name):
    assert safe_name(name) == "file"
    assert safe_name(name, fallback="attachment") == "attachment"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CON", "CON_"),
        ("con", "con_"),
        ("CON.txt", "CON_.txt"),
        ("Con.tar.gz", "Con_.tar.gz"),
        ("CON .txt", "CON_ .txt"),
        ("aux", "aux_"),
        ("PRN.pdf", "PRN_.pdf"),
        ("nul.png", "nul_.png"),
        ("COM1", "COM1_"),
        ("com9.log", "com9_.log"),
        ("LPT1.txt", "LPT1_.txt"),
        ("lpt9", "lpt9_"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("COM10.txt", "COM10.txt"),
        ("my CON.txt", "my CON.txt"),
        ("xCON", "xCON"),
    ],
)
def test_windows_device_names_get_an_underscore(name, expected):
    assert safe_name(name) == expected


def test_long_ascii_name_is_cut_keeping_its_extension():
    result = safe_name("x" * 300 + ".pdf")
    assert result == "x" * 196 + ".pdf"
    assert utf8(result) == 200


def test_long_cjk_name_is_cut_on_a_character_boundary():
    name = "图片" * 100 + ".png"  # 600 bytes of CJK, 3 bytes a character
    result = safe_name(name)
    assert result == "图片" * 32 + "图" + ".png"  # 195 bytes of stem: 65 whole characters
    assert utf8(result) == 199
    result.encode("utf-8").decode("utf-8")  # still valid UTF-8
    assert safe_name(name, max_bytes=40) == "图片图片图片图片图片图片" + ".png"


def test_four_byte_characters_are_not_split():
    result = safe_name("\U0001f600" * 100 + ".jpg", max_bytes=50)
    assert result == "\U0001f600" * 11 + ".jpg"
    assert utf8(result) == 48


def test_a_cut_that_ends_in_a_space_or_dot_is_trimmed():
    assert safe_name("a" * 30 + " " + "b" * 40 + ".txt", max_bytes=35) == "a" * 30 + ".txt"
    assert safe_name("a" * 31 + "." + "b" * 40, max_bytes=32) == "a" * 31
    assert safe_name("a" * 30 + "." + "b" * 40, max_bytes=32) == "a" * 30 + ".b"


def test_extension_rules():
    assert split_extension("archive.tar.gz") == ("archive.tar", "gz")
    assert split_extension("README") == ("README", "")
    assert split_extension("notes.") == ("notes.", "")
    assert split_extension("v1.2 final") == ("v1.2 final", "")
    assert split_extension("a.abcdefghijklmnop") == ("a", "abcdefghijklmnop")  # 16 chars
    assert split_extension("a.abcdefghijklmnopq") == ("a.abcdefghijklmnopq", "")  # 17
    assert split_extension("a.图片") == ("a.图片", "")
    assert split_extension(".png") == (".png", "")


def test_a_long_name_without_an_extension_is_cut_whole():
    assert safe_name("y" * 300 + ".toolongextension123") == ("y" * 300 + ".toolo")[:200]
    assert safe_name("z" * 300) == "z" * 200


def test_a_cut_that_makes_a_device_name_is_still_fixed():
    assert safe_name("CON" + "x" * 40 + ".txt", max_bytes=32) == "CON" + "x" * 25 + ".txt"
    assert safe_name("CON" + " ." * 20 + " " + "x" * 40 + ".txt", max_bytes=32) == "CON_.txt"
    assert safe_name("aux" + " ." * 20 + "y" * 20, max_bytes=32) == "aux_"


def test_max_bytes_below_the_minimum_is_refused():
    with pytest.raises(ValueError, match="at least 32"):
        safe_name("a.txt", max_bytes=10)


HOSTILE_EXPECTED = {
    "../../../etc/passwd": "_.._.._etc_passwd",
    "/etc/shadow": "_etc_shadow",
    "..\\..\\windows\\system32\\evil.dll": "_.._windows_system32_evil.dll",
    "CON.txt": "CON_.txt",
    "aux": "aux_",
    'a<b>:"c|d?*.png': "a_b___c_d__.png",
    "x" * 300 + ".pdf": "x" * 196 + ".pdf",
    "re\u0301sume\u0301.pdf": "résumé.pdf",
    "résumé.pdf": "résumé.pdf",
    "..": "file",
    " leading and trailing .txt. ": "leading and trailing .txt",
    "\u202egnp.exe": "gnp.exe",
    "line\nbreak\r.txt": "line break .txt",
    "tab\tand\x01control.txt": "tab andcontrol.txt",
}


def test_every_hostile_file_name_has_an_expected_result():
    assert set(HOSTILE_EXPECTED) == set(FILE_NAMES)


@pytest.mark.parametrize("name", FILE_NAMES)
def test_hostile_file_names_are_tamed(name):
    result = safe_name(name)
    assert result == HOSTILE_EXPECTED[name]
    assert "/" not in result and "\\" not in result
    assert not WINDOWS_FORBIDDEN & set(result)
    assert result not in (".", "..") and not result.startswith("..")
    assert not result.startswith((" ", ".")) and not result.endswith((" ", "."))
    assert utf8(result) <= 200
    assert all(unicodedata.category(ch) != "Cc" for ch in result)
    assert not set(result) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert result == unicodedata.normalize("NFC", result)


def test_folder_name_is_short_and_falls_back_to_space():
    assert folder_name(TITLE) == "Q3 _script_window.__pwned=1__script_ & _Partners_ _ .._.._etc"
    assert folder_name("Project Atlas") == "Project Atlas"
    assert folder_name("..") == "space"
    assert folder_name("") == "space"
    long = folder_name("项目" * 50)
    assert long == "项目" * 13  # 26 characters, 78 bytes: a 27th would make 81
    assert utf8(long) == 78


def test_unique_name_returns_the_name_when_free():
    assert unique_name("a.png", []) == "a.png"
    assert unique_name("a.png", ["b.png", "a.png.txt"]) == "a.png"


def test_unique_name_counts_up_ignoring_case():
    taken = ["photo.png"]
    for expected in ["photo (2).png", "photo (3).png", "photo (4).png"]:
        name = unique_name("photo.png", taken)
        assert name == expected
        taken.append(name)
    assert unique_name("PHOTO.PNG", taken) == "PHOTO (5).PNG"
    assert unique_name("Photo.png", ["photo.png", "PHOTO (2).PNG"]) == "Photo (3).png"


def test_unique_name_without_extension_and_with_a_double_one():
    assert unique_name("README", ["readme"]) == "README (2)"
    assert unique_name("data.tar.gz", ["data.tar.gz"]) == "data.tar (2).gz"


def test_unique_name_ignores_normalisation_differences():
    assert unique_name("résumé.pdf", ["re\u0301sume\u0301.pdf"]) == "résumé (2).pdf"
    assert unique_name("RÉSUMÉ.pdf", ["résumé.pdf"]) == "RÉSUMÉ (2).pdf"


def test_unique_name_stays_within_the_byte_limit():
    name = safe_name("x" * 300 + ".pdf")
    assert unique_name(name, [name]) == "x" * 192 + " (2).pdf"
    cjk = safe_name("图" * 100 + ".png")  # 65 characters of stem, 199 bytes
    second = unique_name(cjk, [cjk])
    assert second == "图" * 64 + " (2).png"
    assert utf8(second) == 200
    taken = [cjk, second, *(f"{'图' * 64} ({n}).png" for n in range(3, 10))]
    assert unique_name(cjk, taken) == "图" * 63 + " (10).png"  # one byte more for "10"
    assert unique_name("a" * 40, ["a" * 40], max_bytes=40) == "a" * 36 + " (2)"


def test_name_set_compares_like_unique_name():
    names = NameSet(["Photo.png", "résumé.pdf"])
    assert "PHOTO.PNG" in names and "re\u0301sume\u0301.pdf" in names and "x" not in names
    assert len(names) == 2 and sorted(names) == ["Photo.png", "résumé.pdf"]
    chosen = unique_name("photo.png", names)
    assert chosen == "photo (2).png"
    names.add(chosen)
    assert unique_name("photo.png", names) == "photo (3).png"
    assert unique_name("new.png", names) == "new.png"

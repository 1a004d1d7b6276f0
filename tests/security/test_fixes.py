"""Exact tests for each bug the hostile suite found, so that each stays fixed on its own.

The suite-level tests (browser, checker, files, TXT/JSON) say that something is wrong; these
say what, at the smallest scale: the sanitiser's repair of invalid nesting, links that carry
credentials or impossible hosts, values that reached the page with control characters, split
links and times the checker refused, the pop-up's empty <img>, and --blur missing names once
they were sanitised.
"""

from __future__ import annotations

import re
from datetime import timezone

import pytest
from markupsafe import Markup

from render.article import Articles
from render.clock import Clock
from render.html import environment, finalize, href
from render.model import Pseudonyms
from render.sanitize import MAX_DEPTH, fix_content_model, message_html, redact_html, text_html
from tests.render.conftest import make_item

LINK = 'target="_blank" rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<b><p>para</p></b>", "<b>para<br></b>"),
        ("<span><ul><li>a</li><li>b</li></ul></span>", "<span>a<br>b<br><br></span>"),
        ("<h1><p>x</p></h1>", "<h1>x<br></h1>"),
        ("<em><hr></em>", "<em><br></em>"),
        ("<code><pre>x</pre></code>", "<code>x<br></code>"),
        (
            "<li>a</li><li>b</li>text<li>c</li>",
            "<ul><li>a</li><li>b</li></ul>text<ul><li>c</li></ul>",
        ),
        ("<ul>x<li>y</li>z</ul>", "<ul><li>x</li><li>y</li><li>z</li></ul>"),
        ("<ol><b>b</b></ol>", "<ol><li><b>b</b></li></ol>"),
        (
            "<table>x<tr><td>1</td></tr></table>",
            "<table><tr><td>x</td></tr><tr><td>1</td></tr></table>",
        ),
        (
            "<table><tbody><tr></tr></tbody></table>",
            "<table><tbody><tr><td></td></tr></tbody></table>",
        ),
        ("<table><tr><th><h3>h</h3></th></tr></table>", "<table><tr><th>h<br></th></tr></table>"),
        ('<a href="x"><p>block link</p></a>', '<a href="x"><p>block link</p></a>'),
        ("<p><a><p>no</p></a></p>", "<p><a>no<br></a></p>"),
        # valid input is left alone
        ("<ul> <li>a<ul><li>b</li></ul></li> </ul>", "<ul> <li>a<ul><li>b</li></ul></li> </ul>"),
        ("<b><i>x</i></b><p>y</p>", "<b><i>x</i></b><p>y</p>"),
    ],
)
def test_invalid_nesting_is_repaired(source: str, expected: str) -> None:
    assert fix_content_model(source) == expected


def test_message_html_repairs_what_the_parser_keeps() -> None:
    assert message_html("<b><p>x</p></b><li>y</li><strike>z</strike>") == (
        "<b>x<br></b><ul><li>y</li></ul><s>z</s>"
    )
    caption = message_html("<table><caption>c</caption><tr><td>1</td></tr></table>")
    assert caption == "<table><tr><td>c</td></tr><tbody><tr><td>1</td></tr></tbody></table>"


def test_nesting_stops_below_the_browsers_limit() -> None:
    deep = message_html("<blockquote>" * 2_000 + "deep")
    assert deep.count("<blockquote>") == deep.count("</blockquote>") == MAX_DEPTH
    assert deep.replace("<blockquote>", "").replace("</blockquote>", "") == "deep"
    assert MAX_DEPTH + 20 < 512


@pytest.mark.parametrize(
    "url",
    [
        "https://bank.example@evil.example/",
        "https://user:pass@example.com:8080/p",
        "https://exa%mple.com/",
        "https://exa mple.com/",
        "https://[::1/",
        "https://example.com:99999/",
    ],
)
def test_links_with_credentials_or_impossible_hosts_stay_inert(url: str) -> None:
    assert message_html(f'<a href="{url}">x</a>') == "<a>x</a>"
    if " " not in url:  # in plain text "https://exa" alone is a fine link
        assert "<a" not in text_html(f"see {url} now")


def test_ordinary_hosts_still_link() -> None:
    for url in ("https://example.com:8080/p", "https://[::1]:8080/", "https://bücher.example/"):
        assert message_html(f'<a href="{url}">x</a>') == f'<a href="{url}" {LINK}>x</a>'


def test_every_printed_value_loses_control_and_bidi_characters() -> None:
    assert finalize("eve\x00\x1b[31m\u202e@evil.test") == "eve[31m@evil.test"
    kept = finalize(Markup("<b>x\x00</b>"))
    assert isinstance(kept, Markup) and kept == Markup("<b>x</b>")
    assert finalize(3) == 3
    page = environment().from_string('<td title="{{ email }}">{{ body }}</td>')
    html = page.render(email='"><x>\x00\u202e', body=Markup("<b>\x07ok</b>"))
    assert html == '<td title="&#34;&gt;&lt;x&gt;"><b>ok</b></td>'


def test_split_links_are_percent_encoded() -> None:
    assert href("Q3 & [x] #1 100%.html") == "Q3%20%26%20%5Bx%5D%20%231%20100%25.html"
    assert href("Project Atlas-2024.html") == "Project%20Atlas-2024.html"


def test_times_carry_milliseconds_not_microseconds() -> None:
    """The checker refuses a ``<time datetime>`` with microseconds; the archive's times and
    the exact path (a time not in the archive's form) both give milliseconds."""
    clock = Clock(timezone.utc)
    assert clock.iso_ms("2024-05-28T10:54:37.466Z") == "2024-05-28T10:54:37.466+00:00"
    assert clock.iso_ms("2024-05-28T10:54:37.466123Z") == "2024-05-28T10:54:37.466+00:00"
    fields = {"created": "2024-05-28T10:54:37.466Z", "month": (2024, 5), "author": "Ann",
              "author_id": None}  # fmt: skip
    item = make_item(**fields)
    html = Articles(clock).article(item) + Articles(clock).article(
        make_item(**fields, id="n", is_reply=True, group_start=False)
    )
    assert html.count('datetime="2024-05-28T10:54:37.466+00:00"') == 2


def test_the_popup_image_is_made_by_the_script_not_left_empty_in_the_markup() -> None:
    source = environment().loader.get_source(environment(), "page.html.j2")[0]
    dialog = re.search(r"<dialog[^>]*>.*?</dialog>", source, re.S)
    assert dialog is not None and "<img" not in dialog.group()
    script = environment().loader.get_source(environment(), "script.js")[0]
    assert 'document.createElement("img")' in script


def test_blur_replaces_names_in_the_form_a_mention_shows() -> None:
    blur = Pseudonyms.build([("p1", "Ev\x00e \x1b[31mRed", "eve\x00@evil.test"),
                             ("p2", "\u202eredro\u202c Mallory", "m@evil.test")])  # fmt: skip
    body = message_html(
        '<p><spark-mention data-object-type="person" data-object-id="p1">Ev\x00e \x1b[31mRed'
        "</spark-mention> and <b>\u202eredro\u202c Mallory</b> eve\x00@evil.test</p>"
    )
    assert redact_html(body, blur.replacements) == (
        '<p><span class="mention" data-person="p1">Person 1</span> and <b>Person 2</b> '
        "person1@hidden</p>"
    )

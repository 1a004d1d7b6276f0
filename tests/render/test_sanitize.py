"""render/sanitize/: exact outputs for hostile, ordinary and Webex-shaped message content."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from render.sanitize import (
    MAX_TAGS,
    clean_inline,
    message_html,
    redact,
    redact_html,
    strip_tags,
    text_html,
)
from webex_emulator.hostile import DISPLAY_NAME, MESSAGES, TITLE

LINK = 'target="_blank" rel="noopener noreferrer nofollow"'
VOID = {"br", "hr"}
FORBIDDEN_TAGS = {"script", "style", "iframe", "svg", "img", "math", "object", "embed", "form"}
# Inputs made to be slow (nested or unclosed tags, comment openers, a huge URL); their times
# are in benchmarks/sanitize_bench.py.
MEGABYTE_MESSAGES = {
    "unclosed <a": "<a" * 500_000,
    "lone <": "<" * 1_000_000,
    "comment openers": "<!--" * 250_000,
    "huge URL": "https://" + "." * 10**6,
}


class Audit(HTMLParser):
    """Parses a fragment the way a browser tokenises it and records anything unsafe."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name in ("style", "src", "id"):
                self.problems.append(f"{tag}[{name}]")
            if re.match(r"(javascript|data|vbscript):", value):
                self.problems.append(f"{tag}[{name}={value}]")
        named = dict(attrs)
        link_attributes = (named.get("target"), named.get("rel"))
        if named.get("href") and link_attributes != ("_blank", "noopener noreferrer nofollow"):
            self.problems.append("link without target/rel")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")


def audit(fragment: str) -> list[str]:
    parser = Audit()
    parser.feed(fragment)
    parser.close()
    lowered = fragment.lower()
    # Text may mention "javascript:" or "style"; markup may not (attributes are checked above).
    extra = [f"raw {word}" for word in ("<script", "<style", "<iframe", "<svg") if word in lowered]
    return parser.problems + extra + [f"unclosed <{tag}>" for tag in parser.stack]


@pytest.mark.parametrize(("text", "html"), MESSAGES)
def test_every_hostile_message_renders_inert_and_balanced(text: str, html: str | None) -> None:
    assert audit(text_html(text)) == []
    if html is not None:
        assert audit(message_html(html)) == []


HOSTILE_HTML = {
    '<p>look <img src="x" onerror="window.__pwned=1"></p>': "<p>look </p>",
    '<p><a href="javascript:window.__pwned=1">click me</a></p>': "<p><a>click me</a></p>",
    '<p><a href="data:text/html,<script>window.__pwned=1</script>">data</a></p>': (
        "<p><a>data</a></p>"
    ),
    '<p style="position:fixed;top:0;left:0;width:100%;height:100%">styled</p>': "<p>styled</p>",
    "<style>body{display:none}</style><p>css</p>": "<p>css</p>",
    "<div><div><b><i>unbalanced": "<b><i>unbalanced</i></b>",
    "<div>" * 300 + "deep" + "</div>" * 300: "deep",
    '<iframe src="https://evil.example/"></iframe>': "",
    "<svg><script>window.__pwned=1</script></svg>": "",
}


@pytest.mark.parametrize(("source", "expected"), HOSTILE_HTML.items())
def test_hostile_html_exact_output(source: str, expected: str) -> None:
    assert message_html(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('<a href="vbscript:msgbox(1)">v</a>', "<a>v</a>"),
        ('<a href="java&#x09;script:alert(1)">t</a>', "<a>t</a>"),
        ('<a href="//evil.example/x">scheme-relative</a>', "<a>scheme-relative</a>"),
        ('<a href="/etc/passwd">relative</a>', "<a>relative</a>"),
        ('<a href="#top" target="_self">fragment</a>', "<a>fragment</a>"),
        ('<a href="ftp://x.example/">ftp</a>', "<a>ftp</a>"),
        (
            '<a href="mailto:ann@x.example" onclick="x()">mail</a>',
            f'<a href="mailto:ann@x.example" {LINK}>mail</a>',
        ),
        (
            '<a href=" https://x.example/a b|c#d#e " rel="opener" class="c" id="i">sp</a>',
            f'<a href="https://x.example/a%20b%7Cc#d%23e" {LINK}>sp</a>',
        ),
        ('<a href="https://x.example/?q=">x</a>', f'<a href="https://x.example/?q=" {LINK}>x</a>'),
        ("<p>a<!-- secret -->b</p>", "<p>ab</p>"),
        ("<form><input value=x><button>go</button></form>", "go"),
        ("<math><mi>x</mi></math><object data=x></object>ok", "ok"),
        ("<p>&#x202e;evil&#0;&#1;</p>", "<p>evil\ufffd</p>"),
        ("<p>\u202eevil\u202c\x00</p>", "<p>evil</p>"),
        (
            "<h1 class=big>T</h1><hr><blockquote>q</blockquote><sub>1</sub><sup>2</sup>",
            "<h1>T</h1><hr><blockquote>q</blockquote><sub>1</sub><sup>2</sup>",
        ),
    ],
)
def test_links_and_allowed_markup(source: str, expected: str) -> None:
    result = message_html(source)
    assert audit(result) == []
    assert result == expected


def test_allowed_markup_is_kept_without_attributes() -> None:
    assert message_html("<ul><li>a<li>b</ul><pre><code>x &lt; y</code></pre>") == (
        "<ul><li>a</li><li>b</li></ul><pre><code>x &lt; y</code></pre>"
    )
    assert message_html("<table><tr><td colspan=2 style=x>1</td></tr></table>") == (
        "<table><tbody><tr><td>1</td></tr></tbody></table>"
    )
    assert message_html('<h1 class="big" id="x">T</h1><hr><s>z</s>') == "<h1>T</h1><hr><s>z</s>"


def test_markdown_rendered_webex_link() -> None:
    source = (
        '<p>See <a href="https://x.example/a?b=1&amp;c=2" alt="https://x.example/a">'
        "the docs</a></p>"
    )
    assert message_html(source) == (
        f'<p>See <a href="https://x.example/a?b=1&amp;c=2" {LINK}>the docs</a></p>'
    )


def test_legacy_webex_click_handler_is_dropped() -> None:
    source = (
        '<a href="https://x.example" alt="https://x.example" '
        'onClick="javascript: sparkBase.clickEventHandler(event);">https://x.example</a>'
    )
    assert message_html(source) == f'<a href="https://x.example" {LINK}>https://x.example</a>'


def test_mentions_become_spans() -> None:
    source = (
        '<p>Hi <spark-mention data-object-type="person" '
        'data-object-id="Y2lzY29zcGFyazovL3VzL1BFT1BMRS8xMjM=">Jane Doe</spark-mention>, '
        '<spark-mention data-object-type="groupMention" data-group-type="all">All</spark-mention>'
        "</p>"
    )
    assert message_html(source) == (
        '<p>Hi <span class="mention" data-person="Y2lzY29zcGFyazovL3VzL1BFT1BMRS8xMjM=">'
        'Jane Doe</span>, <span class="mention mention-all">All</span></p>'
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '<spark-mention data-object-type="person" data-object-id="x&quot;>y" '
            'onclick="x()" class="admin" style="color:red">J</spark-mention>',
            '<span class="mention">J</span>',
        ),
        ("<spark-mention>nobody</spark-mention>", '<span class="mention">nobody</span>'),
        (
            '<spark-mention data-object-type="groupMention" data-group-type="moderators">'
            "M</spark-mention>",
            '<span class="mention">M</span>',
        ),
        (
            '<spark-mention data-object-type="person" data-object-id="a"><b>'
            '<spark-mention data-object-type="person" data-object-id="b">n',
            '<span class="mention" data-person="a"><b>'
            '<span class="mention" data-person="b">n</span></b></span>',
        ),
        ("&lt;spark-mention&gt;text&lt;/spark-mention&gt;", None),
    ],
)
def test_hostile_mentions_keep_only_our_attributes(source: str, expected: str | None) -> None:
    result = message_html(source)
    assert audit(result) == []
    if expected is None:
        assert result == source
    else:
        assert result == expected


def test_deep_nesting_keeps_allowed_tags_and_unwraps_the_rest() -> None:
    """How long this takes is benchmarks/sanitize_bench.py's business."""
    assert (
        message_html("<blockquote>" * 300 + "deep" + "</blockquote>" * 300).count("<blockquote>")
        == 300
    )
    assert message_html("<div>" * 300 + "deep" + "</div>" * 300) == "deep"


def test_pathological_nesting_falls_back_to_text() -> None:
    source = "<div>" * 100_000 + "<script>x</script>deep &amp; <b>bold</b>"
    assert source.count("<") > MAX_TAGS
    # Beyond MAX_TAGS tags are simply removed: script text is shown (escaped), never run.
    assert message_html(source) == "xdeep &amp; bold"
    assert strip_tags(source) == "xdeep & bold"


@pytest.mark.parametrize("name", MEGABYTE_MESSAGES)
def test_megabyte_message_renders_inert(name: str) -> None:
    source = MEGABYTE_MESSAGES[name]
    assert audit(message_html(source)) == []
    assert audit(text_html(source)) == []


@pytest.mark.timeout(60)
def test_unclosed_megabyte_tag_name_is_linear() -> None:
    """Beyond MAX_TAGS the raw body's tags are found by a regular expression, which tried
    every split of a long unclosed tag name (quadratic: over an hour for this one)."""
    source = "<b>" * (MAX_TAGS + 1) + "<" + "a" * 1_000_000
    assert message_html(source) == "&lt;" + "a" * 1_000_000
    assert strip_tags(source) == "<" + "a" * 1_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a < b & c\nline 2", "a &lt; b &amp; c<br>line 2"),
        ("one\r\ntwo\rthree\n\nfour", "one<br>two<br>three<br><br>four"),
        (
            "</script><script>alert(1)</script>",
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        ("\u202eevil.exe\u202c \u2066iso\u2069 \u202aemb\u202c", "evil.exe iso emb"),
        ("nul \x00 bell \x07 esc \x1b[0m del \x7f c1 \x85 tab\tkept", None),
        ("quotes \" ' & &amp;", "quotes &#34; &#39; &amp; &amp;amp;"),
        ("{{ 7*7 }}", "{{ 7*7 }}"),
        ("zero\u200bwidth \ufeff", "zero\u200bwidth \ufeff"),
    ],
)
def test_text_html_escapes(text: str, expected: str | None) -> None:
    if expected is None:
        expected = "nul  bell  esc [0m del  c1  tab\tkept"
    assert text_html(text) == expected


def link(url: str, href: str | None = None) -> str:
    return f'<a href="{href or url}" {LINK}>{url}</a>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://x.example/a.", f"see {link('https://x.example/a')}."),
        ("(https://x.example/a), next", f"({link('https://x.example/a')}), next"),
        ("https://x.example/?a=1&b=2!", link("https://x.example/?a=1&amp;b=2") + "!"),
        (
            "https://en.wikipedia.org/wiki/Foo_(bar); ok",
            link("https://en.wikipedia.org/wiki/Foo_(bar)") + "; ok",
        ),
        ("'https://x.example/q?'", f"'{link('https://x.example/q')}?'".replace("'", "&#39;")),
        ("**HTTP://X.example**", f"**{link('HTTP://X.example')}**"),
        (
            "a https://x.example b https://x.example",
            f"a {link('https://x.example')} b {link('https://x.example')}",
        ),
        (
            "https://a.example/?u=https://b.example/",
            link("https://a.example/?u=https://b.example/"),
        ),
        (
            '<https://example.com/"onmouseover="x>',
            f"&lt;{link('https://example.com/')}&#34;onmouseover=&#34;x&gt;",
        ),
        (
            "https://x.example/{a}|b",
            link("https://x.example/{a}|b", "https://x.example/%7Ba%7D%7Cb"),
        ),
        ("https://x.example/100%", link("https://x.example/100%", "https://x.example/100%25")),
        ("[trust me](javascript:alert(1))", "[trust me](javascript:alert(1))"),
        ("https:// and http://. and https://[", "https:// and http://. and https://["),
        ("ftp://x.example www.x.example", "ftp://x.example www.x.example"),
    ],
)
def test_text_html_links(text: str, expected: str) -> None:
    assert text_html(text) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Hello <b>there</b></p><p>second\n   line</p>", "Hello there\nsecond line"),
        ("<p>x<br>y<br><br>z</p>", "x\ny\n\nz"),
        ("<ul><li>one</li><li>two<ol><li>a</li><li>b</li></ol></li></ul>", None),
        ("<pre>  code\n  more</pre>after", "  code\n  more\nafter"),
        ("<table><tr><th>h</th><td>1</td></tr><tr><td>2</td></tr></table>", "h\t1\n2"),
        ("<script>alert(1)</script><style>p{}</style>a &lt;b&gt; &amp; c<!-- x -->", "a <b> & c"),
        ("<h1>Title</h1><blockquote>quote</blockquote><hr>end", "Title\nquote\nend"),
        (
            '<p><span class="mention" data-person="x">Jane</span>, see '
            f'<a href="https://x.example" {LINK}>docs</a></p>',
            "Jane, see docs",
        ),
        ("", ""),
    ],
)
def test_strip_tags(source: str, expected: str | None) -> None:
    if expected is None:
        expected = "- one\n- two\n1. a\n2. b"
    assert strip_tags(source) == expected


def test_strip_tags_of_message_html_round_trip() -> None:
    source = (
        '<p>Hi <spark-mention data-object-type="person" data-object-id="a">Jane</spark-mention>'
        "</p><ul><li>x</li></ul>"
    )
    assert strip_tags(message_html(source)) == strip_tags(source) == "Hi Jane\n- x"


REPLACEMENTS = {
    "Ann": "Person 1",
    "Ann Lee": "Person 2",
    "ann.lee@x.example": "person2@hidden",
    "O'Brien & Co": "Person 3",
    "Amp": "Person 4",
    "Person": "Person 9",
}


def test_redact_plain_text() -> None:
    text = "ANN LEE (ann.lee@X.example) asked Ann and O'Brien & Co; Person 7 is untouched"
    assert redact(text, REPLACEMENTS) == (
        "Person 2 (person2@hidden) asked Person 1 and Person 3; Person 9 7 is untouched"
    )
    assert redact("nothing here", {}) == "nothing here"
    assert redact("a", {"": "x"}) == "a"


def test_redact_single_pass_does_not_replace_inside_pseudonyms() -> None:
    assert redact("Ann", {"Ann": "Person 1", "Person 1": "Bob"}) == "Person 1"


def test_redact_html_only_touches_text() -> None:
    source = (
        '<p title="Ann Lee"><a href="mailto:ann.lee@x.example" '
        f"{LINK}>Ann Lee</a> &amp; amp: O'Brien &amp; Co</p>"
    )
    assert redact_html(source, REPLACEMENTS) == (
        '<p title="Ann Lee"><a href="mailto:ann.lee@x.example" '
        f"{LINK}>Person 2</a> &amp; Person 4: Person 3</p>"
    )


def test_redact_html_on_text_html_and_mentions() -> None:
    rendered = text_html("O'Brien & Co <Ann>\nmail ann.lee@x.example")
    assert redact_html(rendered, REPLACEMENTS) == (
        "Person 3 &lt;Person 1&gt;<br>mail person2@hidden"
    )
    mention = message_html(
        '<spark-mention data-object-type="person" data-object-id="Ann">Ann Lee</spark-mention>'
    )
    assert redact_html(mention, REPLACEMENTS) == (
        '<span class="mention" data-person="Ann">Person 2</span>'
    )


def test_redact_html_escapes_the_pseudonym() -> None:
    assert redact_html("<b>Eve</b>", {"Eve": "<i>&</i>"}) == "<b>&lt;i&gt;&amp;&lt;/i&gt;</b>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TITLE, 'Q3 <script>window.__pwned=1</script> & "Partners" / ../../etc'),
        (DISPLAY_NAME, '<img src=x onerror="window.__pwned=1"> Mallory'),
        ("  two\nlines\t and\u2028more  ", "two lines and more"),
        ("nul\x00bell\x07 \u202ename\u2069", "nulbell name"),
        ("re\u0301sume\u0301.pdf", "re\u0301sume\u0301.pdf"),
        ("", ""),
    ],
)
def test_clean_inline(text: str, expected: str) -> None:
    assert clean_inline(text) == expected


def test_lone_surrogates_do_not_crash() -> None:
    assert message_html("<p>a\ud800b</p>") == "<p>ab</p>"
    assert text_html("a\udfffb") == "ab"
    assert clean_inline("a\ud800") == "a"

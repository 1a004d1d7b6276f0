"""The sanitiser's quick paths give what its general paths give.

fix_content_model asks whether a body needs no repair by its shape (tags and where text is),
remembered per shape. These tests prove that the shape holds everything the exact check
reads, over random tag soups (odd case, attributes, unbalanced and stray tags, raw ``<`` and
``>``, white space of every kind), and on the hostile cases: deep nesting, huge bodies, more
shapes than the cache keeps. text_html escapes a text without a URL in one step: the same
result as its path for links.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from render.sanitize import MAX_DEPTH, fix_content_model, strip_unsafe, text_html
from render.sanitize import content_model as cm
from render.sanitize.links import _linked
from render.sanitize.tags import _TAG

NAMES = ["p", "P", "b", "a", "A", "del", "ul", "UL", "ol", "li", "Li", "br", "BR", "hr",
         "blockquote", "pre", "code", "h1", "h6", "span", "spark-mention", "table", "tr",
         "td", "th", "thead", "tbody", "x", "div1"]  # fmt: skip
ATTRIBUTES = ["", ' href="https://example.com/?a=1&amp;b"', " x", ' data-a="1"', "/", " /", "\t"]
END_FORMS = ["</{}>", "</{} >", "</{}\n>", '</{} x="1">', "</{}/>"]
TEXT = ["x", "a b", "&amp;", "\v", "\xa0", " y ", "\u2028"]  # not white space for the check
SPACE = ["", " ", "\n", " \t\r\f "]  # white space for the check
STRAY = ["<", ">", "< b", "</", "<1", "<<", "</ p>", "<!-- c -->", "<p", "</p"]


def start(name: str, attributes: str) -> str:
    return f"<{name}{attributes}>"


@st.composite
def soups(draw: st.DrawFn, stray: bool = True) -> str:
    """A random sequence of tags, text, white space and (``stray``) lone angle brackets."""
    pieces = [
        st.builds(start, st.sampled_from(NAMES), st.sampled_from(ATTRIBUTES)),
        st.builds(str.format, st.sampled_from(END_FORMS), st.sampled_from(NAMES)),
        st.sampled_from(TEXT),
        st.sampled_from(SPACE),
    ]
    if stray:
        pieces.append(st.sampled_from(STRAY))
    return "".join(draw(st.lists(st.one_of(pieces), max_size=40)))


@st.composite
def twins(draw: st.DrawFn) -> tuple[str, str]:
    """Two bodies of one shape: the same tags and ends, start tags with other attributes, other
    text where there is text, other white space where there is none."""
    kinds = draw(st.lists(st.sampled_from(["start", "end", "text", "space"]), max_size=40))
    names = [draw(st.sampled_from(NAMES)) for _ in kinds]
    ends = [draw(st.sampled_from(END_FORMS)) for _ in kinds]
    bodies = []
    for _ in range(2):
        pieces = []
        for kind, name, end in zip(kinds, names, ends, strict=True):
            if kind == "start":
                pieces.append(start(name, draw(st.sampled_from(ATTRIBUTES))))
            elif kind == "end":
                pieces.append(end.format(name))
            else:
                pieces.append(draw(st.sampled_from(TEXT if kind == "text" else SPACE)))
        bodies.append("".join(pieces))
    return bodies[0], bodies[1]


def shape(html: str) -> str:
    return ">".join(cm._SHAPE.findall(html.lstrip(" \t\n\r\f")))


EXAMPLES = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(soups())
def test_the_shape_answers_as_the_exact_check(html: str) -> None:
    """With the cache warm from earlier examples: a wrong key would answer for another body."""
    assert cm._shape_needs_no_repair(html) == cm._needs_no_repair(html)
    assert fix_content_model(html) == cm._repair(html)


@EXAMPLES
@given(twins())
def test_bodies_of_one_shape_get_one_answer(pair: tuple[str, str]) -> None:
    first, second = pair
    assert shape(first) == shape(second)
    assert cm._needs_no_repair(first) == cm._needs_no_repair(second)


@EXAMPLES
@given(soups())
def test_the_shape_finds_exactly_the_tags(html: str) -> None:
    """Its tags are _TAG's (the repair's), in order: a start tag's name, an end tag whole."""
    tags = [token for token in cm._SHAPE.findall(html) if token]
    expected = [m.group()[1:-1] if m.group(1) else m.group(2) for m in _TAG.finditer(html)]
    assert tags == expected


@pytest.mark.parametrize(
    "html",
    [
        "<ul><li>a</li></ul>",
        "<ul>text<li>a</li></ul>",  # text directly in a list: repaired
        "<ul> \n<li>a</li>\t</ul>",  # white space there is not
        "<ul>\v<li>a</li></ul>",  # \v is text to the check (str.strip's set)
        "<P>x</P>",  # an end tag not written as ammonia writes it
        "<p>x</p >",
        "<p>x</b>",
        "</p>",
        "<p>",
        "<b><p>x</p></b>",
        "<table><tr><td>1</td></tr></table>",
        "   <p>x</p>",
        "x",
        "",
        "<p>a < b</p>",
        "<p><</p>",
        "<ul><</ul>",
        "<ul><li>a</li><!-- c --></ul>",
    ],
)
def test_known_shapes(html: str) -> None:
    assert cm._shape_needs_no_repair(html) == cm._needs_no_repair(html)
    assert cm._shape_needs_no_repair(html) == cm._needs_no_repair(html)  # now from the cache
    assert fix_content_model(html) == cm._repair(html)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 2 * MAX_DEPTH])
def test_deep_nesting(depth: int) -> None:
    for tag in ("b", "blockquote"):
        html = f"<{tag}>" * depth + "deep" + f"</{tag}>" * depth
        assert cm._shape_needs_no_repair(html) == cm._needs_no_repair(html)
        assert fix_content_model(html) == cm._repair(html)


def test_long_shapes_are_answered_not_kept() -> None:
    cm._SHAPES.clear()
    html = "<p>x</p>" * 2000
    assert len(shape(html)) > cm.SHAPE_KEY
    assert cm._shape_needs_no_repair(html) is True
    assert fix_content_model(html) == html
    assert cm._SHAPES == {}
    long_text = "<p>" + "x " * 500_000 + "</p>"
    assert fix_content_model(long_text) == long_text
    assert cm._SHAPES == {"p>>/p": True}


def test_the_cache_stays_bounded() -> None:
    cm._SHAPES.clear()
    for n in range(cm.SHAPES + 50):
        html = f"<p>{'<b>x</b>' * (n % 40)}<i>{'<u>x</u>' * (n // 40)}</i></p>"
        assert cm._shape_needs_no_repair(html) == cm._needs_no_repair(html)
        assert 0 < len(cm._SHAPES) <= cm.SHAPES
    assert len(cm._SHAPES) == 50  # started over once


@pytest.mark.timeout(60)
def test_the_shape_is_linear_on_hostile_bodies() -> None:
    """Each of these took minutes when a regular expression could try every split of a
    long run (an unclosed tag name, white space before a tag)."""
    for html in ["<" + "a" * 1_000_000, "</a" + " " * 1_000_000, " " * 1_000_000 + "<p>"]:
        assert cm._shape_needs_no_repair(html) == cm._needs_no_repair(html)
        assert fix_content_model(html) == cm._repair(html)


PLAIN = ["x", " ", "\n", "\r\n", "\r", "\t", "<b>", "&amp;", '"', "'", "é", "\u202e", "\x00",
         "http", "https://", "HTTPS://", "://", "example.com", "/a?b=1#c", ").", "@",
         "[::1]"]  # fmt: skip


@EXAMPLES
@given(st.lists(st.sampled_from(PLAIN), max_size=30).map("".join))
def test_text_without_a_url_is_escaped_as_the_general_path_does(text: str) -> None:
    """text_html's path for a text without "://" gives what the general one (links) gives."""
    prepared = strip_unsafe(text.replace("\r\n", "\n").replace("\r", "\n"))
    assert text_html(text) == _linked(prepared)

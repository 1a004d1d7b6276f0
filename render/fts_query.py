"""What a person types into ``search``, as an FTS5 query that finds it and cannot fail.

FTS5's own syntax reads ``e-mail`` as the column ``e`` minus ``mail``, and ``don't``, ``v1.2``,
``C++``, ``50%`` or an address as syntax errors. So every word is passed as an FTS5 string
(``"e-mail"``), which FTS5 splits into its tokens and matches as a phrase: exactly the text
typed. What can only be meant as syntax stays syntax:

- ``"a phrase"`` in double quotes (an unclosed quote runs to the end);
- ``word*``: a prefix;
- ``AND``, ``OR``, ``NOT`` in capitals, between two terms (``AND NOT`` is ``NOT``);
  ``(`` ``)`` group them.

Anything else that looks like an operator (a lowercase ``or``, ``NOT`` at the start, ``AND``
at the end) is a word. The result is always well formed: operators are placed only between
two operands, groups are balanced and shallow, and terms that hold nothing FTS5 indexes (a
lone ``%``) are left out.
"""

from __future__ import annotations

import re
import unicodedata

OPERATORS = ("AND", "OR", "NOT")
MAX_DEPTH = 20  # FTS5's parser overflows on deep nesting (about 100 levels)
_AND, _NOT = ("op", "AND"), ("op", "NOT")
_PIECE = re.compile(r'"([^"]*)"?|([^\s"]+)')


def searchable(text: str) -> bool:
    """Whether FTS5's default tokenizer (unicode61) finds a token in ``text``: it indexes
    letters, numbers and private-use characters, and nothing else."""
    return any(unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Co" for c in text)


def _clean(text: str) -> str:
    """Controls (NUL ends an FTS5 string early) and lone surrogates (from undecodable
    command-line bytes; SQLite cannot take them) become spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in text)


def _string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: kind is "term" (text is FTS5 already), "op", "(" or ")"."""
    out: list[tuple[str, str]] = []
    for match in _PIECE.finditer(_clean(text)):
        phrase, word = match.groups()
        if word is None:
            if searchable(phrase):
                out.append(("term", _string(phrase)))
            continue
        out.extend(("(", "(") for _ in range(len(word) - len(word.lstrip("("))))
        core = word.lstrip("(")
        closing = len(core) - len(core.rstrip(")"))
        out.extend(_word(core.rstrip(")")))
        out.extend((")", ")") for _ in range(closing))
    # "AND NOT" reads as NOT: FTS5's NOT is binary, and would take "AND NOT" for an error.
    return [item for at, item in enumerate(out) if out[at : at + 2] != [_AND, _NOT]]


def _word(word: str) -> list[tuple[str, str]]:
    if word in OPERATORS:
        return [("op", word)]
    if word.endswith("*") and searchable(word):
        return [("term", _string(word.rstrip("*")) + "*")]
    return [("term", _string(word))] if searchable(word) else []


def fts_query(text: str) -> str:
    """The FTS5 query for ``text``; "" when nothing in it can be searched."""
    node, _ = _group(tokens(text), 0, 0)
    return node or ""


def _starts_operand(items: list[tuple[str, str]], at: int) -> bool:
    return at < len(items) and items[at][0] in ("term", "(")


def _group(items: list[tuple[str, str]], at: int, depth: int) -> tuple[str | None, int]:
    """The expression from ``at`` to its closing parenthesis (or the end), and where it
    stopped. Adjacent operands are joined with an explicit AND: FTS5 accepts the implicit
    form only between plain phrases, not next to a group."""
    node: str | None = None
    operator: str | None = None
    while at < len(items):
        kind, text = items[at]
        at += 1
        if kind == ")":
            if depth:
                break
            continue  # a stray closing parenthesis
        if kind == "op":
            if node is not None and operator is None and _starts_operand(items, at):
                operator = text
                continue
            kind, text = "term", _string(text)  # misplaced: a word
        if kind == "(":
            inner, at = _group(items, at, depth + 1) if depth < MAX_DEPTH else (None, at)
            if inner is None:
                continue
            text = f"({inner})"
        node = text if node is None else f"{node} {operator or 'AND'} {text}"
        operator = None
    if operator is not None:  # its right-hand group turned out empty: the word it was
        node = f"{node} AND {_string(operator)}"
    return node, at

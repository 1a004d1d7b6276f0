"""Names and emails replaced by pseudonyms (``--blur``), in plain text and in sanitised HTML."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Mapping

from markupsafe import escape

from .tags import _TAG


def _replacement_pattern(keys: list[str]) -> re.Pattern[str] | None:
    """One alternation of all keys, longest first, so that "Ann Lee" wins over "Ann"."""
    keys = sorted({key for key in keys if key}, key=len, reverse=True)
    if not keys:
        return None
    return re.compile("|".join(re.escape(key) for key in keys), re.IGNORECASE)


def _lookup(replacements: Mapping[str, str]) -> dict[str, str]:
    """Case-folded key -> value, for finding the value of a case-insensitive match."""
    return {key.casefold(): value for key, value in replacements.items() if key}


def _value_for(found: str, folded: dict[str, str], replacements: Mapping[str, str]) -> str:
    """The replacement for a matched key, however its case differs from the key's."""
    value = folded.get(found.casefold())
    if value is None:  # case folding and re.IGNORECASE disagree on some letters
        value = next(
            (v for k, v in replacements.items() if k and re.fullmatch(re.escape(k), found, re.I)),
            found,
        )
    return value


def redact(text: str, replacements: Mapping[str, str]) -> str:
    """Replace each key (a name or email) in plain text by its value (a pseudonym), for --blur.

    Matching is case-insensitive, longest key first, in a single pass: a pseudonym that happens to
    contain another key is never replaced again.
    """
    pattern = _replacement_pattern(list(replacements))
    if pattern is None:
        return text
    folded = _lookup(replacements)
    return pattern.sub(lambda m: _value_for(m.group(), folded, replacements), text)


_ENTITY = r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"


def redact_html(html: str, replacements: Mapping[str, str]) -> str:
    """redact() for sanitised HTML (message_html or text_html output): text between tags only.

    Tags, attribute values (hrefs, data-person) and character references are left intact; keys
    are looked for in every escaped form our two producers emit (ammonia escapes ``& < >`` in
    text, markupsafe also quotes), and values are inserted escaped. A key split by markup
    (``<b>Al</b>ice``) is not found.
    """
    variants: dict[str, str] = {}
    for key, value in replacements.items():
        if key:
            for form in (htmllib.escape(key, quote=False), str(escape(key))):
                variants.setdefault(form, str(escape(value)))
    keys = sorted(variants, key=len, reverse=True)
    if not keys:
        return html
    keys_pattern = "|".join(re.escape(key) for key in keys)
    # Keys first, then whole entities: a key may start with '&amp;', but 'amp' inside '&amp;' is
    # consumed by the entity alternative and never matched on its own.
    pattern = re.compile(f"({keys_pattern})|{_ENTITY}", re.IGNORECASE)
    folded = _lookup(variants)

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group()
        return _value_for(match.group(), folded, variants)

    out: list[str] = []
    position = 0
    for tag in _TAG.finditer(html):
        out.append(pattern.sub(substitute, html[position : tag.start()]))
        out.append(tag.group())
        position = tag.end()
    out.append(pattern.sub(substitute, html[position:]))
    return "".join(out)

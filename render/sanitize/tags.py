"""Finding tags in HTML with regular expressions: linear time on anything.

Exact on ammonia's and our own output (attribute values there never hold a raw ``<`` or
``>``), good enough on raw input.
"""

from __future__ import annotations

import re

# ammonia's parser (html5ever) slows down quadratically with nesting depth: 5,000 nested
# blockquotes take ~70 ms, 100,000 nested divs ~25 s. Nesting can never exceed the number of start
# tags, so above this many the body is shown as plain text instead (no real chat message has it).
MAX_TAGS = 10_000

_START_TAG = re.compile(r"<[A-Za-z]")
# A tag. Exact on ammonia's and our own output (attribute values there never hold a raw `<` or
# `>`), good enough on raw input, and linear time on anything: after the name, what follows up
# to the `>` must start with a space or a `/` (as it does whenever the name is all of the run;
# written `[^<>]*` straight after the name, a `<` and a long name without `>` made the regular
# expression try every split between the two: quadratic, minutes for 1 MB of `<aaaa...`).
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/<>]*)(?:[\s/][^<>]*)?>")


def _too_many_tags(html: str) -> bool:
    """True when parsing `html` could take long enough to stall a render (see MAX_TAGS)."""
    return len(_START_TAG.findall(html)) > MAX_TAGS

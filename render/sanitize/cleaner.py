"""The ammonia cleaner (the ``nh3`` bindings) and the allow-list every message body goes through.

markup.py makes a message's safe HTML from its output, plain.py the readable text; both
build on this module, and it on neither. The cleaner is built once: building it from the
allow-lists on every call cost more than the cleaning itself.
"""

from __future__ import annotations

import nh3

from .chars import _strip_unsafe

# Tags a chat message may use. No img (it would fetch), no div (layout is ours), no forms, media,
# frames, svg or math; unknown tags are unwrapped (their text stays).
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "b", "strong", "i", "em", "u", "s", "del", "strike", "code", "pre",
        "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "table", "thead", "tbody", "tr", "th", "td", "span", "sub", "sup", "spark-mention",
    }
)  # fmt: skip

# Tags whose *content* is dropped too: their text is code or markup, never something to read.
DROPPED_CONTENT_TAGS = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object",
        "embed", "svg", "math", "textarea", "select", "title", "xmp", "noembed", "noframes",
    }
)  # fmt: skip

# Only these attributes survive: an <a>'s href (checked against URL_SCHEMES) and the data-* that
# identify a Webex mention. No class, id, style or event handler ever comes from the input.
ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "spark-mention": {"data-object-type", "data-object-id", "data-group-type"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def _options() -> dict:
    return {
        "tags": set(ALLOWED_TAGS),
        "clean_content_tags": set(DROPPED_CONTENT_TAGS),
        "attributes": {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        "strip_comments": True,
        "link_rel": None,  # markup.py adds rel and target, only to links that keep an href
        "url_schemes": set(URL_SCHEMES),
        "url_relative": "deny",  # relative and scheme-relative URLs would resolve against file://
    }


# nh3 < 0.2.18 has no Cleaner: there, the options are passed on each call.
_CLEANER = nh3.Cleaner(**_options()) if hasattr(nh3, "Cleaner") else None


def clean(html: str) -> str:
    """Run ammonia with this module's allow-list; output is normalised, balanced HTML."""
    if _CLEANER is not None:
        return _CLEANER.clean(_strip_unsafe(html))
    return nh3.clean(_strip_unsafe(html), **_options())

"""Untrusted message content in, safe HTML fragments (or clean text) out.

Everything shown in an archive page was written by someone else: message bodies, names, titles,
file names. The page is self-contained and kept for years, so nothing in it may execute, fetch
anything, or rearrange the page around it. This package is the one place where untrusted
strings become markup; every function is pure (no I/O; content_model.py only remembers which
shapes of body need no repair) so it can be tested exhaustively. One module per job:

- cleaner.py: ammonia (the ``nh3`` bindings) with an explicit allow-list; markup.py makes
  Webex's ``html`` field safe with it, then a few fixed rewrites of ammonia's normalised
  output (links, mentions); content_model.py repairs the result into valid HTML5.
- links.py: plain ``text`` is escaped by us, with line breaks and http(s) links added.
- chars.py: single-line strings (names, titles) are only cleaned of invisible troublemakers;
  escaping them is left to jinja2's autoescape and render/article.py.
- plain.py: the readable text of HTML; redact.py: pseudonyms for ``--blur``; tags.py: the
  tag-finding regular expressions they share.
"""

from __future__ import annotations

from .chars import clean_inline, strip_unsafe
from .cleaner import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, DROPPED_CONTENT_TAGS, URL_SCHEMES
from .content_model import MAX_DEPTH, fix_content_model
from .links import LINK_ATTRIBUTES, text_html
from .markup import message_html
from .plain import strip_tags
from .redact import redact, redact_html
from .tags import MAX_TAGS

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "DROPPED_CONTENT_TAGS",
    "LINK_ATTRIBUTES",
    "MAX_DEPTH",
    "MAX_TAGS",
    "URL_SCHEMES",
    "clean_inline",
    "fix_content_model",
    "message_html",
    "redact",
    "redact_html",
    "strip_tags",
    "strip_unsafe",
    "text_html",
]

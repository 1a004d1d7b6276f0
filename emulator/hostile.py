"""Hostile strings, so that every client tested against the emulator meets them by default.

An archive renders text written by other people; these are the inputs that break careless
escaping, sanitising, file naming and terminal output. They are deliberately inert unless a
client mishandles them: the worst they do is set ``window.__pwned``.
"""

from __future__ import annotations

TITLE = 'Q3 <script>window.__pwned=1</script> & "Partners" / ../../etc'
DISPLAY_NAME = '<img src=x onerror="window.__pwned=1"> \u202eMallory\u202c'

# (text, html or None): html is what a hostile or buggy client could get Webex to store.
MESSAGES: list[tuple[str, str | None]] = [
    ("<script>window.__pwned=1</script>", None),
    ("</script><script>window.__pwned=1</script>", None),
    ("look", '<p>look <img src="x" onerror="window.__pwned=1"></p>'),
    ("click me", '<p><a href="javascript:window.__pwned=1">click me</a></p>'),
    ("data link", '<p><a href="data:text/html,<script>window.__pwned=1</script>">data</a></p>'),
    ("styled", '<p style="position:fixed;top:0;left:0;width:100%;height:100%">styled</p>'),
    ("css", "<style>body{display:none}</style><p>css</p>"),
    ("unbalanced", "<div><div><b><i>unbalanced"),
    ("deep", "<div>" * 300 + "deep" + "</div>" * 300),
    ("frame", '<iframe src="https://evil.example/"></iframe>'),
    ("svg", "<svg><script>window.__pwned=1</script></svg>"),
    ("\u202eevil.exe\u202c reversed", None),
    ("zero\u200bwidth\u200d joiner \ufeff bom", None),
    ("e\u0301\u0301\u0301 combining marks and \U0001f468\u200d\U0001f469\u200d\U0001f467", None),
    ("control \x07 bell \x1b[31m ansi red \x1b[0m and nul \x00 byte", None),
    ("&lt;not a tag&gt; &amp;amp; &#x3C;script&#x3E;", None),
    ("{{ 7*7 }} {% if true %}jinja{% endif %} ${7*7}", None),
    ('[trust me](javascript:window.__pwned=1) <https://example.com/"onmouseover="x>', None),
]

FILE_NAMES = [
    "../../../etc/passwd",
    "/etc/shadow",
    "..\\..\\windows\\system32\\evil.dll",
    "CON.txt",
    "aux",
    'a<b>:"c|d?*.png',
    "x" * 300 + ".pdf",
    "re\u0301sume\u0301.pdf",  # decomposed twin of the precomposed name in the normal list
    "résumé.pdf",
    "..",
    " leading and trailing .txt. ",
    "\u202egnp.exe",
    "line\nbreak\r.txt",
    "tab\tand\x01control.txt",
]


def apply(message: dict, text: str, html: str | None) -> None:
    """Replace a message's body with a hostile one (text, and html where there is one)."""
    message["text"] = text
    message.pop("markdown", None)
    if html is None:
        message.pop("html", None)
    else:
        message["html"] = html

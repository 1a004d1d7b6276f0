"""Hostile strings, so that every client tested against the emulator meets them by default.

An archive renders text written by other people; these are the inputs that break careless
escaping, sanitising, file naming and terminal output. They are deliberately inert unless a
client mishandles them: the worst they do is set ``window.__pwned``.

Two tiers, because the generator sprinkles ``MESSAGES`` into every data set (and plants each
one once in its last group space) while tests elsewhere pin the exact file names and counts:

- ``TITLE``, ``DISPLAY_NAME``, ``MESSAGES`` and ``FILE_NAMES``: what ``generate`` uses. Cheap,
  so that every test that syncs a generated data set meets them.
- ``HEAVY_MESSAGES``, ``PEOPLE``, ``SPACE_TITLES``, ``MORE_FILE_NAMES``: the rest of the
  catalogue (a 1 MB message, nesting deeper than a parser likes, hostile emails, name twins,
  file contents that lie about their type). ``hostile_spaces.add_spaces`` adds them to a data
  set as spaces of their own, without touching the generator's random stream, so existing data
  sets stay as they are.
"""

from __future__ import annotations

from .media import png

TITLE = 'Q3 <script>window.__pwned=1</script> & "Partners" / ../../etc'
DISPLAY_NAME = '<img src=x onerror="window.__pwned=1"> \u202eMallory\u202c'

PWN = "window.__pwned=1"
C0_C1 = "".join(map(chr, range(0x20))) + "\x7f" + "".join(map(chr, range(0x80, 0xA0)))

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
    # --- script, event handlers, javascript: and data: URLs in links and images ---------------
    (
        "script in html",
        f'<p>before</p><SCRIPT SRC="https://evil.example/x.js"></SCRIPT>'
        f"<scr<script>ipt>{PWN}</scr</script>ipt><p>after</p>",
    ),
    (
        "event handlers",
        f'<p onclick="{PWN}" onmouseover="{PWN}">hover</p>'
        f'<details open ontoggle="{PWN}"><summary>toggle</summary></details>'
        f'<body onload="{PWN}"><video><source onerror="{PWN}"></video>'
        f'<input autofocus onfocus="{PWN}"><marquee onstart="{PWN}">m</marquee>',
    ),
    (
        "javascript links",
        f'<p><a href="JaVaScRiPt:{PWN}">upper</a> <a href="java&#x09;script:{PWN}">tab</a> '
        f'<a href="&#106;avascript:{PWN}">reference</a> <a href=" &#14; javascript:{PWN}">lead</a>'
        f' <a href="javascript&colon;{PWN}">colon</a> <a href="vbscript:msgbox(1)">vb</a></p>',
    ),
    (
        "data and file links",
        '<p><a href="data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+">b64</a>'
        ' <a href="DATA:text/html,x">upper</a> <a href="file:///etc/passwd">file</a>'
        ' <a href="//evil.example/">scheme-relative</a> <a href="/etc/passwd">relative</a></p>',
    ),
    (
        "images",
        '<p><img src="data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22 '
        f'onload=%22{PWN}%22/>"><img src="javascript:{PWN}">'
        '<img src="https://evil.example/track.png" srcset="https://evil.example/a.png 2x">'
        '<picture><source srcset="https://evil.example/p.png"></picture>'
        '<image href="https://evil.example/i.png"></p>',
    ),
    # --- CSS injection, clashing ids and classes, active content ------------------------------
    (
        "css injection",
        '<p style="background:url(https://evil.example/bg.png)">bg</p>'
        f'<div style="width:expression({PWN})">expression</div>'
        "<style>@import url(https://evil.example/x.css);*{background:url(https://evil.example/)}"
        '</style><link rel="stylesheet" href="https://evil.example/x.css">'
        '<span style="position:fixed;inset:0;z-index:9999">overlay</span>'
        '<font color="red" face="x">font</font>',
    ),
    (
        "clashing ids",
        '<p id="viewer" class="to-top msg">id clash</p><a name="top" id="end">anchor</a>'
        '<h2 id="stats-title">heading</h2>',
    ),
    (
        "frames and forms",
        f'<iframe srcdoc="<script>{PWN}</script>"></iframe>'
        '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x">'
        f'<form action="https://evil.example/"><button formaction="javascript:{PWN}">go</button>'
        '</form><meta http-equiv="refresh" content="0;url=https://evil.example/">'
        '<base href="https://evil.example/">',
    ),
    # --- unbalanced and invalid nesting ---------------------------------------------------------
    (
        "escape the page",
        "</div></article></section></main></body></html><p>escaped?</p>"
        f"<!-- <script>{PWN}</script> --><![CDATA[<script>{PWN}</script>]]>",
    ),
    (
        "blocks in inline elements",
        "<b><p>para in bold</p></b><span><ul><li>list in span</li></ul></span>"
        '<h1><p>para in heading</p></h1><a href="https://example.com/"><p>block link</p></a>'
        "<i><table><tr><td>table in italics</td></tr></table></i><em><hr></em>"
        "<code><pre>pre in code</pre></code><sub><blockquote>quote in sub</blockquote></sub>",
    ),
    (
        "broken lists and tables",
        "<li>stray item</li><ul>loose text<b>bold</b><p>para</p></ul><ol><div>div in ol</div></ol>"
        "<table>caption text<caption>cap</caption><tr><td>cell</td></tr>"
        "<tfoot><tr><td>foot</td></tr></tfoot></table><dl><dt>term<dd>definition</dl>"
        "<tr><td>row outside a table</td></tr><table><tr><th><h3>head</h3></th></tr></table>",
    ),
    (
        "obsolete and overlapping",
        "<p><strike>struck</strike> <center>centred</center> <blink>blink</blink> <tt>tt</tt> "
        "<big>big</big></p><b><i>overlap</b></i><p>unclosed <b>bold <i>italic<p>next"
        "<table><tr><td>open cell",
    ),
    (
        "mention tricks",
        '<p><spark-mention data-object-type="person" data-object-id="x&quot; onmouseover=&quot;'
        f'{PWN}"><p>para in mention</p></spark-mention> <spark-mention '
        f'data-object-type="groupMention" data-group-type="all" onclick="{PWN}">All'
        "</spark-mention></p>",
    ),
    # --- text: bidi, zero-width, combining, emoji, controls ---------------------------------
    (
        "\u202eRTL override\u202c \u2067isolate\u2069 \u200fRLM \u061cALM \u202bembedding\u202c "
        "עברית العربية \u2066isolated\u2069",
        '<p dir="rtl">\u202eRTL\u202c <bdo dir="rtl">bdo</bdo> <bdi>bdi</bdi> עברית</p>',
    ),
    (
        "Z"
        + "\u0336\u0337\u0338\u0334\u0335" * 60
        + "algo a"
        + "\u0301" * 500
        + " \u1100\u1161\u11a8 jamo, \u0915\u094d\u0937 Devanagari, \u0e01\u0e34\u0e4a Thai",
        None,
    ),
    (
        "zero\u200b\u200c\u200d\u2060\ufeff\u180ewidth \u00ad soft hyphen \u034f CGJ "
        "\U000e0041 tag character \ufe0f variation selector",
        None,
    ),
    (
        "\U0001f44d\U0001f3fd \U0001f1f3\U0001f1f1 \U0001f3f3\ufe0f\u200d\U0001f308 "
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 \u2764\ufe0f \U0001fae0 "
        "\U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594 "
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "<p>\U0001f44d\U0001f3fd \U0001f1f3\U0001f1f1 <b>\U0001f3f3\ufe0f\u200d\U0001f308</b></p>",
    ),
    (
        f"every control: {C0_C1} \u2028line\u2029paragraph \ufffe\uffff\U0010ffff\ufdd0 end",
        "<p>&#0;&#1;&#x1b;[31m&#x7f;&#x85;&#x9b;2J&#x2028;&#xfffe;&#x110000;&#xD800;&#x202e;"
        "end</p>",
    ),
    (
        "\x1b]0;pwned title\x07 \x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ "
        "\x1b[2J\x1b[H\x1b[?1049h \x9b31mC1 CSI \x1bP+q\x1b\\ DCS \x1bc reset \x1b(0 charset",
        None,
    ),
    # --- markup-looking text, entities, markdown and URL tricks ---------------------------------
    (
        f"</SCRIPT ><script >{PWN}</script > </style><style>body{{display:none}}</style> "
        "</textarea></title></noscript><!-- ]]> <![CDATA[ <plaintext>",
        None,
    ),
    (
        "&NotAnEntity; &amp &lt &#x26;lt; &#60;script&#62; &#0; &#x110000; &nbsp&nbsp; &lt;!--",
        f"<p>&lt;script&gt;{PWN}&lt;/script&gt; &amp;lt;b&amp;gt; &NotAnEntity; &amp "
        "&#60;i&#62; &#x26;lt;</p>",
    ),
    (
        f"[click](javascript:{PWN}) [b64](data:text/html;base64,PHNjcmlwdD4=) "
        "![pixel](https://evil.example/track.png) "
        f'[t](https://example.com/ "t" onmouseover={PWN}) <javascript:{PWN}> '
        "[nested [brackets]](https://example.com/a_(b)_c)",
        f'<p><a href="javascript:{PWN}">click</a> '
        '<img src="https://evil.example/track.png" alt="pixel"> '
        f'<a href="https://example.com/" title="t" onmouseover="{PWN}">t</a> '
        '<a href="https://example.com/a_(b)_c">nested [brackets]</a></p>',
    ),
    (
        f'https://example.com/"><script>{PWN}</script> https://example.com/<img/src=x/onerror='
        f"{PWN}> http://[::1 https://exa%mple.com/ https://example.com/\u202egpj.exe "
        'https://example.com/a%zz%20b?q=<x>&r="y"#f#g https://example.com/'
        + ")" * 50
        + " https://user:pass@example.com:8080/p?a=1&b=2 https://example.com/`{|}^\\[]",
        None,
    ),
    (
        "odd links",
        '<p><a href="https://example.com/a b|c^d`e{f}g\\h[i]">illegal characters</a> '
        '<a href="https://example.com/#a#b">two hashes</a> '
        '<a href="https://example.com/%">bare percent</a> '
        '<a href="mailto:a@b.example?subject=<script>">mailto</a> '
        '<a href="https://exa mple.com/">space in host</a> <a href="https://[::1/">bad host</a> '
        '<a href="https://example.com/\u202egpj.exe">bidi</a></p>',
    ),
    ("{{ 7*7 }}", "<p>{{ 7*7 }} {% raw %} ${7*7} #{7*7} <%= 7*7 %></p>"),
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

MEGABYTE = 1 << 20


def _megabyte_text() -> str:
    """Exactly 2**20 characters of text that mixes every kind of trouble, line after line."""
    line = (
        f"1 MB <script>{PWN}</script> &amp; \u202eevil\u202c e\u0301 \U0001f600 \x00\x1b[31m "
        "https://example.com/a?b=<c>&d=e \"quoted\" 'single' \t tab\r\n"
    )
    return (line * (MEGABYTE // len(line) + 1))[:MEGABYTE]


def _megabyte_html() -> tuple[str, str]:
    """About 1 MB of ordinary-looking HTML paragraphs (fewer tags than the sanitiser's limit)."""
    paragraphs = [f"<p>paragraph {n} <b>bold</b> &amp; {'w' * 180}</p>" for n in range(4_800)]
    text = "\n".join(f"paragraph {n} bold & {'w' * 180}" for n in range(4_800))
    return text, "".join(paragraphs)


# Too big or too deep to sprinkle into every generated data set: add_spaces plants these.
HEAVY_MESSAGES: list[tuple[str, str | None]] = [
    (_megabyte_text(), None),
    _megabyte_html(),
    ("deep quotes", "<blockquote>" * 2_000 + "deep and never closed"),
    ("deeper than the sanitiser parses", "<div>" * 20_000 + "deepest" + "</div>" * 20_000),
    ("formatting soup", "<b><i><u><s>" * 2_000 + "soup"),
]

# (display name, email): people Webex would hold for a hostile or careless user.
PEOPLE: list[tuple[str, str]] = [
    (f"</span></header><script>{PWN}</script>", f'"><script>{PWN}</script>"@evil.test'),
    ("Robert'); DROP TABLE people;--", "bobby'--@evil.test"),
    ("Ev\x00e \x07\x1b]0;owned\x07\x1b[31mRed\x1b[0m \x9b2J", "eve\x00\x1b[31m@evil.test"),
    ("\u202eredro\u202c Mallory \u2067isolate", "mallory\u202e@evil.test"),
    ("Z\u0336a\u0337l\u0338g\u0335o" + "\u0301" * 50, f"javascript:{PWN}//@evil.test"),
    ("\U0001f984 Unicorn \U0001f468\u200d\U0001f469\u200d\U0001f467", "{{7*7}}@evil.test"),
    ("&lt;b&gt;entity&amp; &#60;i&#62;", "entity&amp;@evil.test"),
    ("\u200b", "zero.width@evil.test"),
    ("L" * 500, "l" * 300 + "@evil.test"),
    ("Ada Lovelace", "ada.lovelace@ex\u0430mple.com"),  # Cyrillic а: not the owner's domain
]

# Titles for extra spaces: markup, controls, a reserved device name, name twins (NFC, NFD,
# upper case) that must still get folders of their own, and titles that clean to nothing.
SPACE_TITLES = [
    f"</title><script>{PWN}</script>\u202e\x00\x1b[31m CON",
    "Café ☕ twins",
    "Cafe\u0301 ☕ twins",
    "CAFÉ ☕ TWINS",
    "..",
    "\u202e\u200b",
]

# More attachment names: traversal spelled every way, absolute paths, reserved names, huge
# lengths, normalisation and case twins, characters that need percent-encoding in a link.
MORE_FILE_NAMES = [
    "../../../../tmp/pwned.txt",
    "..%2F..%2Fetc%2Fpasswd",
    "....//....//etc/passwd",
    "a/../../b.txt",
    "~/.ssh/authorized_keys",
    "\\\\server\\share\\unc.txt",
    "C:\\Windows\\win.ini",
    "file:///etc/hosts",
    "/tmp/absolute.txt",
    "NUL",
    "com1.txt",
    "LPT9.tar.gz",
    ".htaccess",
    "...",
    " ",
    "",
    "archive.db",
    "y" * 10_000 + ".txt",
    "文" * 300 + ".txt",
    "a." + "b" * 300,
    "café.txt",
    "cafe\u0301.txt",
    "CAFÉ.TXT",
    "ﬁle.txt",  # the "fi" ligature: an NFKC twin of file.txt
    "\u212b.txt",  # ANGSTROM SIGN: NFC makes it Å
    "\u00c5.txt",
    "same name.txt",
    "same name.txt",
    "100% #1?.txt",
    "a%20b.txt",
    "semi;colon 'quote\" `tick`.txt",
    "name:stream.txt",
    "\x00nul\x1b[31m.txt",
    "\u200b.txt",
]

# Images (real PNG bytes) whose names land in src, alt, data-* and the pop-up caption.
IMAGE_NAMES = [
    f"<img src=x onerror={PWN}>.png",
    f'" onerror="{PWN}.png',
    "100% #1?.png",
    "a%20b.png",
    "café.png",
    "cafe\u0301.png",
    "../../evil.png",
    "\u202egnp.exe.png",
    "p" * 300 + ".png",
]

# Files whose bytes are hostile (or lie about their type). Shown as thumbnails or links, never
# executed: an <img> runs no script, and a link is only followed if the reader clicks it.
SVG_WITH_SCRIPT = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="{PWN}">'
    f'<script>{PWN}</script><rect width="40" height="40" fill="red"/></svg>'
).encode()
HTML_FILE = f"<!DOCTYPE html><title>x</title><script>{PWN}</script>".encode()
LYING_FILES: list[tuple[str, str, bytes]] = [
    ("diagram.svg", "image/svg+xml", SVG_WITH_SCRIPT),
    ("page.html", "text/html", HTML_FILE),
    ("not really.png", "image/png", HTML_FILE),
    ("typed.png", f'image/png; name="<script>{PWN}</script>"', png(20, 20, 5)),
]


def apply(message: dict, text: str, html: str | None) -> None:
    """Replace a message's body with a hostile one (text, and html where there is one)."""
    message["text"] = text
    message.pop("markdown", None)
    if html is None:
        message.pop("html", None)
    else:
        message["html"] = html

"""The words of generated messages: plain sentences, and the markdown, mention and card forms.

Each function draws from the generator's random source in a fixed order, so a seed still
gives the same data set; ``generate`` decides which message gets which form.
"""

from __future__ import annotations

import random
from html import escape

WORDS = (
    "the build is green again please review the draft before friday we should ship it "
    "tomorrow after the demo can someone check the logs thanks for the quick fix meeting notes "
    "are in the folder I think the numbers look good let us sync on the roadmap next week "
    "customer asked about pricing and the migration plan agreed deploy rollback looks safe"
).split()
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def sentence(rng: random.Random, low: int = 4, high: int = 14) -> str:
    """A sentence of ``low`` to ``high`` words from ``WORDS``, capitalised and punctuated."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + rng.choice([".", ".", "!", "?"])


def markdown(rng: random.Random, message: dict, domain: str) -> None:
    """Make ``message`` a markdown one: bold, a list, a code block, or a quote with a link
    into ``docs.<domain>``; text, markdown and html agree."""
    word, rest = rng.choice(WORDS), sentence(rng)
    style = rng.randrange(4)
    if style == 0:
        message["markdown"] = f"**{word}** {rest}"
        message["html"] = f"<p><strong>{escape(word)}</strong> {escape(rest)}</p>"
        message["text"] = f"{word} {rest}"
    elif style == 1:
        items = [sentence(rng, 2, 5) for _ in range(3)]
        message["markdown"] = "\n".join(f"- {i}" for i in items)
        message["html"] = "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
        message["text"] = "\n".join(items)
    elif style == 2:
        code = f"deploy --env prod --version {rng.randint(1, 99)}"
        message["markdown"] = f"Run this:\n```\n{code}\n```"
        message["html"] = f"<p>Run this:</p><pre><code>{escape(code)}\n</code></pre>"
        message["text"] = f"Run this:\n{code}"
    else:
        url = f"https://docs.{domain}/page/{rng.randint(1, 999)}"
        message["markdown"] = f"> {rest}\n\nSee [the docs]({url})"
        message["html"] = (
            f"<blockquote><p>{escape(rest)}</p></blockquote>"
            f'<p>See <a href="{url}" alt="{url}">the docs</a></p>'
        )
        message["text"] = f"{rest}\nSee the docs ({url})"


def mention(rng: random.Random, message: dict, person: dict) -> None:
    """Make ``message`` start with a mention of ``person``."""
    name, rest = person["displayName"], sentence(rng)
    message["text"] = f"{name} {rest}"
    message["markdown"] = f"<@personId:{person['id']}|{name}> {rest}"
    message["html"] = (
        f'<p><spark-mention data-object-type="person" data-object-id='
        f'"{person["id"]}">{escape(name)}</spark-mention> {escape(rest)}</p>'
    )
    message["mentionedPeople"] = [person["id"]]


def mention_all(rng: random.Random, message: dict) -> None:
    """Make ``message`` start with a mention of everyone (``@all``)."""
    rest = sentence(rng)
    message["text"] = f"All {rest}"
    message["markdown"] = f"<@all> {rest}"
    message["html"] = (
        '<p><spark-mention data-object-type="groupMention" '
        f'data-group-type="all">All</spark-mention> {escape(rest)}</p>'
    )
    message["mentionedGroups"] = ["all"]


def card(rng: random.Random, message: dict) -> None:
    """Make ``message`` a poll: its text, and an adaptive card with one button."""
    title = sentence(rng, 2, 5)
    message["text"] = f"Poll: {title}"
    message["attachments"] = [
        {
            "contentType": CARD_TYPE,
            "content": {
                "type": "AdaptiveCard",
                "version": "1.3",
                "body": [{"type": "TextBlock", "text": title, "weight": "Bolder"}],
                "actions": [{"type": "Action.Submit", "title": "Vote"}],
            },
        }
    ]

"""Generate a realistic, reproducible Webex data set from a seed.

A data set exercises everything an archiver must get right: people inside and outside the
token owner's organisation (and one Webex no longer knows), threads whose parent is far older
than the reply, mentions of people and of everyone, markdown and HTML, edits, cards, voice
clips, files and images with real bytes and non-ASCII names, a direct space, a bot, and a
sprinkling of hostile text, titles, names and file names.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from . import hostile
from .ids import add_ms, cluster_of, format_time, id_uuid, make_id, new_uuid
from .integrations import default_integration
from .media import Recipe
from .message_text import card, markdown, mention, mention_all, sentence
from .model import Content, DataSet

HOME_ORG, HOME_DOMAIN = "home", "example.com"
PARTNER_ORG, PARTNER_DOMAIN = "partner", "partner.org"

NAMES = [
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"),
    ("Donald", "Knuth"),
    ("Frances", "Allen"),
    ("Ken", "Thompson"),
    ("Margaret", "Hamilton"),
    ("Linus", "Torvalds"),
    ("Sophie", "Wilson"),
    ("Guido", "van Rossum"),
    ("Zoë", "Ødegård"),
    ("Björn", "Müller"),
    ("Ming", "李"),
    ("Renée", "Dupont"),
]
TITLES = [
    "Project Atlas",
    "Design reviews",
    "Ops – incidents 🚨",
    "Quarterly planning",
    "Customer escalations",
    "Release train",
    "Coffee ☕ & random",
    "Security working group",
]
FILES = [
    ("Q3 report.pdf", "application/pdf"),
    ("图片.png", "image/png"),
    ("Größe-Übersicht.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("notes.txt", "text/plain"),
    ("diagram.svg", "image/svg+xml"),
    ("photo 2024.png", "image/png"),
    (
        "résumé final.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("logs.zip", "application/zip"),
    ("whiteboard.png", "image/png"),
]


class _Builder:
    """Holds the random source and the growing data set while one data set is generated."""

    def __init__(self, seed: int, end: datetime, span_days: float, hostile_rate: float):
        self.rng = random.Random(seed)
        self.ds = DataSet()
        self.end = end
        self.start = end - timedelta(days=span_days)
        self.hostile_rate = hostile_rate

    def uid(self) -> str:
        return new_uuid(self.rng)

    # ----- people ------------------------------------------------------------------------

    def person(
        self, first: str, last: str, org: str, domain: str, kind: str = "person", local: str = ""
    ) -> dict:
        person_id = make_id("PEOPLE", self.uid())
        local = local or f"{first}.{last}".lower().replace(" ", "")
        person: dict = {
            "id": person_id,
            "emails": [f"{local}@{domain}"],
            "displayName": f"{first} {last}".strip(),
            "firstName": first,
            "lastName": last,
        }
        if self.rng.random() < 0.2:
            person["nickName"] = first[:3]
        if self.rng.random() < 0.8:
            key = f"V1~{self.rng.getrandbits(64):016x}"
            self.ds.avatars[key] = Recipe("png", seed=self.rng.getrandbits(32), width=48, height=48)
            person["avatar"] = key
        person["orgId"] = make_id("ORGANIZATION", org)
        person["created"] = format_time(self.start - timedelta(days=30))
        person["lastModified"] = format_time(self.start)
        person["lastActivity"] = format_time(self.end)
        person["status"] = self.rng.choice(["active", "inactive", "meeting", "DoNotDisturb"])
        person["type"] = kind
        self.ds.people[person_id] = person
        return person

    def make_people(self, count: int) -> tuple[dict, list[dict], dict, dict]:
        """The owner, everyone else, a bot, and a ghost that Webex no longer finds."""
        org_ids = {HOME_ORG: self.uid(), PARTNER_ORG: self.uid()}
        people = []
        for index in range(count):
            first, last = NAMES[index % len(NAMES)]
            external = index % 3 == 2
            org, domain = (PARTNER_ORG, PARTNER_DOMAIN) if external else (HOME_ORG, HOME_DOMAIN)
            people.append(self.person(first, last, org_ids[org], domain))
        if self.hostile_rate:
            people.append(
                self.person(
                    hostile.DISPLAY_NAME, "", org_ids[PARTNER_ORG], PARTNER_DOMAIN, local="mallory"
                )
            )
        bot = self.person("Archive", "Bot", org_ids[HOME_ORG], "webex.bot", kind="bot")
        ghost = self.person("Former", "Colleague", org_ids[HOME_ORG], HOME_DOMAIN)
        del self.ds.people[ghost["id"]]  # wrote messages long ago; /people no longer knows them
        owner = people[0]
        self.ds.tokens[self.token()] = owner["id"]
        self.ds.tokens[self.token()] = bot["id"]
        return owner, people, bot, ghost

    def token(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        body = "".join(self.rng.choice(alphabet) for _ in range(64))
        return f"{body}_PF84_{self.uid()}"

    # ----- rooms -------------------------------------------------------------------------

    def room(self, title: str, kind: str, creator: dict, cluster: str = "us") -> dict:
        room = {
            "id": make_id("ROOM", self.uid(), cluster),
            "title": title,
            "type": kind,
            "isLocked": False,
            "lastActivity": format_time(self.start),
            "creatorId": creator["id"],
            "created": format_time(self.start - timedelta(days=1)),
            "ownerId": creator["orgId"],
            "isPublic": False,
            "isReadOnly": False,
        }
        self.ds.rooms[room["id"]] = room
        return room

    def join(self, room: dict, people: list[dict], moderator: dict | None = None) -> None:
        for person in people:
            membership = self.ds.membership_for(room["id"], person["id"])
            membership["isModerator"] = person is moderator
            membership["created"] = room["created"]
            self.ds.add_membership(membership)

    # ----- messages ----------------------------------------------------------------------

    def times(self, count: int) -> list[str]:
        """``count`` distinct creation times, ascending, the newest within the last day."""
        span_ms = int((self.end - self.start).total_seconds() * 1000)
        offsets = sorted(self.rng.sample(range(span_ms), count)) if count else []
        if offsets:
            offsets[-1] = max(offsets[-1], span_ms - self.rng.randrange(1, 86_400_000))
            offsets[-1] = max(offsets[-1], offsets[-2] + 1) if count > 1 else offsets[-1]
        return [format_time(self.start + timedelta(milliseconds=o)) for o in offsets]

    def fill_messages(
        self, room: dict, authors: list[dict], ghost: dict | None, count: int
    ) -> None:
        tops: list[dict] = []
        times = self.times(count)
        for position, created in enumerate(times):
            author = ghost if ghost and position < count // 20 else self.rng.choice(authors)
            message = self.message(room, author, created)
            if tops and self.rng.random() < 0.15:
                far = self.rng.random() < 0.1
                parent = self.rng.choice(tops) if far else self.rng.choice(tops[-20:])
                message["parentId"] = parent["id"]
            self.decorate(message, authors, created, times[position + 1 : position + 2])
            self.ds.add_message(_ordered(message))
            if "parentId" not in message:
                tops.append(message)

    def message(self, room: dict, author: dict, created: str) -> dict:
        text = sentence(self.rng)
        return {
            "id": make_id("MESSAGE", self.uid(), cluster_of(room["id"])),
            "roomId": room["id"],
            "roomType": room["type"],
            "text": text,
            "personId": author["id"],
            "personEmail": author["emails"][0],
            "created": created,
        }

    def decorate(self, message: dict, authors: list[dict], created: str, later: list[str]) -> None:
        """Turn a plain message into a markdown, mention, card, file or hostile one."""
        roll = self.rng.random()
        if roll < 0.20:
            markdown(self.rng, message, HOME_DOMAIN)
        elif roll < 0.30:
            mention(self.rng, message, self.rng.choice(authors))
        elif roll < 0.32 and message["roomType"] == "group":
            mention_all(self.rng, message)
        elif roll < 0.34:
            card(self.rng, message)
        elif roll < 0.34 + self.hostile_rate:
            hostile.apply(message, *self.rng.choice(hostile.MESSAGES))
        if self.rng.random() < 0.06:
            self.attach(message, voice=self.rng.random() < 0.05)
        if self.rng.random() < 0.05:
            limit = later[0] if later else format_time(self.end)
            edited = min(add_ms(created, self.rng.randint(1000, 600_000)), limit)
            if edited > created:
                message["text"] = message.get("text", "") + " (edited)"
                if "markdown" in message:
                    message["markdown"] += " (edited)"
                    message["html"] = message["html"].replace("</p>", " (edited)</p>", 1)
                message["updated"] = edited

    def attach(self, message: dict, voice: bool = False) -> None:
        count = 1 if voice else self.rng.choice([1, 1, 1, 2, 3])
        message_uuid = id_uuid(message["id"])
        ids = []
        for index in range(count):
            if voice:
                name, kind = "voice message.m4a", "audio/mp4"
            else:
                name, kind = self.rng.choice(FILES)
            content = Content(
                id=make_id("CONTENT", f"{message_uuid}/{index}", cluster_of(message["roomId"])),
                filename=name,
                content_type=kind,
                recipe=self.recipe(kind),
            )
            self.ds.contents[content.id] = content
            ids.append(content.id)
        message["files"] = ids
        if voice:
            message["isVoiceClip"] = True
        if voice or self.rng.random() < 0.3:
            message.pop("text", None)  # a file posted on its own carries no text
            message.pop("markdown", None)
            message.pop("html", None)

    def plant_hostile(self, room: dict) -> None:
        """Make sure every hostile message and file name occurs at least once in ``room``."""
        candidates = [m for m in self.ds.messages.values() if m["roomId"] == room["id"]]
        chosen = self.rng.sample(
            candidates, min(len(candidates), len(hostile.MESSAGES) + len(hostile.FILE_NAMES))
        )
        for message, (text, html) in zip(chosen, hostile.MESSAGES, strict=False):
            hostile.apply(message, text, html)
        for message, name in zip(chosen[len(hostile.MESSAGES) :], hostile.FILE_NAMES, strict=False):
            message_uuid = id_uuid(message["id"])
            content = Content(
                id=make_id("CONTENT", f"{message_uuid}/9", cluster_of(room["id"])),
                filename=name,
                content_type="application/octet-stream",
                recipe=self.recipe("application/octet-stream"),
            )
            self.ds.contents[content.id] = content
            message["files"] = [*message.get("files", []), content.id]
            self.ds.messages[message["id"]] = _ordered(message)

    def recipe(self, content_type: str) -> Recipe:
        seed = self.rng.getrandbits(32)
        if content_type == "image/png":
            return Recipe(
                "png", seed, width=self.rng.randint(40, 160), height=self.rng.randint(30, 120)
            )
        if content_type == "image/svg+xml":
            return Recipe("svg", seed)
        return Recipe("filler", seed, size=self.rng.randint(200, 60_000))


def generate(
    seed: int = 1,
    spaces: int = 3,
    messages: int = 200,
    people: int = 12,
    end: datetime | None = None,
    span_days: float = 900,
    hostile_rate: float = 0.01,
) -> DataSet:
    """Build a data set: ``spaces`` group spaces of ``messages`` messages each, one direct space.

    ``end`` (default: now) is the newest message's time, give or take a day; history reaches
    back ``span_days``. ``hostile_rate`` is the share of messages made hostile (0 turns hostile
    content off everywhere, also in titles, names and file names).
    """
    end = (end or datetime.now(timezone.utc)).replace(microsecond=0)
    builder = _Builder(seed, end, span_days, hostile_rate)
    owner, everyone, bot, ghost = builder.make_people(max(people, 3))
    for index in range(spaces):
        title = TITLES[index % len(TITLES)]
        if hostile_rate and index == 2:
            title = hostile.TITLE
        cluster = "urn:TEAM:us-west-2_r" if index == 1 else "us"
        room = builder.room(title, "group", owner, cluster)
        members = everyone if index == 0 else [owner, *builder.rng.sample(everyone[1:], 4)]
        builder.join(room, [*members, bot] if index == 0 else members, moderator=owner)
        builder.fill_messages(room, members, ghost if index == 0 else None, messages)
    if hostile_rate and spaces:
        builder.plant_hostile(room)
    other = everyone[1]
    direct = builder.room(other["displayName"], "direct", owner)
    builder.join(direct, [owner, other])
    builder.fill_messages(direct, [owner, other], None, max(5, messages // 10))
    builder.ds.add_integration(default_integration())
    return builder.ds


def _ordered(message: dict) -> dict:
    """Keys in the order Webex sends them, optional ones only when present."""
    order = (
        "id",
        "parentId",
        "roomId",
        "roomType",
        "text",
        "markdown",
        "html",
        "files",
        "personId",
        "personEmail",
        "mentionedPeople",
        "mentionedGroups",
        "attachments",
        "created",
        "updated",
        "isVoiceClip",
    )
    return {key: message[key] for key in order if key in message}

"""Pure transforms of render/model.py: rows to items, local times across DST, months, sizes,
initials."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from render.clock import Clock, stamp
from render.model import (
    Context,
    Item,
    Pseudonyms,
    attachment_summary,
    human_size,
    initials,
    items,
    local_time,
    sections,
)
from render.window import COLUMNS
from tests.render.conftest import make_item


def test_daylight_saving_time_is_applied_per_message():
    amsterdam, sao_paulo = ZoneInfo("Europe/Amsterdam"), ZoneInfo("America/Sao_Paulo")
    assert (
        local_time("2024-03-31T00:30:00.000Z", amsterdam).isoformat() == "2024-03-31T01:30:00+01:00"
    )
    assert (
        local_time("2024-03-31T01:30:00.000Z", amsterdam).isoformat() == "2024-03-31T03:30:00+02:00"
    )
    # Brazil's last summer time began on 2018-11-04 at 00:00 local time.
    assert (
        local_time("2018-11-04T02:30:00.000Z", sao_paulo).isoformat() == "2018-11-03T23:30:00-03:00"
    )
    assert (
        local_time("2018-11-04T03:30:00.000Z", sao_paulo).isoformat() == "2018-11-04T01:30:00-02:00"
    )


def item(month: tuple[int, int], ident: str) -> Item:
    return make_item(id=ident, thread=ident, month=month)


def row(**values: object) -> tuple:
    """A row of render/window.py as its SQL gives it: every column, in COLUMNS' order."""
    return tuple(values.get(name) for name in COLUMNS)


def test_rows_become_items_column_by_column(tmp_path: Path):
    """Each column of a row lands in its own field: a swapped pair of columns fails here."""
    files = json.dumps([{"name": "a.png", "content_type": "image/png", "size": 2048,
                         "status": "downloaded", "local_path": "s/files/a.png"}])  # fmt: skip
    message = row(id="m2", in_window=1, anchor="2024-03-01T09:00:00.000Z", archived=1,
                  parent_id="m1", created="2024-03-01T10:00:00.000Z", person_id="p1",
                  email="ann@other.org", text="hello", html=None, cards="[{}]",
                  updated="2024-03-01T10:05:00.000Z", deleted="2024-03-02T00:00:00.000Z",
                  name="Ann Example", org_id="org-b", avatar_url="https://a.test/ann",
                  avatar_path="s/avatars/ann.png", files=files, deleted_exact=1)  # fmt: skip
    lost = row(id="m0", in_window=0, anchor="2024-02-29T23:30:00.000Z", archived=0)
    ctx = Context(zone=ZoneInfo("Europe/Amsterdam"), me_org="org-a", me_domain="example.com",
                  output_dir=tmp_path / "out", archive_dir=tmp_path, avatars="local")  # fmt: skip
    got = list(items([lost, message], ctx))
    assert [{name: getattr(item, name) for name in Item.__slots__} for item in got] == [
        {"id": "m0", "kind": "placeholder", "is_reply": False, "in_window": False,
         "thread": "m0", "created": None, "updated": None, "deleted": None,
         "deleted_exact": False, "month": (2024, 3), "author": "", "email": "",
         "author_id": None, "external": False,
         "avatar": None, "body": "", "plain": "", "card": False, "files": [],
         "group_start": True, "source": None},
        {"id": "m2", "kind": "message", "is_reply": True, "in_window": True, "thread": "m1",
         "created": "2024-03-01T10:00:00.000Z", "updated": "2024-03-01T10:05:00.000Z",
         "deleted": "2024-03-02T00:00:00.000Z", "deleted_exact": True, "month": (2024, 3),
         "author": "Ann Example",
         "email": "ann@other.org", "author_id": "p1", "external": True,
         "avatar": "../s/avatars/ann.png", "body": "hello", "plain": "hello", "card": True,
         "files": [{"name": "a.png", "size": 2048, "size_text": "2.0 KB",
                    "content_type": "image/png", "image": True, "href": "../s/files/a.png",
                    "label": "", "local_path": "s/files/a.png"}],
         "group_start": True, "source": None},
    ]  # fmt: skip
    ctx.later = True  # the writer makes the bodies (the mails): the row's html and text kept
    got = list(items([lost, message], ctx))
    assert [(i.body, i.plain, i.source) for i in got] == [
        ("", "", (None, None)),
        ("", "", (None, "hello")),
    ]


def test_months_are_compared_by_year_and_month():
    stream = [item((2020, 1), "a"), item((2021, 1), "b"), item((2021, 1), "c")]
    found = [(s.year, s.month, [i.id for i in s.items]) for s in sections(stream)]
    assert found == [(2020, 1, ["a"]), (2021, 1, ["b", "c"])]


def test_sizes_and_initials():
    assert [human_size(n) for n in (None, 0, 1023, 1024, 1536, 5 * 1024**2, 3 * 1024**3)] == [
        "size unknown",
        "0 B",
        "1023 B",
        "1.0 KB",
        "1.5 KB",
        "5.0 MB",
        "3.0 GB",
    ]
    assert [
        initials(n)
        for n in ("Ada Lovelace", "grace", "former.colleague@example.com", "Zoë Ødegård")
    ] == ["AL", "GR", "FC", "ZØ"]


@pytest.mark.parametrize(
    ("kind", "parts"),
    [
        ({"count": 0, "bytes": 0, "sized": 0, "downloaded": 0}, ["0"]),
        ({"count": 2, "bytes": 3072, "sized": 2, "downloaded": 2}, ["2", "3.0 KB (mean 1.5 KB)"]),
        ({"count": 3, "bytes": 1024, "sized": 1, "downloaded": 0},
         ["3", "1.0 KB (mean 1.0 KB)", "2 of unknown size", "3 not downloaded"]),
        ({"count": 1200, "bytes": 0, "sized": 0, "downloaded": 1},
         ["1,200", "1,200 of unknown size", "1,199 not downloaded"]),
    ],
)  # fmt: skip
def test_attachment_summary(kind: dict, parts: list[str]):
    """The same words for HTML and TXT, each with its own separator."""
    assert attachment_summary(kind, ", ") == ", ".join(parts)
    assert attachment_summary(kind, " · ") == " · ".join(parts)


def test_pseudonyms_are_stable_and_cover_names_and_emails():
    blur = Pseudonyms.build([("p2", "Grace Hopper", "grace@x.org"), ("p1", "Ada", "ada@x.org")])
    assert (blur.name("p1"), blur.name("p2"), blur.email("p2")) == (
        "Person 1",
        "Person 2",
        "person2@hidden",
    )
    assert blur.replacements == {
        "Ada": "Person 1",
        "ada@x.org": "person1@hidden",
        "Grace Hopper": "Person 2",
        "grace@x.org": "person2@hidden",
    }


@pytest.mark.parametrize(
    "zone", ["Europe/Amsterdam", "America/Sao_Paulo", "Asia/Kolkata", "America/St_Johns", "UTC"]
)
def test_the_clock_agrees_with_zoneinfo_around_transitions(zone: str):
    """render/clock.py works once per UTC hour; every text it makes must be zoneinfo's: every
    11 hours for 14 months, and every 7 minutes of the 11 hours around each offset change."""
    clock, tz = Clock(ZoneInfo(zone)), ZoneInfo(zone)
    start = datetime(2018, 1, 1, 0, 0, 7, 123000, tzinfo=timezone.utc)
    coarse = [start + timedelta(hours=11 * n) for n in range(14 * 30 * 24 // 11)]
    moments = list(coarse)
    for before, after in itertools.pairwise(coarse):
        if before.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset():
            moments += [before + timedelta(minutes=7 * n) for n in range(11 * 60 // 7 + 1)]
    for moment in moments:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        for form in (text, text[:19] + "Z"):  # the archive's form, and one for the exact path
            local = local_time(form, tz)
            assert clock.iso_ms(form) == local.isoformat(timespec="milliseconds")
            assert clock.iso(form) == local.isoformat(timespec="seconds")
            assert clock.when(form) == f"{local:%a} {local.day} {local:%b %Y %H:%M}"
            assert (clock.stamp(form), clock.clock(form)) == (stamp(local), f"{local:%H:%M}")
            assert clock.month(form) == (local.year, local.month)
            assert clock.date(form) == local.date().isoformat()


@pytest.mark.parametrize(
    "zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "Europe/Amsterdam", "UTC"]
)
def test_the_local_date_turns_at_its_minute(zone: str):
    """``Clock.date`` answers a steady UTC day by comparing the time with the minute at which
    the local date turns (RSMF asks it for every thread): every minute of a day (+14:00,
    -11:00, +05:45, a day with a change of offset, none) must give zoneinfo's date."""
    clock, tz = Clock(ZoneInfo(zone)), ZoneInfo(zone)
    for day in ("2024-03-31", "2024-07-01"):
        for minute in range(1440):
            for second in ("00.000", "59.999"):
                text = f"{day}T{minute // 60:02d}:{minute % 60:02d}:{second}Z"
                assert clock.date(text) == local_time(text, tz).date().isoformat(), text


@pytest.mark.parametrize(
    "zone",
    ["Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns", "Europe/Amsterdam", "UTC",
     "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York"],
)  # fmt: skip
def test_mail_dates_kept_per_day_are_zoneinfos(zone: str):
    """``Clock.mail`` keeps the local date and hour of each hour of a steady UTC day whose
    offset is whole hours: every 7th minute of days with a change of offset (Lord Howe's is
    half an hour, New York's and Amsterdam's an hour), of steady days, at offsets of whole
    hours east and west (+14:00, -11:00, -04:00) and not (+05:45, -02:30), asked forwards
    (each day kept at its first time) and backwards (all kept), must give zoneinfo's Date."""
    clock, tz = Clock(ZoneInfo(zone)), ZoneInfo(zone)
    days = ("2024-04-06", "2024-04-07", "2024-10-06", "2024-03-31", "2024-07-01", "2024-03-10",
            "2024-11-03", "2024-12-31")  # fmt: skip
    texts = [
        f"{day}T{minute // 60:02d}:{minute % 60:02d}:{second}Z"
        for day in days
        for minute in range(0, 1440, 7)
        for second in ("00.000", "59.999")
    ]
    for text in texts + texts[::-1]:
        assert clock.mail(text) == f"{local_time(text, tz):%a, %d %b %Y %H:%M:%S %z}", text


def test_a_mail_date_with_other_digits_is_not_copied():
    """The kept hour copies the minute and second as they are, so a time whose digits are not
    ASCII (the archive's form allows any decimal digit) takes the path that reads them."""
    clock = Clock(timezone.utc)
    assert clock.mail("2024-06-19T11:36:41.616Z") == "Wed, 19 Jun 2024 11:36:41 +0000"
    assert clock.mail("2024-06-19T11:\u0663\u0666:41.616Z") == "Wed, 19 Jun 2024 11:36:41 +0000"

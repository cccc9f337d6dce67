"""Straight checks of 好差评's indicators: the same cells, counted from every row of the live tables
in Python (no filter in SQL, no call to the indicators' `compute`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tongban.ratings.models import Rating, Rectification

Cells = dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]]
_SHANGHAI = ZoneInfo("Asia/Shanghai")


def _day(at: dt.datetime) -> dt.date:
    return at.astimezone(_SHANGHAI).date()


def _ratings(session: Any) -> list[Rating]:
    return list(session.scalars(select(Rating)))


def good_rate(session: Any, *, day_from: dt.date, day_to: dt.date) -> Cells:
    out: Cells = defaultdict(lambda: {"rated": 0.0, "good": 0.0})
    for r in _ratings(session):
        if r.excluded or not day_from <= _day(r.rated_at) <= day_to:
            continue
        cell = out[(_day(r.rated_at), r.region_code, (r.department_id, r.item_id))]
        cell["rated"] += 1
        if r.level in (3, 4, 5):
            cell["good"] += 1
    return dict(out)


def bad(session: Any, *, day_from: dt.date, day_to: dt.date) -> Cells:
    out: Cells = defaultdict(lambda: {"bad": 0.0})
    for r in _ratings(session):
        if not r.excluded and r.level in (1, 2) and day_from <= _day(r.rated_at) <= day_to:
            out[(_day(r.rated_at), r.region_code, (r.department_id,))]["bad"] += 1
    return dict(out)


def rectification(session: Any, *, day_from: dt.date, day_to: dt.date) -> Cells:
    excluded = {r.id for r in _ratings(session) if r.excluded}
    out: Cells = defaultdict(lambda: {"answered": 0.0, "days": 0.0, "on_time": 0.0})
    for x in session.scalars(select(Rectification)):
        if x.replied_at is None or x.rating_id in excluded or not day_from <= _day(x.replied_at) <= day_to:
            continue
        cell = out[(_day(x.replied_at), x.region_code, (x.department_id,))]
        cell["answered"] += 1
        cell["days"] += x.working_days or 0
        cell["on_time"] += 1 if _day(x.replied_at) <= x.reply_due else 0
    return dict(out)


STRAIGHT = {"ratings.good_rate": good_rate, "ratings.bad": bad, "ratings.rectification": rectification}

"""The figures 好差评 publishes for the cockpit (contract: `tongban.core.indicators`): 好评率 per
department and item, 差评 per department, and the working days a rectification took to be answered.
A rating taken out of the statistics by an upheld appeal is counted in none of them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.i18n import N_, pick
from tongban.core.indicators import Cell, Indicator
from tongban.ratings.models import Rating, Rectification
from tongban.ratings.service import BAD, GOOD, utc_range


def _cells(sums: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]]) -> list[Cell]:
    return [Cell(day, region, key, dict(values)) for (day, region, key), values in sorted(sums.items())]


def good_rate(session: Session, *, day_from: dt.date, day_to: dt.date) -> Iterable[Cell]:
    start, end = utc_range(day_from, day_to)
    sums: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]] = defaultdict(lambda: {"rated": 0, "good": 0})
    for at, region, dept, item, level in session.execute(
            select(Rating.rated_at, Rating.region_code, Rating.department_id, Rating.item_id, Rating.level)
            .where(Rating.rated_at >= start, Rating.rated_at < end, Rating.excluded.is_(False))):
        cell = sums[(clock.local_date(at), region, (dept, item))]
        cell["rated"] += 1
        cell["good"] += level >= GOOD
    return _cells(sums)


def bad(session: Session, *, day_from: dt.date, day_to: dt.date) -> Iterable[Cell]:
    start, end = utc_range(day_from, day_to)
    sums: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]] = defaultdict(lambda: {"bad": 0})
    for at, region, dept in session.execute(
            select(Rating.rated_at, Rating.region_code, Rating.department_id)
            .where(Rating.rated_at >= start, Rating.rated_at < end, Rating.excluded.is_(False), Rating.level <= BAD)):
        sums[(clock.local_date(at), region, (dept,))]["bad"] += 1
    return _cells(sums)


def rectification(session: Session, *, day_from: dt.date, day_to: dt.date) -> Iterable[Cell]:
    start, end = utc_range(day_from, day_to)
    sums: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]] = defaultdict(
        lambda: {"answered": 0, "days": 0, "on_time": 0})
    for at, region, dept, days, due in session.execute(
            select(Rectification.replied_at, Rectification.region_code, Rectification.department_id,
                   Rectification.working_days, Rectification.reply_due)
            .join(Rating, Rating.id == Rectification.rating_id)
            .where(Rectification.replied_at >= start, Rectification.replied_at < end, Rating.excluded.is_(False))):
        if at is None:
            continue
        day = clock.local_date(at)
        cell = sums[(day, region, (dept,))]
        cell["answered"] += 1
        cell["days"] += days or 0
        cell["on_time"] += day <= due
    return _cells(sums)


def value_labels(session: Session, dimension: str) -> dict[str, str]:
    """A service item by the title it had when rated (the latest rating's)."""
    if dimension != "item":
        return {}
    latest = select(Rating.item_id, func.max(Rating.id).label("id")).group_by(Rating.item_id).subquery()
    return {i: pick(t) for i, t in session.execute(
        select(Rating.item_id, Rating.item_title).join(latest, latest.c.id == Rating.id))}


INDICATORS = (
    Indicator(key="ratings.good_rate", label=N_("Share of good ratings (好评率)"),
              definition=N_("Ratings of very satisfied, satisfied or basically satisfied, out of all ratings given "
                            "that day; ratings removed on appeal are not counted."),
              measures=("rated", "good"), show="ratio", of=("good", "rated"), compute=good_rate,
              dimensions=("department", "item"), subjects="rated", unit="%",
              measure_labels={"rated": N_("Ratings"), "good": N_("Good ratings")},
              dimension_labels={"department": N_("Department"), "item": N_("Service")}, value_labels=value_labels),
    Indicator(key="ratings.bad", label=N_("Poor ratings (差评)"),
              definition=N_("Ratings of dissatisfied or very dissatisfied given that day; ratings removed on appeal "
                            "are not counted."),
              measures=("bad",), show="count", of=("bad",), compute=bad, dimensions=("department",), subjects="bad",
              unit=N_("ratings"), measure_labels={"bad": N_("Poor ratings")},
              dimension_labels={"department": N_("Department")}),
    Indicator(key="ratings.rectification", label=N_("Working days to answer a poor rating (整改)"),
              definition=N_("For each poor rating answered that day: the working days from the rating to the "
                            "department's answer, on average."),
              measures=("answered", "days", "on_time"), show="mean", of=("days", "answered"), compute=rectification,
              dimensions=("department",), subjects="answered", unit=N_("working days"),
              measure_labels={"answered": N_("Answered"), "days": N_("Working days"), "on_time": N_("Answered in time")},
              dimension_labels={"department": N_("Department")}),
)

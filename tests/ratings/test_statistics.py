"""The statistics (page, API, cockpit) equal a count from the raw ratings: a service history of
ratings with 差评, rectifications and an upheld appeal, counted once by `service.statistics`, once
by each indicator and once straight from the rows."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sqlalchemy import select

from tests.cockpit.straight.ratings import STRAIGHT
from tests.ratings import factories
from tongban.core import clock as clockmod
from tongban.core.indicators import History
from tongban.ratings import history, service
from tongban.ratings.indicators import INDICATORS
from tongban.ratings.models import Rating, Rectification

DEPARTMENTS = ("dept.haishu.cdc", "dept.haishu.health", "dept.haishu.market")


def _history(db, clock) -> tuple[dt.date, dt.date]:  # type: ignore[no-untyped-def]
    """Completed applications and closed cases over ten days, then the ratings part over forty."""
    rng = random.Random(3)
    start = dt.date(2025, 6, 2)
    with db.unit_of_work() as s:
        for offset in range(10):
            clock.set(dt.datetime.combine(start + dt.timedelta(days=offset), dt.time(9 + offset % 8), clockmod.SHANGHAI))
            for _ in range(6):
                dept = rng.choice(DEPARTMENTS)
                item = {"dept.haishu.cdc": "item.vaccination", "dept.haishu.health": "item.birth-certificate",
                        "dept.haishu.market": "item.vaccination"}[dept]
                factories.completed_application(s, username=rng.choice(("resident.zhang", "resident.li")),
                                                item_id=item, department_id=dept,
                                                region_code=rng.choice(("330203001001", "330203005001")))
            factories.closed_case(s)
    end = start + dt.timedelta(days=40)  # the rectifications have time to be answered
    clock.set(end + dt.timedelta(days=1))
    with db.unit_of_work() as s:
        written = history.PART.write(History(session=s, seed=11, start=start, end=end, persons=100))
        assert written > 30
    with db.unit_of_work() as s:  # an upheld appeal takes one 差评 out
        bad = s.scalars(select(Rating).where(Rating.level <= 2).order_by(Rating.id)).first()
        assert bad is not None
        bad.excluded = True
    return start, end


def test_the_statistics_equal_a_count_from_the_raw_ratings(db, demo, clock) -> None:  # type: ignore[no-untyped-def]
    start, end = _history(db, clock)
    with db.unit_of_work() as s:
        rows = s.scalars(select(Rating)).all()
        rects = {r.rating_id: r for r in s.scalars(select(Rectification))}
        assert any(r.level <= 2 for r in rows) and any(x.status == "replied" for x in rects.values())
        assert any(r.excluded for r in rows)
        for by in ("department", "item"):
            expected: dict[str, Counter[str]] = {}
            for r in rows:
                if r.excluded or not start <= clockmod.local_date(r.rated_at) <= end:
                    continue
                c = expected.setdefault(r.department_id if by == "department" else r.item_id, Counter())
                c["rated"] += 1
                c["good"] += r.level >= 3
                c["bad"] += r.level <= 2
                x = rects.get(r.id)
                if x is not None:
                    c["rects"] += 1
                    c["answered"] += x.status == "replied"
                    c["days"] += x.working_days or 0 if x.status == "replied" else 0
            got = {f.key: Counter({"rated": f.rated, "good": f.good, "bad": f.bad, "rects": f.rectifications,
                                   "answered": f.answered, "days": f.working_days})
                   for f in service.statistics(s, day_from=start, day_to=end, by=by)}
            assert {k: +v for k, v in got.items()} == {k: +v for k, v in expected.items()}, by


def test_each_indicator_equals_its_straight_check(db, demo, clock) -> None:  # type: ignore[no-untyped-def]
    start, end = _history(db, clock)
    later = end + dt.timedelta(days=30)  # rectifications answered after the ratings' period
    with db.unit_of_work() as s:
        assert {i.key for i in INDICATORS} == set(STRAIGHT)
        for indicator in INDICATORS:
            cells = {(c.day, c.region, c.key): dict(c.values) for c in indicator.compute(s, day_from=start, day_to=later)}
            assert cells, indicator.key
            assert cells == STRAIGHT[indicator.key](s, day_from=start, day_to=later), indicator.key


def test_the_history_part_is_deterministic_for_a_seed(db, demo, clock) -> None:  # type: ignore[no-untyped-def]
    _history(db, clock)
    with db.unit_of_work() as s:
        first = [(r.subject_kind, r.subject_id, r.level, r.rated_at) for r in s.scalars(select(Rating).order_by(Rating.id))]
        for x in s.scalars(select(Rectification)):
            s.delete(x)
        s.flush()
        for r in s.scalars(select(Rating)):
            s.delete(r)
    with db.unit_of_work() as s:
        history.PART.write(History(session=s, seed=11, start=dt.date(2025, 6, 2), end=dt.date(2025, 7, 12), persons=100))
    with db.unit_of_work() as s:
        again = [(r.subject_kind, r.subject_id, r.level, r.rated_at) for r in s.scalars(select(Rating).order_by(Rating.id))]
    assert again == first

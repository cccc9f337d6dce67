"""Straight checks of the screening indicators: runs, counts, offers and alerts read as rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.cockpit.straight_util import SHANGHAI, Cells, Tally, day_of
from tongban.screening.models import Offer, RiskAlert, ScreeningCount, ScreeningRun


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)


def coverage(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    end = _end_of(day_to)
    runs = {r.id: r for r in session.scalars(select(ScreeningRun))}
    latest: dict[tuple[str, str], ScreeningCount] = {}
    for c in session.scalars(select(ScreeningCount)):
        run = runs[c.run_id]
        if run.status != "done" or run.finished_at is None or run.finished_at >= end:
            continue
        key = (c.policy_id, c.region_code)
        if key not in latest or latest[key].run_id < c.run_id:
            latest[key] = c
    t = Tally(("screened", "eligible", "enrolled", "not_enrolled"))
    for (policy, region), c in latest.items():
        t.add(day_to, region, (policy,), screened=c.subjects, eligible=c.eligible, enrolled=c.enrolled,
              not_enrolled=c.not_enrolled)
    return t.result()


def offers(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    t = Tally(("offers", "applied", "declined"))
    for o in session.scalars(select(Offer)):
        day = day_of(o.created_at)
        if day is not None and day_from <= day <= day_to:
            t.add(day, o.region_code, (o.policy_id, o.channel), offers=1, applied=o.status == "applied",
                  declined=o.status == "declined")
    return t.result()


def alerts(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    t = Tally(("raised", "closed"))
    for a in session.scalars(select(RiskAlert)):
        raised, acted = day_of(a.created_at), day_of(a.acted_at)
        if raised is not None and day_from <= raised <= day_to:
            t.add(raised, a.region_code, (a.rule_id, a.severity), raised=1)
        if a.status == "closed" and acted is not None and day_from <= acted <= day_to:
            t.add(acted, a.region_code, (a.rule_id, a.severity), closed=1)
    return t.result()


def alerts_open(session, *, day_from: dt.date, day_to: dt.date) -> Cells:  # type: ignore[no-untyped-def]
    end = _end_of(day_to)
    t = Tally(("open",))
    for a in session.scalars(select(RiskAlert)):
        closed_by_then = a.status == "closed" and (a.acted_at is None or a.acted_at < end)
        if a.created_at < end and not closed_by_then:
            t.add(day_to, a.region_code, (a.rule_id, a.severity), open=1)
    return t.result()


STRAIGHT = {"screening.coverage": coverage, "screening.offer_take_up": offers, "screening.alerts": alerts,
            "screening.alerts_open": alerts_open}

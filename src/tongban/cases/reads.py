"""What the case engine publishes about closed cases for the slices above it (ratings, 好差评): plain
records, never the tables; and the one write they may make — a rating noted on the case's timeline.
Published in slice.py as `cases.closed_case`, `cases.closed_cases` and `cases.note_rating`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.cases.models import Case, CaseCategory, CaseEvent
from tongban.core import clock

# Told of a rating given through the case engine itself (the reporter's `POST /cases/{id}/rate`,
# the operator's 回访): `fn(session, *, case_id, level, channel, principal)` records it. The ratings
# slice contributes the one listener; the case engine keeps no rating of its own.
RATED = "cases.rated"


@dataclass(frozen=True)
class ClosedCase:
    id: int
    reporter_account_id: int | None
    department_id: str | None
    region_code: str
    category_id: str
    title: dict[str, str]  # the category's title
    closed_at: dt.datetime


def _record(case: Case, category: CaseCategory | None) -> ClosedCase:
    assert case.closed_at is not None
    title = dict(category.definition["title"]) if category is not None else {"zh": case.category_id, "en": case.category_id}
    return ClosedCase(id=case.id, reporter_account_id=case.reporter_account_id, department_id=case.department_id,
                      region_code=case.region_code, category_id=case.category_id, title=title, closed_at=case.closed_at)


def closed_case(session: Session, case_id: int) -> ClosedCase | None:
    """The case if it is closed (办结), else None."""
    case = session.get(Case, case_id)
    if case is None or case.closed_at is None:
        return None
    return _record(case, session.get(CaseCategory, case.category_id))


def closed_cases(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[ClosedCase]:
    """Every case closed on a day (Asia/Shanghai) of the period, oldest first."""
    start = dt.datetime.combine(day_from, dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    cats = {c.id: c for c in session.scalars(select(CaseCategory))}
    return [_record(c, cats.get(c.category_id)) for c in session.scalars(
        select(Case).where(Case.closed_at >= start, Case.closed_at < end).order_by(Case.closed_at, Case.id))]


def note_rating(session: Session, *, case_id: int, level: int, channel: str, actor: str) -> None:
    """评价 on the case's timeline (the rating itself is the ratings slice's)."""
    case = session.get(Case, case_id)
    if case is None:
        return
    session.add(CaseEvent(case_id=case.id, at=clock.now(), kind="rated", actor=actor, department_id=None,
                          details={"rating": level, "channel": channel}))


def rating_of(session: Session, case: Case) -> int | None:
    """The case's rating as its timeline shows it (the latest 评价, or a 回访 that recorded one)."""
    for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                     CaseEvent.kind.in_(("rated", "visited")))
                             .order_by(CaseEvent.id.desc())):
        if e.details.get("rating") is not None:
            return int(e.details["rating"])
    return None


def closed_cases_of(session: Session, account_id: int, *, limit: int = 50) -> list[ClosedCase]:
    """The reporter's own closed cases, newest first."""
    cats = {c.id: c for c in session.scalars(select(CaseCategory))}
    return [_record(c, cats.get(c.category_id)) for c in session.scalars(
        select(Case).where(Case.reporter_account_id == account_id, Case.closed_at.is_not(None))
        .order_by(Case.closed_at.desc(), Case.id.desc()).limit(limit))]


def closed_cases_written(session: Session, cases: Any, *, day_from: dt.date, day_to: dt.date,
                         batch: int = 100_000) -> Iterator[list[ClosedCase]]:
    """`closed_cases` over cases written as Parquet by the service history (`cases`: a Polars
    LazyFrame of the `case_case` columns), in the same order, in batches."""
    import polars as pl

    start = dt.datetime.combine(day_from, dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    cats = {c.id: c for c in session.scalars(select(CaseCategory))}
    frame = (cases.filter(pl.col("closed_at") >= start, pl.col("closed_at") < end)
             .select("id", "reporter_account_id", "department_id", "region_code", "category_id", "closed_at")
             .sort("closed_at", "id").collect())
    for part in frame.iter_slices(batch):
        out = []
        for r in part.iter_rows(named=True):
            cat = cats.get(r["category_id"])
            title = (dict(cat.definition["title"]) if cat is not None
                     else {"zh": r["category_id"], "en": r["category_id"]})
            out.append(ClosedCase(id=r["id"], reporter_account_id=r["reporter_account_id"],
                                  department_id=r["department_id"], region_code=r["region_code"],
                                  category_id=r["category_id"], title=title, closed_at=r["closed_at"]))
        yield out

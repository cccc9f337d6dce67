"""好差评's part of the service history (`cockpit.history`, order 50): ratings of the applications the
services part completed and of the cases the cases part closed — found through the reads those
slices publish — with their share of 差评, each 差评's rectification, most of them answered.
Deterministic for a seed; written straight into this slice's own tables (no messages, no audit:
it is a past, not a present)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select

from tongban.core import clock, slices, workdays
from tongban.core.history_sink import ParquetSink, Sink, sink_of
from tongban.core.indicators import History, HistoryPart
from tongban.ratings.models import Rating, Rectification
from tongban.ratings.service import BAD, limits

RATED_SHARE = 0.6  # of finished things, the share the resident rates
LEVELS = (5, 4, 3, 2, 1)
WEIGHTS = (70, 18, 6, 4, 2)  # 差评 about 6 % (national figures report a 好评率 near 99 %; a demo shows some)
ANSWERED_SHARE = 0.85


CHUNK = 50_000  # things rated, then written, at a time

_Thing = tuple[str, int, dict[str, str], str, str, str, dt.datetime, int | None, int | None]


def _things(history: History) -> Iterator[list[_Thing]]:
    """What may be rated, in batches: the completed applications, then the closed cases — from the
    database, or from what the services and cases parts wrote to the history's Parquet sink."""
    session = history.session
    sink = sink_of(history)
    if isinstance(sink, ParquetSink):
        apps, tasks, cases = sink.scan("svc_application"), sink.scan("svc_task"), sink.scan("case_case")
        app_batches: Iterable[list[Any]] = (slices.read("services.completed_applications_written")(
            session, apps, tasks, day_from=history.start, day_to=history.end) if apps is not None and tasks is not None
            else [])
        case_batches: Iterable[list[Any]] = (slices.read("cases.closed_cases_written")(
            session, cases, day_from=history.start, day_to=history.end) if cases is not None else [])
    else:
        app_batches = [slices.read("services.completed_applications")(session, day_from=history.start,
                                                                      day_to=history.end)]
        case_batches = [slices.read("cases.closed_cases")(session, day_from=history.start, day_to=history.end)]
    for batch in app_batches:
        yield [("application", app.id, app.title, app.department_id, app.region_code, app.subject_item,
                app.finished_at, app.applicant_account_id, app.id) for app in batch]
    for batch in case_batches:
        yield [("case", case.id, case.title, case.department_id, case.region_code, case.category_id,
                case.closed_at, case.reporter_account_id, None) for case in batch if case.department_id is not None]


def write(history: History) -> int:
    session = history.session
    sink = sink_of(history)
    rng = random.Random(f"ratings:{history.seed}")
    calendar = workdays.calendar(session)
    days = limits(session)
    rated = {(k, i) for k, i in session.execute(select(Rating.subject_kind, Rating.subject_id))}
    last = dt.datetime.combine(history.end + dt.timedelta(days=1), dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    written = 0
    ratings: list[dict[str, Any]] = []
    rects: list[tuple[int, dict[str, Any]]] = []  # (index in ratings, the rectification)
    for things in _things(history):
        for kind, subject_id, title, department, region, item, finished, rater, application_id in things:
            if rng.random() >= RATED_SHARE or (kind, subject_id) in rated or not department:
                continue
            level = rng.choices(LEVELS, WEIGHTS)[0]
            at = min(finished + dt.timedelta(minutes=rng.randint(5, 72 * 60)), last - dt.timedelta(seconds=1))
            ratings.append(dict(
                subject_kind=kind, subject_id=subject_id, application_id=application_id, level=level, dimensions={},
                tags=[], comment=None, channel=rng.choice(("online", "online", "onsite")), rater_account_id=rater,
                recorded_by="system:history", department_id=department, region_code=region, item_id=item,
                item_title=dict(title), rated_at=at, excluded=False, excluded_at=None))
            if level <= BAD:
                opened = clock.local_date(at)
                rect: dict[str, Any] = dict(
                    department_id=department, region_code=region, status="open", opened_on=opened,
                    visit_due=calendar.add_working_days(opened, days["visit_days"]),
                    rectify_due=calendar.add_working_days(opened, days["rectify_days"]),
                    reply_due=calendar.add_working_days(opened, days["reply_days"]), visited_at=None, visit_note=None,
                    rectified_at=None, rectify_note=None, replied_at=None, reply=None, working_days=None,
                    follow_up_level=None, follow_up_at=None, overdue_at=None, handled_by=None, version=1,
                    created_at=at)
                took = rng.randint(1, days["reply_days"] + 3)
                replied_on = calendar.add_working_days(opened, took)
                if rng.random() < ANSWERED_SHARE and replied_on <= history.end:
                    replied = dt.datetime.combine(replied_on, dt.time(16), clock.SHANGHAI).astimezone(dt.UTC)
                    rect.update(status="replied", visited_at=at + dt.timedelta(hours=20), visit_note="已电话回访",
                                rectified_at=replied, rectify_note="已整改", replied_at=replied, reply="已整改并答复",
                                working_days=took)
                rects.append((len(ratings) - 1, rect))
            if len(ratings) >= CHUNK:
                written += _flush(sink, ratings, rects)
                ratings, rects = [], []
    written += _flush(sink, ratings, rects)
    return written


def _flush(sink: Sink, ratings: list[dict[str, Any]], rects: list[tuple[int, dict[str, Any]]]) -> int:
    """A chunk of ratings with their rectifications (each naming its rating's id)."""
    if not ratings:
        return 0
    for rating_id, row in zip(sink.reserve(Rating.__table__, len(ratings)), ratings, strict=True):
        row["id"] = rating_id
    rows = [dict(rect, rating_id=ratings[i]["id"]) for i, rect in rects]
    for rect_id, row in zip(sink.reserve(Rectification.__table__, len(rows)), rows, strict=True):
        row["id"] = rect_id
    sink.insert(Rating.__table__, ratings)
    sink.insert(Rectification.__table__, rows)
    return len(ratings) + len(rows)


PART = HistoryPart(key="ratings.ratings", order=50, write=write, sinks=("db", "parquet"))

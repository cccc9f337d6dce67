"""好差评's part of the service history (`cockpit.history`, order 50): ratings of the applications the
services part completed and of the cases the cases part closed — found through the reads those
slices publish — with their share of 差评, each 差评's rectification, most of them answered.
Deterministic for a seed; written straight into this slice's own tables (no messages, no audit:
it is a past, not a present)."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from tongban.core import clock, slices, workdays
from tongban.core.indicators import History, HistoryPart
from tongban.ratings.models import Rating, Rectification
from tongban.ratings.service import BAD, limits

RATED_SHARE = 0.6  # of finished things, the share the resident rates
LEVELS = (5, 4, 3, 2, 1)
WEIGHTS = (70, 18, 6, 4, 2)  # 差评 about 6 % (national figures report a 好评率 near 99 %; a demo shows some)
ANSWERED_SHARE = 0.85


def write(history: History) -> int:
    session = history.session
    rng = random.Random(f"ratings:{history.seed}")
    calendar = workdays.calendar(session)
    days = limits(session)
    things: list[tuple[str, int, dict[str, str], str, str, str, dt.datetime, int | None, int | None]] = []
    for app in slices.read("services.completed_applications")(session, day_from=history.start, day_to=history.end):
        things.append(("application", app.id, app.title, app.department_id, app.region_code, app.subject_item,
                       app.finished_at, app.applicant_account_id, app.id))
    for case in slices.read("cases.closed_cases")(session, day_from=history.start, day_to=history.end):
        if case.department_id is not None:
            things.append(("case", case.id, case.title, case.department_id, case.region_code, case.category_id,
                           case.closed_at, case.reporter_account_id, None))
    rated = {(k, i) for k, i in session.execute(select(Rating.subject_kind, Rating.subject_id))}
    last = dt.datetime.combine(history.end + dt.timedelta(days=1), dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    written = 0
    for kind, subject_id, title, department, region, item, finished, rater, application_id in things:
        if rng.random() >= RATED_SHARE or (kind, subject_id) in rated or not department:
            continue
        level = rng.choices(LEVELS, WEIGHTS)[0]
        at = min(finished + dt.timedelta(minutes=rng.randint(5, 72 * 60)), last - dt.timedelta(seconds=1))
        rating = Rating(subject_kind=kind, subject_id=subject_id, application_id=application_id, level=level,
                        dimensions={}, tags=[], comment=None, channel=rng.choice(("online", "online", "onsite")),
                        rater_account_id=rater, recorded_by="system:history", department_id=department,
                        region_code=region, item_id=item, item_title=dict(title), rated_at=at, excluded=False)
        session.add(rating)
        written += 1
        if level > BAD:
            continue
        session.flush()  # the rectification names the rating
        opened = clock.local_date(at)
        rect = Rectification(rating_id=rating.id, department_id=department, region_code=region, status="open",
                             opened_on=opened, visit_due=calendar.add_working_days(opened, days["visit_days"]),
                             rectify_due=calendar.add_working_days(opened, days["rectify_days"]),
                             reply_due=calendar.add_working_days(opened, days["reply_days"]), created_at=at)
        took = rng.randint(1, days["reply_days"] + 3)
        replied_on = calendar.add_working_days(opened, took)
        if rng.random() < ANSWERED_SHARE and replied_on <= history.end:
            replied = dt.datetime.combine(replied_on, dt.time(16), clock.SHANGHAI).astimezone(dt.UTC)
            rect.status, rect.visited_at, rect.visit_note = "replied", at + dt.timedelta(hours=20), "已电话回访"
            rect.rectified_at, rect.rectify_note = replied, "已整改"
            rect.replied_at, rect.reply, rect.working_days = replied, "已整改并答复", took
        session.add(rect)
        written += 1
    session.flush()
    return written


PART = HistoryPart(key="ratings.ratings", order=50, write=write)

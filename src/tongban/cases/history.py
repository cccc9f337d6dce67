"""The cases part of the service history (`core.indicators.HISTORY`): 12345 cases and grid events
over the period, received, dispatched by the 派单目录, accepted, answered and closed — some late
(flagged overdue and supervised, as the overdue watch does), some merged (并单) into an earlier case
of the same matter — written in bulk with their timelines.

The engine's rules, in the same order: the time limit of the case's type or grid category
(`engine.time_limit`) counted in working days from the day received, the department of the 派单目录's
most specific rule (`engine.route`; a case without one waits for the operator), a merged case kept
`merged` and answered and closed with its master. Not done: attachments, messages, ratings (the
ratings part's), one audit event per step (the part writes one for all it wrote)."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tongban.cases import engine
from tongban.cases.models import Case, CaseEvent
from tongban.core import workdays
from tongban.core.audit.log import record
from tongban.core.clock import SHANGHAI, local_date
from tongban.core.history_sink import Sink, sink_of
from tongban.core.indicators import History, HistoryPart
from tongban.registry import reads

CASES_PER_RESIDENT_YEAR = 0.2  # at rate 1.0
GRID_SHARE = 0.2
PORTAL_SHARE = 0.25  # of hotline-kind cases, filed on the portal (the rest by phone)
MERGE_SHARE = 0.06  # of the cases, a repeat of an open one merged into it
MERGE_WINDOW = dt.timedelta(hours=72)
LATE_SHARE = 0.1
ACTOR = "system:history"
BATCH = 10_000  # cases written at a time


@dataclass
class _Case:
    row: dict[str, Any]
    events: list[tuple[dt.datetime, str, str | None, dict[str, Any]]] = field(default_factory=list)
    n: int = 0  # its index in the period's cases
    master: int | None = None  # index of the case it was merged into
    master_case: _Case | None = None


def _instant(day: dt.date, seconds: float) -> dt.datetime:
    return (dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)


def _later(rng: random.Random, day: dt.date, after: dt.datetime) -> dt.datetime:
    """An office-hours instant of `day` after `after` (else between it and midnight)."""
    at = _instant(day, rng.uniform(9 * 3600, 17.5 * 3600))
    if at > after:
        return at
    return after + (_instant(day + dt.timedelta(days=1), 0) - after) * rng.uniform(0.05, 0.95)


def write(history: History) -> int:
    """Cases over [start, end] for `rate` × 0.2 a resident a year; returns rows written."""
    session: Session = history.session
    sink = sink_of(history)
    rng = random.Random(f"{history.seed}:cases")
    residents = history.residents() if history.residents is not None else reads.living_residents(session)
    hotline = engine.categories(session, "hotline")
    grid = engine.categories(session, "grid")
    if not residents or not (hotline or grid):
        return 0
    days = (history.end - history.start).days + 1
    count = round(len(residents) * CASES_PER_RESIDENT_YEAR * history.rate * days / 365)
    calendar = workdays.calendar(session)
    end = _instant(history.end + dt.timedelta(days=1), 0)
    limits = {(c.id, t): engine.time_limit(session, t, c) for c in hotline for t in engine.TYPES}
    limits |= {(c.id, "grid"): engine.time_limit(session, "grid", c) for c in grid}
    routes: dict[tuple[str, str], Any] = {}
    ids = sink.reserve(Case.__table__, count)
    made: deque[_Case] = deque()  # the cases of the last MERGE_WINDOW: a repeat may merge into one
    out = _Out(sink, ids)
    starts = sorted(_instant(history.start + dt.timedelta(days=rng.randrange(days)), rng.uniform(0, 86399))
                    for _ in range(count))
    for n, received in enumerate(starts):
        _, region = residents[rng.randrange(len(residents))]
        is_grid = bool(grid) and (not hotline or rng.random() < GRID_SHARE)
        cat = rng.choice(grid if is_grid else hotline)
        case_type = "grid" if is_grid else (cat.default_type if rng.random() < 0.7 else rng.choice(engine.TYPES))
        channel = "grid" if is_grid else ("portal" if rng.random() < PORTAL_SHARE else "hotline")
        start = local_date(received)
        limit = limits[(cat.id, case_type)]
        due = calendar.add_working_days(start, limit)
        row: dict[str, Any] = dict(
            public_id=f"h{history.seed:x}-{history.start:%Y%m%d}-{n:08d}"[-32:], kind=cat.kind, type=case_type, category_id=cat.id,
            description="（历史数据）" + str((cat.definition.get("title") or {}).get("zh") or cat.id), address=None,
            longitude=None, latitude=None, datum=None, region_code=region, channel=channel, reporter_account_id=None,
            reporter_name=None, reporter_phone=None, anonymous=False, filed_by=ACTOR, status="received",
            department_id=None, assist_department_ids=[], clock_started_on=start, due_date=due, overdue_at=None,
            supervisions=0, reply=None, replied_at=None, closed_at=None, merged_into_id=None, rating=None,
            rating_source=None, visited_at=None, api_key_id=None, version=1, created_at=received, updated_at=received)
        while made and received - made[0].row["created_at"] > MERGE_WINDOW:
            out.add(made.popleft())
        c = _Case(row, n=n)
        c.events.append((received, "received", None, {"channel": channel, "type": case_type, "category": cat.id,
                                                      "due_date": due.isoformat(), "working_days": limit}))
        # 并单: a repeat of an open case of the same matter (category) in the same district, reported
        # in the last 72 hours.
        if rng.random() < MERGE_SHARE:
            for m in reversed(made):
                mr = m.row
                if (m.master is None and mr["category_id"] == cat.id and mr["region_code"][:6] == region[:6]
                        and (mr["closed_at"] is None or mr["closed_at"] > received)):
                    c.master, c.master_case = m.n, m
                    break
        if c.master is not None and c.master_case is not None:
            master = c.master_case
            merged_at = received + dt.timedelta(minutes=rng.uniform(5, 60))
            row.update(status="merged", department_id=master.row["department_id"], updated_at=merged_at)
            c.events.append((merged_at, "merged", None, {"into": c.master}))
            master.events.append((merged_at, "merged_in", None, {"repeat": n}))
            for key in ("replied_at", "closed_at"):  # answered and closed with its master
                if master.row[key] is not None:
                    row[key] = max(master.row[key], merged_at)
                    c.events.append((row[key], key.removesuffix("_at"), None, {"via": c.master}))
            if row["replied_at"] is not None:
                row["reply"] = master.row["reply"]
            made.append(c)
            continue
        if (cat.id, region) not in routes:
            routes[(cat.id, region)] = engine.route(session, cat.id, region)
        rule = routes[(cat.id, region)]
        if rule is None:  # waits for the operator
            made.append(c)
            continue
        dispatched = received + dt.timedelta(seconds=rng.uniform(1, 120))
        row.update(status="dispatched", department_id=rule.department_id,
                   assist_department_ids=[d for d in rule.assist if d != rule.department_id])
        c.events.append((dispatched, "dispatched", rule.department_id, {"to": rule.department_id, "by_rule": True}))
        accepted = dispatched + dt.timedelta(hours=rng.uniform(0.2, 6))
        if accepted >= end:
            made.append(c)
            continue
        row["status"] = "accepted"
        c.events.append((accepted, "accepted", rule.department_id, {}))
        late = rng.random() < LATE_SHARE
        answer_in = rng.randint(limit + 1, limit + 6) if late else rng.randint(0, limit)
        replied = _later(rng, calendar.add_working_days(start, answer_in), accepted)
        flagged = _instant(due + dt.timedelta(days=1), rng.uniform(300, 900))  # the overdue watch's run
        if flagged < min(replied, end):
            row.update(overdue_at=flagged, supervisions=1)
            c.events.append((flagged, "supervised", rule.department_id, {"overdue": True}))
        if replied >= end:
            made.append(c)
            continue
        row.update(status="replied", replied_at=replied, reply="已按规定办理并答复诉求人。")
        c.events.append((replied, "replied", rule.department_id, {}))
        closed = replied + dt.timedelta(hours=rng.uniform(1, 72))
        if closed < end:
            row.update(status="closed", closed_at=closed)
            c.events.append((closed, "closed", None, {}))
        row["updated_at"] = c.events[-1][0]
        made.append(c)

    while made:
        out.add(made.popleft())
    out.flush()
    if sink.kind == "db":
        record(session, actor=ACTOR, action="history.cases", subject="history:cases",
               details={"seed": history.seed, "start": history.start.isoformat(), "end": history.end.isoformat(),
                        "cases": out.cases, "merged": out.merged})
    return out.cases + out.events


class _Out:
    """Cases past the merge window, written in order (a master before its repeats) in chunks."""

    def __init__(self, sink: Sink, ids: list[int]) -> None:
        self.sink, self.ids = sink, ids
        self.pending: list[_Case] = []
        self.cases = self.events = self.merged = 0

    def add(self, c: _Case) -> None:
        self.pending.append(c)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        ids, rows, events = self.ids, [], []
        for c in self.pending:
            case_id = ids[c.n]
            c.row["id"] = case_id
            c.row["merged_into_id"] = ids[c.master] if c.master is not None else None
            rows.append(c.row)
            self.merged += c.master is not None
            for at, kind, dept, details in c.events:
                d = dict(details)
                for ref in ("into", "repeat", "via"):
                    if ref in d:
                        d[ref] = ids[d[ref]]
                events.append(dict(case_id=case_id, at=at, kind=kind, actor=ACTOR, department_id=dept, details=d))
        self.sink.insert(Case.__table__, rows)
        self.sink.insert(CaseEvent.__table__, events)
        self.cases += len(rows)
        self.events += len(events)
        self.pending = []


PART = HistoryPart(key="cases.hotline", order=20, write=write, sinks=("db", "parquet"))

"""The services part of the service history (`core.indicators.HISTORY`): applications with their
tasks over the period, for a share of the city's residents, decided on time or late in working
days — written in bulk, keeping the engine's invariants.

What the engine would do, this does in the same order: a one-thing's items resolved by its default
choice (`onething.resolve_choice`), one task per item routed to its department, the clock of a
ready task started by `sla.start_clock` (promised and statutory due dates in working days), a task
unblocked when all it requires is approved, the dependants of a rejected task cancelled, and the
application finished (completed, partly completed or rejected) when every task is. A task whose
decision would fall after the period is left running. Not done: form data (an empty form),
materials, certificates and registry effects, messages and one audit event per step (the part
writes one audit event for all it wrote)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import workdays
from tongban.core.audit.log import record
from tongban.core.clock import SHANGHAI
from tongban.core.history_sink import Sink, sink_of
from tongban.core.indicators import History, HistoryPart
from tongban.core.timeutil import WorkCalendar
from tongban.registry import reads
from tongban.services import onething, sla
from tongban.services.models import Application, ApplicationEvent, OneThing, ServiceItem, Task

APPLICATIONS_PER_RESIDENT_YEAR = 0.6  # at rate 1.0: a resident applies for something every 20 months
ONETHING_SHARE = 0.3  # of the applications, the one-things'
LATE_SHARE = 0.12  # of the decisions, past the promised due date
REJECT_SHARE = 0.05
ACTOR = "system:history"
CHUNK = 50_000  # applications generated, then written, at a time (memory stays flat)
NOTE_COMPLETED = "services.completed"  # History.notes: the ids of the applications completed


@dataclass
class _Task:
    item: ServiceItem
    requires: list[str]
    status: str = "blocked"
    started: dt.date | None = None
    due: dt.date | None = None
    statutory: dt.date | None = None
    decided_at: dt.datetime | None = None
    reason: str | None = None
    events: list[tuple[dt.datetime, str, dict[str, Any]]] = field(default_factory=list)


def _instant(day: dt.date, seconds: float) -> dt.datetime:
    return (dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)


def _decision_time(rng: random.Random, day: dt.date, after: dt.datetime) -> dt.datetime:
    """An office-hours instant of `day`, later than `after` (the same day's submission or
    unblocking: then some time between it and midnight)."""
    at = _instant(day, rng.uniform(9 * 3600, 17.5 * 3600))
    if at > after:
        return at
    midnight = _instant(day + dt.timedelta(days=1), 0)
    return after + (midnight - after) * rng.uniform(0.05, 0.95)


def _start(task: _Task, at: dt.datetime, calendar: WorkCalendar) -> None:
    clock = SimpleNamespace(warned_at=None, overdue_at=None, clock_started_on=None, due_date=None,
                            statutory_due_date=None)
    sla.start_clock(clock, task.item.definition, at, calendar)
    task.status, task.started, task.due, task.statutory = "ready", clock.clock_started_on, clock.due_date, \
        clock.statutory_due_date


def _run(rng: random.Random, tasks: dict[str, _Task], submitted: dt.datetime, end: dt.datetime,
         calendar: WorkCalendar) -> tuple[str, dt.datetime | None]:
    """Decide the tasks in the engine's order; the application's status and finishing instant."""
    for t in tasks.values():
        if not t.requires:
            _start(t, submitted, calendar)
    while True:
        ready = [t for t in tasks.values() if t.status == "ready" and t.decided_at is None]
        if not ready:
            break
        progressed = False
        for t in ready:
            assert t.started is not None and t.due is not None
            promised = calendar.working_days_between(t.started, t.due)
            late = rng.random() < LATE_SHARE
            days = rng.randint(promised + 1, promised + 5) if late else rng.randint(0, promised)
            day = calendar.add_working_days(t.started, days)
            ready_at = max([submitted] + [e[0] for e in t.events if e[1] == "task.ready"])
            at = _decision_time(rng, day, ready_at)
            if at >= end:
                t.decided_at = None
                t.status = "running"  # left open past the period
                continue
            t.decided_at = at
            progressed = True
            if rng.random() < REJECT_SHARE:
                t.status, t.reason = "rejected", "材料不符合要求"
                doomed = onething.dependants(t.item.id, {k: v.requires for k, v in tasks.items()})
                for name in sorted(doomed):
                    d = tasks[name]
                    if d.status == "blocked":
                        d.status, d.reason = "cancelled", f"prerequisite {t.item.id} rejected"
                        d.events.append((at, "task.cancelled", {"because": t.item.id}))
            else:
                t.status = "approved"
            t.events.append((at, "task.approve" if t.status == "approved" else "task.reject",
                             {"item": t.item.id, **({"reason": t.reason} if t.reason else {})}))
            for d in tasks.values():
                if d.status == "blocked" and all(tasks[n].status == "approved" for n in d.requires):
                    _start(d, at, calendar)
                    d.events.append((at, "task.ready", {"item": d.item.id}))
        if not progressed:
            break
    for t in tasks.values():
        if t.status == "running":
            t.status = "ready"
    if any(t.status in ("ready", "blocked") for t in tasks.values()):
        return ("in_progress" if any(t.decided_at for t in tasks.values()) else "submitted"), None
    approved = sum(t.status == "approved" for t in tasks.values())
    status = "completed" if approved == len(tasks) else "partly_completed" if approved else "rejected"
    return status, max(t.decided_at for t in tasks.values() if t.decided_at is not None)


def write(history: History) -> int:
    """Applications over [start, end] for `rate` × 0.6 a resident a year, written through the
    history's sink in chunks of `CHUNK` applications; returns rows written."""
    session: Session = history.session
    sink = sink_of(history)
    rng = random.Random(f"{history.seed}:services")
    residents = history.residents() if history.residents is not None else reads.living_residents(session)
    items = {i.id: i for i in session.scalars(select(ServiceItem).order_by(ServiceItem.id))}
    onethings = list(session.scalars(select(OneThing).order_by(OneThing.id)))
    if not residents or not items:
        return 0
    days = (history.end - history.start).days + 1
    count = round(len(residents) * APPLICATIONS_PER_RESIDENT_YEAR * history.rate * days / 365)
    calendar = workdays.calendar(session)
    end = _instant(history.end + dt.timedelta(days=1), 0)
    item_ids = sorted(items)
    resolved = {ot.id: onething.resolve_choice(ot.definition, None) for ot in onethings}
    notes = history.notes if history.notes is not None else {}
    history.notes = notes
    completed: list[int] = notes.setdefault(NOTE_COMPLETED, [])
    done = _Done()
    app_rows: list[dict[str, Any]] = []
    plans: list[tuple[dict[str, _Task], str, dt.datetime | None]] = []
    for n in range(count):
        person_id, region = residents[rng.randrange(len(residents))]
        submitted = _instant(history.start + dt.timedelta(days=rng.randrange(days)), rng.uniform(7 * 3600, 86399))
        ot = onethings[rng.randrange(len(onethings))] if onethings and rng.random() < ONETHING_SHARE else None
        if ot is not None:
            picked, requires = resolved[ot.id]
            chosen = [i for i in picked if i in items]
        else:
            chosen, requires = [rng.choice(item_ids)], {}
        tasks = {i: _Task(items[i], [r for r in requires.get(i, []) if r in chosen]) for i in chosen}
        status, finished = _run(rng, tasks, submitted, end, calendar)
        key = f"history:{history.seed}:{history.start:%Y%m%d}:{n}"
        app_rows.append(dict(
            applicant_account_id=None, applicant_person_id=person_id, filed_by_account_id=None, filing="self",
            filing_consent=None, onething_id=ot.id if ot else None, item_id=None if ot else chosen[0],
            items=chosen if ot else None, status=status, data={}, region_code=region, pack_id=ot.pack_id if ot
            else items[chosen[0]].pack_id, pack_version=None, idempotency_key=key, request_hash=key[-64:],
            consent_id=None, version=1, created_at=submitted, submitted_at=submitted, finished_at=finished))
        plans.append((tasks, status, finished))
        if len(app_rows) >= CHUNK:
            _flush(sink, app_rows, plans, completed, done)
            app_rows, plans = [], []
    _flush(sink, app_rows, plans, completed, done)
    if sink.kind == "db":
        record(session, actor=ACTOR, action="history.services", subject="history:services",
               details={"seed": history.seed, "start": history.start.isoformat(), "end": history.end.isoformat(),
                        "applications": done.applications, "tasks": done.tasks, "completed": done.completed})
    return done.applications + done.tasks + done.events


@dataclass
class _Done:
    applications: int = 0
    tasks: int = 0
    events: int = 0
    completed: int = 0


def _flush(sink: Sink, app_rows: list[dict[str, Any]], plans: list[tuple[dict[str, _Task], str, dt.datetime | None]],
           completed: list[int], done: _Done) -> None:
    """One chunk of applications: ids reserved, then the applications, their tasks and events."""
    if not app_rows:
        return
    ids = sink.reserve(Application.__table__, len(app_rows))
    for app_id, row in zip(ids, app_rows, strict=True):
        row["id"] = app_id
    sink.insert(Application.__table__, app_rows)
    task_rows: list[dict[str, Any]] = []
    task_events: list[list[tuple[dt.datetime, str, dict[str, Any]]]] = []
    event_rows: list[dict[str, Any]] = []
    for app_id, row, (tasks, status, finished) in zip(ids, app_rows, plans, strict=True):
        event_rows.append(dict(application_id=app_id, task_id=None, at=row["submitted_at"], kind="submitted",
                               actor=ACTOR, details={"items": list(tasks)}))
        for t in tasks.values():
            task_rows.append(dict(
                application_id=app_id, item_id=t.item.id, department_id=t.item.department_id, status=t.status,
                step_index=0, requires=t.requires, inputs={}, outputs={}, assignee_account_id=None,
                clock_started_on=t.started, due_date=t.due, statutory_due_date=t.statutory, reason=t.reason,
                version=1 + len(t.events), decided_at=t.decided_at, warned_at=None,
                overdue_at=None, notice_ends_on=None))
            task_events.append(t.events)
        if finished is not None:
            event_rows.append(dict(application_id=app_id, task_id=None, at=finished, kind=f"application.{status}",
                                   actor="system", details={"tasks": {t.item.id: t.status for t in tasks.values()}}))
            if status == "completed":
                completed.append(app_id)
                done.completed += 1
    for task_id, row, events in zip(sink.reserve(Task.__table__, len(task_rows)), task_rows, task_events,
                                     strict=True):
        row["id"] = task_id
        event_rows.extend(dict(application_id=row["application_id"], task_id=task_id, at=at, kind=kind,
                               actor=ACTOR, details=d) for at, kind, d in events)
    sink.insert(Task.__table__, task_rows)
    sink.insert(ApplicationEvent.__table__, event_rows)
    done.applications += len(ids)
    done.tasks += len(task_rows)
    done.events += len(event_rows)


PART = HistoryPart(key="services.applications", order=10, write=write, sinks=("db", "parquet"))

"""What the services publish about finished applications for the slices above them (ratings, 好差评):
plain records, never the tables. Published in slice.py as `services.completed_application` and
`services.completed_applications`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.clock import SHANGHAI as LOCAL_TZ
from tongban.services import catalogue, notify
from tongban.services.models import Application, Task

FINISHED_WITH_APPROVAL = ("completed", "partly_completed")


@dataclass(frozen=True)
class CompletedTask:
    id: int
    item_id: str
    department_id: str
    title: dict[str, str]


@dataclass(frozen=True)
class CompletedApplication:
    """A completed (or partly completed) application: who may rate it, where it was handled, what it was."""

    id: int
    applicant_account_id: int | None
    filed_by_account_id: int | None
    region_code: str
    onething_id: str | None
    item_id: str | None
    title: dict[str, str]
    finished_at: dt.datetime
    department_id: str  # the lead department: the one of its first task
    tasks: tuple[CompletedTask, ...]  # the approved tasks

    @property
    def subject_item(self) -> str:
        """The one-thing or the item it applied for (what statistics count it under)."""
        return self.onething_id or self.item_id or ""


def _record(session: Session, app: Application, tasks: Sequence[Task]) -> CompletedApplication:
    assert app.finished_at is not None
    return CompletedApplication(
        id=app.id, applicant_account_id=app.applicant_account_id, filed_by_account_id=app.filed_by_account_id,
        region_code=app.region_code, onething_id=app.onething_id, item_id=app.item_id,
        title=notify.application_title(session, app), finished_at=app.finished_at,
        department_id=tasks[0].department_id if tasks else "",
        tasks=tuple(CompletedTask(id=t.id, item_id=t.item_id, department_id=t.department_id,
                                  title=notify.item_title(session, t.item_id)) for t in tasks if t.status == "approved"))


def completed_application(session: Session, application_id: int) -> CompletedApplication | None:
    """The application if it finished with at least one approval, else None."""
    app = session.get(Application, application_id)
    if app is None or app.status not in FINISHED_WITH_APPROVAL or app.finished_at is None:
        return None
    tasks = list(session.scalars(select(Task).where(Task.application_id == app.id).order_by(Task.id)))
    return _record(session, app, tasks)


def completed_applications(session: Session, *, day_from: dt.date, day_to: dt.date) -> list[CompletedApplication]:
    """Every application finished with an approval on a day (Asia/Shanghai) of the period, oldest first."""
    start = dt.datetime.combine(day_from, dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    apps = list(session.scalars(select(Application).where(
        Application.status.in_(FINISHED_WITH_APPROVAL), Application.finished_at >= start,
        Application.finished_at < end).order_by(Application.finished_at, Application.id)))
    if not apps:
        return []
    by_app: dict[int, list[Task]] = {}
    for t in session.scalars(select(Task).where(Task.application_id.in_([a.id for a in apps])).order_by(Task.id)):
        by_app.setdefault(t.application_id, []).append(t)
    return [_record(session, a, by_app.get(a.id, [])) for a in apps]


def application_of_task(session: Session, task_id: int) -> int | None:
    """The id of the application a task belongs to (None: no such task)."""
    task = session.get(Task, task_id)
    return task.application_id if task is not None else None


def completed_applications_of(session: Session, account_id: int, *, limit: int = 50) -> list[CompletedApplication]:
    """The account's own completed applications (as applicant or filer), newest first."""
    apps = list(session.scalars(select(Application).where(
        Application.status.in_(FINISHED_WITH_APPROVAL),
        (Application.applicant_account_id == account_id) | (Application.filed_by_account_id == account_id))
        .order_by(Application.finished_at.desc(), Application.id.desc()).limit(limit)))
    out = []
    for a in apps:
        tasks = list(session.scalars(select(Task).where(Task.application_id == a.id).order_by(Task.id)))
        out.append(_record(session, a, tasks))
    return out


def completed_applications_written(session: Session, applications: Any, tasks: Any, *, day_from: dt.date,
                                   day_to: dt.date, batch: int = 100_000) -> Iterator[list[CompletedApplication]]:
    """`completed_applications` over applications and tasks written as Parquet by the service
    history (`applications`, `tasks`: Polars LazyFrames of the `svc_application` and `svc_task`
    columns), in the same order, in batches; each record's `tasks` left empty (its lead department
    is its first task's)."""
    import polars as pl

    start = dt.datetime.combine(day_from, dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    apps = (applications.filter(pl.col("status").is_in(FINISHED_WITH_APPROVAL), pl.col("finished_at") >= start,
                                pl.col("finished_at") < end)
            .select("id", "applicant_account_id", "filed_by_account_id", "region_code", "onething_id", "item_id",
                    "finished_at"))
    first = (tasks.group_by("application_id").agg(pl.col("department_id").sort_by("id").first())
             .rename({"application_id": "id"}))
    frame = apps.join(first, on="id", how="left").sort("finished_at", "id").collect()
    cat = catalogue.current(session)
    titles: dict[tuple[str | None, str | None], dict[str, str]] = {}
    for part in frame.iter_slices(batch):
        out = []
        for r in part.iter_rows(named=True):
            subject = (r["onething_id"], r["item_id"])
            if subject not in titles:
                titles[subject] = (dict(cat.onething(subject[0]).definition["title"]) if subject[0] else
                                   dict(cat.item(subject[1]).definition["title"]) if subject[1] else {"zh": "", "en": ""})
            out.append(CompletedApplication(
                id=r["id"], applicant_account_id=r["applicant_account_id"], filed_by_account_id=r["filed_by_account_id"],
                region_code=r["region_code"], onething_id=r["onething_id"], item_id=r["item_id"],
                title=titles[subject], finished_at=r["finished_at"], department_id=r["department_id"] or "", tasks=()))
        yield out

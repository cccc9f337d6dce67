"""The job queue: enqueue in the caller's session; claim, run, retry.

Claiming takes ready jobs with `FOR UPDATE SKIP LOCKED` on PostgreSQL (many workers) and
plainly on SQLite (one worker). A claimed job holds a lease; its handler runs in a new
transaction that also marks it done through a guarded update — if the lease was lost to
another worker meanwhile, the guard matches nothing and the whole transaction rolls back, so
a job's database effect is applied exactly once. A worker killed mid-job leaves a lease that
expires; the job is then claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import traceback
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.core.db import Database
from tongban.core.jobs import registry
from tongban.core.jobs.models import Job, JobSchedule
from tongban.core.timeutil import utcnow

log = logging.getLogger("tongban.jobs")

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any] | None = None,
    run_at: dt.datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 5,
) -> Job:
    """Add a job in the caller's transaction: it exists only if that transaction commits."""
    job = Job(kind=kind, payload=payload or {}, run_at=run_at or utcnow(), dedupe_key=dedupe_key,
              max_attempts=max_attempts, status="queued")
    session.add(job)
    session.flush()
    return job


def backoff(attempts: int) -> dt.timedelta:
    """Exponential back-off with jitter, capped."""
    seconds = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class Claim:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def claim(db: Database, *, worker: str, lease_seconds: int, limit: int = 1) -> list[Claim]:
    """Take up to `limit` ready jobs (queued and due, or running with an expired lease)."""
    now = utcnow()
    with db.unit_of_work() as session:
        q = (
            select(Job)
            .where(or_(
                (Job.status == "queued") & (Job.run_at <= now),
                (Job.status == "running") & (Job.lease_until < now),
            ))
            .order_by(Job.run_at, Job.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            q = q.with_for_update(skip_locked=True)
        jobs = list(session.scalars(q))
        claims = []
        for job in jobs:
            job.status = "running"
            job.worker = worker
            job.attempts += 1
            job.lease_until = now + dt.timedelta(seconds=lease_seconds)
            claims.append(Claim(job.id, job.kind, dict(job.payload), job.attempts, job.max_attempts))
    return claims


def run(db: Database, job: Claim, *, worker: str) -> str:
    """Run one claimed job; return its new status (done | queued | dead | lost)."""
    fn = registry.get_handler(job.kind)
    try:
        with db.unit_of_work() as session:
            if fn is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            fn(session, job.payload)
            done = session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.worker == worker,
                       Job.attempts == job.attempts)
                .values(status="done", finished_at=utcnow(), lease_until=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise _LeaseLost()
    except _LeaseLost:
        log.warning("job lease lost; its effect was rolled back", extra={"job_id": job.id, "kind": job.kind})
        return "lost"
    except Exception as exc:  # a failing handler: record, back off, retry or give up
        return _failed(db, job, worker=worker, exc=exc)
    log.info("job done", extra={"job_id": job.id, "kind": job.kind, "attempt": job.attempts})
    return "done"


class _LeaseLost(Exception):
    pass


def _failed(db: Database, job: Claim, *, worker: str, exc: BaseException) -> str:
    # Exception type and message only: never the payload (it may hold personal data).
    error = f"{type(exc).__name__}: {exc}"[:2000]
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    if frame:
        error += f" (at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno})"
    dead = job.attempts >= job.max_attempts
    status = "dead" if dead else "queued"
    with db.unit_of_work() as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.worker == worker, Job.attempts == job.attempts)
            .values(status=status, last_error=error, lease_until=None,
                    run_at=utcnow() + backoff(job.attempts), finished_at=utcnow() if dead else None)
            .execution_options(synchronize_session=False)
        )
    log.warning("job failed", extra={"job_id": job.id, "kind": job.kind, "attempt": job.attempts,
                                     "status": status, "error_type": type(exc).__name__})
    return status


def sync_schedules(db: Database) -> None:
    """Make the schedule table hold every schedule the code declares (keeping due times)."""
    with db.unit_of_work() as session:
        for s in registry.schedules():
            row = session.get(JobSchedule, s.name)
            if row is None:
                session.add(JobSchedule(name=s.name, kind=s.kind, payload=s.payload,
                                        interval_seconds=s.interval_seconds, next_run_at=utcnow()))
            else:
                row.kind, row.payload, row.interval_seconds = s.kind, s.payload, s.interval_seconds


def enqueue_due_schedules(db: Database) -> int:
    """Enqueue every due periodic job once, whichever worker gets there first."""
    now = utcnow()
    count = 0
    with db.unit_of_work() as session:
        due = list(session.scalars(select(JobSchedule).where(JobSchedule.next_run_at <= now)))
    for s in due:
        try:
            with db.unit_of_work() as session:
                won = session.execute(
                    update(JobSchedule)
                    .where(JobSchedule.name == s.name, JobSchedule.next_run_at == s.next_run_at)
                    .values(next_run_at=now + dt.timedelta(seconds=s.interval_seconds))
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount == 1:  # type: ignore[attr-defined]
                    enqueue(session, kind=s.kind, payload=s.payload,
                            dedupe_key=f"schedule:{s.name}:{s.next_run_at.isoformat()}")
                    count += 1
        except IntegrityError:
            continue  # another worker enqueued this round already
    return count


def retry(db: Database, job_id: int) -> bool:
    """Requeue a dead (or failed) job now."""
    with db.unit_of_work() as session:
        job = session.get(Job, job_id)
        if job is None or job.status not in ("dead", "queued"):
            return False
        job.status, job.run_at, job.attempts, job.finished_at = "queued", utcnow(), 0, None
        return True

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
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.core.db import Database
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.jobs import registry
from tongban.core.jobs.models import Job, JobSchedule
from tongban.core.logging import describe_error
from tongban.core.timeutil import utcnow

log = logging.getLogger("tongban.jobs")

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
STATUSES = ("queued", "running", "done", "dead")


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
    """The wait before the next try after `attempts` tries: base * 2**attempts, capped, with ±20% jitter.

    The jitter spreads out jobs that failed together (a database or a remote service briefly away)
    so they do not all come back in the same second.
    """
    seconds = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(max(0, attempts), 30))
    return dt.timedelta(seconds=seconds * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not security


@dataclass(frozen=True)
class Claim:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_seconds: int


def claim(db: Database, *, worker: str, lease_seconds: int, limit: int = 1) -> list[Claim]:
    """Take up to `limit` ready jobs (queued and due, or running with an expired lease).

    One statement, `UPDATE job … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`:
    on PostgreSQL concurrent workers skip each other's rows instead of waiting; on SQLite the
    unit of work holds the write lock, so claims simply take turns.
    """
    now = utcnow()
    ready = (
        select(Job.id)
        .where(or_(
            (Job.status == "queued") & (Job.run_at <= now),
            (Job.status == "running") & (Job.lease_until < now),
        ))
        .order_by(Job.run_at, Job.id)
        .limit(limit)
    )
    if not db.is_sqlite:
        ready = ready.with_for_update(skip_locked=True)
    with db.unit_of_work() as session:
        rows = session.execute(
            update(Job)
            .where(Job.id.in_(ready.scalar_subquery()))
            .values(status="running", worker=worker, attempts=Job.attempts + 1,
                    lease_until=now + dt.timedelta(seconds=lease_seconds))
            .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted((Claim(r.id, r.kind, dict(r.payload or {}), r.attempts, r.max_attempts, lease_seconds)
                   for r in rows), key=lambda c: c.id)


def _mine(job: Claim, worker: str) -> Any:
    """The guard: this worker still holds this claim (the lease was not taken over meanwhile)."""
    return (Job.id == job.id) & (Job.status == "running") & (Job.worker == worker) & (
        Job.attempts == job.attempts)


def run(db: Database, job: Claim, *, worker: str) -> str:
    """Run one claimed job; return its new status (done | queued | dead | lost)."""
    fn = registry.get_handler(job.kind)
    keeper = _LeaseKeeper(db, job, worker)
    keeper.start()
    try:
        with db.unit_of_work() as session:
            if fn is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            fn(session, job.payload)
            done = session.execute(
                update(Job)
                .where(_mine(job, worker))
                .values(status="done", finished_at=utcnow(), lease_until=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise _LeaseLost()
    except _LeaseLost:
        log.warning("job lease lost; its effect was rolled back", extra={"job_id": job.id, "kind": job.kind})
        return "lost"
    except Exception as exc:  # a failing handler: record, back off, retry or give up
        return mark_failed(db, job, worker=worker, exc=exc)
    finally:
        keeper.stop()
    log.info("job done", extra={"job_id": job.id, "kind": job.kind, "attempt": job.attempts})
    return "done"


class _LeaseLost(Exception):
    pass


class _LeaseKeeper(threading.Thread):
    """Renews a running job's lease every third of its length, so a long job keeps its claim.

    A worker that dies stops renewing, and the lease runs out: that is how a killed worker's job
    comes back. The renewal is guarded like the done mark, so it never revives a lost claim.
    """

    def __init__(self, db: Database, job: Claim, worker: str) -> None:
        super().__init__(name=f"lease-{job.id}", daemon=True)
        self.db, self.job, self.worker = db, job, worker
        self.finished = threading.Event()

    def run(self) -> None:
        every = max(0.05, self.job.lease_seconds / 3)
        while not self.finished.wait(every):
            try:
                with self.db.unit_of_work() as session:
                    session.execute(
                        update(Job).where(_mine(self.job, self.worker))
                        .values(lease_until=utcnow() + dt.timedelta(seconds=self.job.lease_seconds))
                        .execution_options(synchronize_session=False)
                    )
            except Exception as exc:  # SQLite: the handler may hold the write lock; try again later
                log.warning("job lease not renewed", extra={"job_id": self.job.id, "kind": self.job.kind,
                                                            "error_type": type(exc).__name__})

    def stop(self) -> None:
        self.finished.set()
        self.join()


def mark_failed(db: Database, job: Claim, *, worker: str, exc: BaseException) -> str:
    error = describe_error(exc)
    dead = job.attempts >= job.max_attempts
    status = "dead" if dead else "queued"
    with db.unit_of_work() as session:
        marked = session.execute(
            update(Job)
            .where(_mine(job, worker))
            .values(status=status, last_error=error, lease_until=None,
                    run_at=utcnow() + backoff(job.attempts), finished_at=utcnow() if dead else None)
            .execution_options(synchronize_session=False)
        )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("job failed after its lease was lost", extra={"job_id": job.id, "kind": job.kind})
        return "lost"
    log.warning("job failed", extra={"job_id": job.id, "kind": job.kind, "attempt": job.attempts,
                                     "status": status, "error_type": type(exc).__name__})
    return status


def sync_schedules(db: Database) -> None:
    """Make the schedule table hold every schedule the code declares.

    A stored due time is kept (a restart does not run everything at once), but never left
    further off than the code's interval, so shortening an interval takes effect now. Workers
    starting together may race to insert the same new row: the loser reads it and goes on.
    """
    for attempt in (1, 2):
        try:
            _sync_schedules(db)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _sync_schedules(db: Database) -> None:
    now = utcnow()
    with db.unit_of_work() as session:
        for s in registry.schedules():
            row = session.get(JobSchedule, s.name)
            if row is None:
                session.add(JobSchedule(name=s.name, kind=s.kind, payload=s.payload,
                                        interval_seconds=s.interval_seconds, next_run_at=now))
                session.flush()
            else:
                row.kind, row.payload, row.interval_seconds = s.kind, s.payload, s.interval_seconds
                row.next_run_at = min(row.next_run_at, now + dt.timedelta(seconds=s.interval_seconds))


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


DONE_RETENTION_DAYS = 7
DEAD_RETENTION_DAYS = 90


def purge(
    session: Session,
    *,
    done_days: int = DONE_RETENTION_DAYS,
    dead_days: int = DEAD_RETENTION_DAYS,
    now: dt.datetime | None = None,
) -> tuple[int, int]:
    """Delete finished jobs: done ones after `done_days`, dead ones (kept for an operator to
    retry) after `dead_days`. Queued and running jobs are never touched. Returns the counts.

    A `dedupe_key` therefore guards against duplicates only while its job is kept; the keys that
    schedules use carry their round's time and never recur.
    """
    if done_days < 1 or dead_days < 1:
        raise Invalid(N_("Retention must be at least one day."), field="done_days" if done_days < 1 else "dead_days")
    now = now or utcnow()
    counts = []
    for status, days in (("done", done_days), ("dead", dead_days)):
        result = session.execute(
            delete(Job)
            .where(Job.status == status, Job.finished_at < now - dt.timedelta(days=days))
            .execution_options(synchronize_session=False)
        )
        counts.append(int(result.rowcount))  # type: ignore[attr-defined]
    return counts[0], counts[1]


def retry(session: Session, *, job_id: int) -> Job:
    """Requeue a dead job to run now, with its attempts counted afresh (`last_error` is kept)."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound(N_("No job with id %(id)s."), field="job_id", id=job_id)
    if job.status != "dead":
        raise Conflict(N_("Only a dead job can be retried; this one is %(status)s."), field="job_id",
                       status=job.status)
    job.status, job.run_at, job.attempts, job.finished_at, job.worker = "queued", utcnow(), 0, None, None
    return job

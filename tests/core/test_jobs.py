"""The job queue: transactional enqueue, exactly-once effects, retries, killed workers, schedules."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

import tests.jobhandlers  # noqa: F401 - registers the test handlers
from tongban.core.audit.models import AuditEvent
from tongban.core.jobs import queue, registry
from tongban.core.jobs.models import Job, JobSchedule
from tongban.core.jobs.worker import Worker, WorkerOptions
from tongban.core.timeutil import utcnow

ROOT = Path(__file__).resolve().parents[2]


def _effects(db, key: str) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "test.effect", AuditEvent.subject == key)) or 0


def _job(db, job_id: int) -> Job:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.get_one(Job, job_id)


def test_job_enqueued_in_a_rolled_back_transaction_never_runs(db):  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        queue.enqueue(s, kind="test.effect", payload={"key": "ghost"})
        raise RuntimeError("the caller's work failed")
    assert Worker(db).run_once() == 0
    assert _effects(db, "ghost") == 0
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_job_runs_once_and_its_effect_is_applied_once(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.effect", payload={"key": "k1"}).id
    assert Worker(db).run_once() == 1
    assert Worker(db).run_once() == 0
    assert _effects(db, "k1") == 1
    assert _job(db, job_id).status == "done"


def test_failing_handler_backs_off_then_goes_dead(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.fail", max_attempts=3).id
    w = Worker(db)
    for attempt in (1, 2, 3):
        assert w.run_once() == 1
        job = _job(db, job_id)
        assert job.attempts == attempt and "RuntimeError" in (job.last_error or "")
        if attempt < 3:
            assert job.status == "queued" and job.run_at > utcnow()  # backed off into the future
            assert w.run_once() == 0  # not due yet
            with db.unit_of_work() as s:
                s.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
    assert _job(db, job_id).status == "dead"
    assert _effects(db, "never") == 0  # the failed handler's writes were rolled back
    assert queue.retry(db, job_id) and _job(db, job_id).status == "queued"


def test_backoff_grows() -> None:
    assert queue.backoff(1) < queue.backoff(4) <= dt.timedelta(seconds=queue.BACKOFF_CAP_SECONDS * 1.2)


def test_lost_lease_rolls_back_the_effect(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.effect", payload={"key": "race"}).id
    [slow] = queue.claim(db, worker="slow", lease_seconds=1)
    # The lease expires and another worker takes the job and finishes it.
    with db.unit_of_work() as s:
        s.execute(update(Job).where(Job.id == job_id).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    [fast] = queue.claim(db, worker="fast", lease_seconds=60)
    assert queue.run(db, fast, worker="fast") == "done"
    # The first worker finally finishes: its guard fails and its effect is rolled back.
    assert queue.run(db, slow, worker="slow") == "lost"
    assert _effects(db, "race") == 1


def test_unknown_kind_is_retried_then_dead(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.nobody-handles-this", max_attempts=1).id
    Worker(db).run_once()
    job = _job(db, job_id)
    assert job.status == "dead" and "no handler" in (job.last_error or "")


def _worker_env(db, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update(TONGBAN_DATABASE_URL=db.url, TONGBAN_DEMO="1", TONGBAN_VAR_DIR=str(tmp_path / "var"),
               PYTHONPATH=str(ROOT))
    return env


def test_killed_worker_job_runs_exactly_once_after_restart(db, tmp_path):  # type: ignore[no-untyped-def]
    marker = tmp_path / "started"
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.block", payload={"key": "killed", "marker": str(marker),
                                                              "sleep": 60}).id
    cmd = [sys.executable, "-m", "tongban", "worker", "--import", "tests.jobhandlers", "--lease", "2",
           "--idle-sleep", "0.1"]
    proc = subprocess.Popen(cmd, env=_worker_env(db, tmp_path), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline, "the worker never started the job"
            assert proc.poll() is None, "the worker exited"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    job = _job(db, job_id)
    assert job.status == "running" and _effects(db, "killed") == 0  # nothing half-applied
    # Restart after the lease has run out; this time the handler returns at once.
    with db.unit_of_work() as s:
        s.execute(update(Job).where(Job.id == job_id).values(
            lease_until=utcnow() - dt.timedelta(seconds=1), payload={"key": "killed", "sleep": 0}))
    r = subprocess.run([*cmd, "--once"], env=_worker_env(db, tmp_path), cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert _job(db, job_id).status == "done"
    assert _effects(db, "killed") == 1


def test_periodic_schedule_enqueues_once_per_interval(db):  # type: ignore[no-untyped-def]
    registry.schedule("test.tick", "test.effect", interval_seconds=3600, payload={"key": "tick"})
    try:
        queue.sync_schedules(db)
        if db.is_sqlite:
            assert queue.enqueue_due_schedules(db) == 1
            assert queue.enqueue_due_schedules(db) == 0
        else:
            counts: list[int] = []
            threads = [threading.Thread(target=lambda: counts.append(queue.enqueue_due_schedules(db)))
                       for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with db.unit_of_work() as s:
                n = s.scalar(select(func.count()).select_from(Job).where(Job.kind == "test.effect")) or 0
            assert n == 1
        with db.unit_of_work() as s:
            nxt = s.get_one(JobSchedule, "test.tick").next_run_at
        assert nxt > utcnow() + dt.timedelta(minutes=59)
    finally:
        registry._schedules.pop("test.tick", None)


def test_pg_workers_in_parallel_run_each_job_once(db):  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        pytest.skip("several workers: PostgreSQL only")
    with db.unit_of_work() as s:
        for i in range(40):
            queue.enqueue(s, kind="test.effect", payload={"key": f"p{i}"})
    workers = [Worker(db, WorkerOptions(lease_seconds=60)) for _ in range(4)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(40):
        assert _effects(db, f"p{i}") == 1
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.status != "done")) == 0


def test_jobs_cli(db, cli):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        queue.enqueue(s, kind="test.effect", payload={"key": "cli"})
    r = cli("worker", "--once", "--import", "tests.jobhandlers")
    assert r.exit_code == 0, r.output
    assert "ran" in r.output
    r = cli("jobs", "list")
    assert "test.effect" in r.output and "done" in r.output
    assert cli("jobs", "retry", "999999").exit_code == 2
    assert cli("worker", "--once", "--import", "no.such.module").exit_code == 2

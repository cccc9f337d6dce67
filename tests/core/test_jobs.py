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
from tongban.core.audit.log import record
from tongban.core.audit.models import AuditEvent
from tongban.core.errors import Conflict, NotFound
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
    assert w.run_once() == 0  # dead jobs are not claimed


def test_dead_job_can_be_retried_and_then_runs(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.effect", payload={"key": "again"}).id
        s.execute(update(Job).where(Job.id == job_id).values(status="dead", attempts=5, last_error="X: y"))
    with db.unit_of_work() as s:
        queue.retry(s, job_id=job_id)
    job = _job(db, job_id)
    assert (job.status, job.attempts) == ("queued", 0)
    assert Worker(db).run_once() == 1
    assert _job(db, job_id).status == "done" and _effects(db, "again") == 1


def test_retry_refuses_a_job_that_is_not_dead_and_changes_nothing(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.effect", payload={"key": "q"}).id
    before = _job(db, job_id)
    with pytest.raises(Conflict), db.unit_of_work() as s:
        queue.retry(s, job_id=job_id)
    with pytest.raises(NotFound), db.unit_of_work() as s:
        queue.retry(s, job_id=job_id + 1000)
    after = _job(db, job_id)
    assert (after.status, after.attempts, after.run_at) == (before.status, before.attempts, before.run_at)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    base = queue.BACKOFF_BASE_SECONDS
    for attempts in (1, 2, 3):
        wait = queue.backoff(attempts).total_seconds()
        assert base * 2**attempts * 0.8 <= wait <= base * 2**attempts * 1.2
    assert queue.backoff(40).total_seconds() <= queue.BACKOFF_CAP_SECONDS * 1.2
    assert len({queue.backoff(3) for _ in range(20)}) > 1  # jittered


def test_last_error_keeps_no_values_from_the_database_message(db):  # type: ignore[no-untyped-def]
    secret = "330203199001011234"  # looks like a resident ID number
    with db.unit_of_work() as s:
        queue.enqueue(s, kind="test.effect", payload={"key": "x"}, dedupe_key=secret, run_at=utcnow()
                      + dt.timedelta(days=1))
        job_id = queue.enqueue(s, kind="test.duplicate", payload={"dedupe_key": secret}, max_attempts=1).id
    assert Worker(db).run_once() == 1
    job = _job(db, job_id)
    assert job.status == "dead"
    assert "IntegrityError" in (job.last_error or "")
    assert secret not in (job.last_error or "")


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


def test_two_workers_racing_on_an_expired_lease_apply_the_effect_once(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.slow", payload={"key": "both", "sleep": 0.5}).id
    [first] = queue.claim(db, worker="first", lease_seconds=60)
    with db.unit_of_work() as s:  # the first worker stalled past its lease
        s.execute(update(Job).where(Job.id == job_id).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    [second] = queue.claim(db, worker="second", lease_seconds=60)
    assert second.attempts == first.attempts + 1
    outcomes: dict[str, str] = {}
    threads = [threading.Thread(target=lambda c=c, w=w: outcomes.__setitem__(w, queue.run(db, c, worker=w)))
               for c, w in ((first, "first"), (second, "second"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {"first": "lost", "second": "done"}
    assert _effects(db, "both") == 1
    job = _job(db, job_id)
    assert (job.status, job.worker) == ("done", "second")


def test_workers_of_one_process_have_distinct_ids(db):  # type: ignore[no-untyped-def]
    assert len({Worker(db).id for _ in range(3)}) == 3


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


def test_long_job_keeps_its_lease_while_it_runs(db):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.slow", payload={"key": "long", "sleep": 5}).id
    worker = Worker(db, WorkerOptions(lease_seconds=2))
    t = threading.Thread(target=worker.run_once)
    t.start()
    try:
        time.sleep(3.2)  # past the first lease: without renewal another worker would take the job
        assert _job(db, job_id).status == "running"
        assert queue.claim(db, worker="other", lease_seconds=60) == []
    finally:
        t.join()
    assert _job(db, job_id).status == "done"
    assert _effects(db, "long") == 1


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


def test_worker_stops_on_sigterm_after_finishing_the_current_job(db, tmp_path):  # type: ignore[no-untyped-def]
    marker = tmp_path / "started"
    with db.unit_of_work() as s:
        job_id = queue.enqueue(s, kind="test.block", payload={"key": "term", "marker": str(marker),
                                                              "sleep": 2}).id
    cmd = [sys.executable, "-m", "tongban", "worker", "--import", "tests.jobhandlers", "--idle-sleep", "0.1"]
    proc = subprocess.Popen(cmd, env=_worker_env(db, tmp_path), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline, "the worker never started the job"
            assert proc.poll() is None, "the worker exited"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert _job(db, job_id).status == "done"
    assert _effects(db, "term") == 1
    assert "worker stopped" in err and "term" not in err.replace('"kind": "test.block"', "")  # no payload


def _enqueued(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(Job).where(Job.kind == "test.effect")) or 0


def _race(db, workers: int) -> None:  # type: ignore[no-untyped-def]
    if db.is_sqlite:
        queue.enqueue_due_schedules(db)  # one worker on SQLite
        return
    threads = [threading.Thread(target=queue.enqueue_due_schedules, args=(db,)) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_periodic_schedule_enqueues_once_per_interval(db):  # type: ignore[no-untyped-def]
    registry.schedule("test.tick", "test.effect", interval_seconds=3600, payload={"key": "tick"})
    try:
        queue.sync_schedules(db)
        _race(db, 4)
        assert _enqueued(db) == 1
        _race(db, 4)
        assert _enqueued(db) == 1  # not due again within the interval
        with db.unit_of_work() as s:
            nxt = s.get_one(JobSchedule, "test.tick").next_run_at
        assert nxt > utcnow() + dt.timedelta(minutes=59)
        # The interval passes: due again, enqueued once more.
        with db.unit_of_work() as s:
            s.execute(update(JobSchedule).where(JobSchedule.name == "test.tick")
                      .values(next_run_at=utcnow() - dt.timedelta(seconds=1)))
        _race(db, 4)
        assert _enqueued(db) == 2
        queue.sync_schedules(db)  # a restarting worker keeps the due time
        with db.unit_of_work() as s:
            assert s.get_one(JobSchedule, "test.tick").next_run_at > utcnow() + dt.timedelta(minutes=59)
    finally:
        registry._schedules.pop("test.tick", None)


def test_workers_starting_together_create_each_schedule_once(db):  # type: ignore[no-untyped-def]
    registry.schedule("test.tick", "test.effect", interval_seconds=60, payload={"key": "tick"})
    errors: list[BaseException] = []

    def sync() -> None:
        try:
            queue.sync_schedules(db)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    try:
        threads = [threading.Thread(target=sync) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with db.unit_of_work() as s:
            assert s.scalar(select(func.count()).select_from(JobSchedule).where(JobSchedule.name == "test.tick")) == 1
    finally:
        registry._schedules.pop("test.tick", None)


def test_shortened_interval_takes_effect_at_the_next_start(db):  # type: ignore[no-untyped-def]
    registry.schedule("test.tick", "test.effect", interval_seconds=86400, payload={"key": "tick"})
    try:
        queue.sync_schedules(db)
        queue.enqueue_due_schedules(db)  # next run tomorrow
        registry.schedule("test.tick", "test.effect", interval_seconds=60, payload={"key": "tick"})
        queue.sync_schedules(db)
        with db.unit_of_work() as s:
            row = s.get_one(JobSchedule, "test.tick")
        assert row.interval_seconds == 60 and row.next_run_at <= utcnow() + dt.timedelta(seconds=60)
    finally:
        registry._schedules.pop("test.tick", None)


def test_audit_seal_runs_as_a_periodic_job(db):  # type: ignore[no-untyped-def]
    registry.load_modules([])
    with db.unit_of_work() as s:
        record(s, actor="system:test", action="test.unsealed", subject="u")
        s.info.pop("after_commit")  # leave the event unsealed, as a crashed sealer would
    with db.unit_of_work() as s:
        assert s.scalar(select(AuditEvent.seq).where(AuditEvent.action == "test.unsealed")) is None
    queue.sync_schedules(db)
    assert Worker(db).run_once() >= 1
    with db.unit_of_work() as s:
        assert s.scalar(select(AuditEvent.seq).where(AuditEvent.action == "test.unsealed")) is not None
        seal_job = s.scalars(select(Job).where(Job.kind == "audit.seal")).one()
        assert seal_job.status == "done"
        assert s.get_one(JobSchedule, "audit.seal").interval_seconds == 5


def test_workers_in_parallel_run_each_job_once(db):  # type: ignore[no-untyped-def]
    # PostgreSQL: SKIP LOCKED. SQLite (one worker advised): claims queue on the write lock, so a
    # second worker by mistake is still safe.
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
    r = cli("jobs", "list", "--status", "done")
    assert "test.effect" in r.output
    assert "test.effect" not in cli("jobs", "list", "--status", "dead").output
    r = cli("jobs", "list", "--status", "finished")
    assert r.exit_code == 2 and "--status must be one of" in r.output
    assert cli("jobs", "retry", "999999").exit_code == 2
    r = cli("jobs", "retry", "1")
    # The CLI speaks the default language (zh_CN): compare with the catalog's own wording.
    from tongban.core.i18n import gettext

    expected = gettext("Only a dead job can be retried; this one is %(status)s.") % {"status": "done"}
    assert r.exit_code == 2 and expected in r.output.replace("\n", "")
    assert _job(db, 1).status == "done"  # the refused retry changed nothing
    assert "audit.seal" in cli("jobs", "schedules").output
    assert cli("worker", "--once", "--import", "no.such.module").exit_code == 2
    r = cli("worker", "--once", "--concurrency", "2", "--import", "tests.jobhandlers")
    if db.is_sqlite:
        assert r.exit_code == 2 and "SQLite runs one worker" in r.output
    else:
        assert r.exit_code == 0, r.output


def test_purge_deletes_only_finished_jobs_past_their_retention(db, cli):  # type: ignore[no-untyped-def]
    now = utcnow()
    ages = {"done-old": ("done", 8), "done-new": ("done", 6), "dead-old": ("dead", 91),
            "dead-new": ("dead", 30), "queued-old": ("queued", None), "running": ("running", None)}
    ids = {}
    with db.unit_of_work() as s:
        for key, (status, days) in ages.items():
            job = queue.enqueue(s, kind="test.effect", payload={"key": key})
            job.status = status
            job.created_at = now - dt.timedelta(days=200)
            job.finished_at = now - dt.timedelta(days=days) if days is not None else None
            ids[key] = job.id
    with db.unit_of_work() as s:
        assert queue.purge(s, now=now) == (1, 1)
    with db.unit_of_work() as s:
        left = set(s.scalars(select(Job.id)))
    assert left == {ids[k] for k in ("done-new", "dead-new", "queued-old", "running")}
    with db.unit_of_work() as s, pytest.raises(Exception) as refused:
        queue.purge(s, done_days=0)
    assert getattr(refused.value, "field", None) == "done_days"
    r = cli("jobs", "purge", "--done-days", "1", "--dead-days", "1")
    assert r.exit_code == 0, r.output
    assert "deleted 1 done and 1 dead" in r.output
    with db.unit_of_work() as s:
        assert {j.status for j in s.scalars(select(Job))} == {"queued", "running"}
    registry.load_modules([])
    queue.sync_schedules(db)
    assert "jobs.purge" in cli("jobs", "schedules").output

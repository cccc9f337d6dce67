"""`tongban worker` and `tongban jobs …`."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from tongban.core import cliutil
from tongban.core.cliutil import console, fail

app = typer.Typer(help="Background jobs.", no_args_is_help=True)


def worker(
    once: bool = typer.Option(False, "--once", help="Run what is due now, then exit."),
    concurrency: int = typer.Option(1, min=1, help="Worker threads (PostgreSQL only beyond 1)."),
    lease: int = typer.Option(
        300, min=1, help="Lease seconds: renewed every third while a job runs; a killed worker's job returns after it."
    ),
    idle_sleep: float = typer.Option(1.0, min=0.05, help="Seconds to wait when nothing is ready."),
    import_: list[str] = typer.Option([], "--import", help="Extra module registering handlers; repeat."),
) -> None:
    """Run background jobs (deadline warnings, notifications, screening runs, audit sealing)."""
    from tongban.core.jobs.worker import WorkerOptions, serve
    from tongban.core.logging import configure

    settings = cliutil.settings()
    configure(settings.log_level)
    db = cliutil.database()
    try:
        ran = serve(db, modules=[*settings.job_modules, *import_], once=once,
                    options=WorkerOptions(lease_seconds=lease, idle_sleep=idle_sleep, concurrency=concurrency))
    except (ValueError, ImportError) as exc:
        fail(str(exc))
    if once:
        console.print(f"ran {ran} jobs")


@app.command("list")
def list_jobs(
    status: str | None = typer.Option(None, help="queued, running, done or dead."),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """The newest jobs."""
    from tongban.core.jobs.models import Job
    from tongban.core.jobs.queue import STATUSES

    if status is not None and status not in STATUSES:
        fail(f"--status must be one of {', '.join(STATUSES)}")
    with cliutil.unit_of_work() as session:
        q = select(Job).order_by(Job.id.desc()).limit(limit)
        if status:
            q = q.where(Job.status == status)
        table = Table("id", "kind", "status", "attempts", "run at (UTC)", "last error")
        for j in session.scalars(q):
            table.add_row(str(j.id), j.kind, j.status, f"{j.attempts}/{j.max_attempts}",
                          j.run_at.strftime("%Y-%m-%d %H:%M:%S"), (j.last_error or "")[:60])
    console.print(table)


@app.command("retry")
def retry(job_id: int = typer.Argument(..., help="The job's id.")) -> None:
    """Requeue a dead job now."""
    from tongban.core.jobs.queue import retry as do_retry

    with cliutil.unit_of_work() as session:
        do_retry(session, job_id=job_id)
    console.print(f"job {job_id} requeued")


@app.command("purge")
def purge(
    done_days: int = typer.Option(7, min=1, help="Delete done jobs finished more than this many days ago."),
    dead_days: int = typer.Option(90, min=1, help="Delete dead jobs failed more than this many days ago."),
) -> None:
    """Delete finished jobs past their retention (a worker also does this hourly)."""
    from tongban.core.jobs.queue import purge as do_purge

    with cliutil.unit_of_work() as session:
        done, dead = do_purge(session, done_days=done_days, dead_days=dead_days)
    console.print(f"deleted {done} done and {dead} dead jobs")


@app.command("schedules")
def schedules() -> None:
    """Periodic jobs and when they next run."""
    from tongban.core.jobs.models import JobSchedule

    with cliutil.unit_of_work() as session:
        table = Table("name", "kind", "every (s)", "next run (UTC)")
        for s in session.scalars(select(JobSchedule).order_by(JobSchedule.name)):
            table.add_row(s.name, s.kind, str(s.interval_seconds), s.next_run_at.strftime("%Y-%m-%d %H:%M:%S"))
    console.print(table)


def register(root: typer.Typer) -> None:
    """Add `tongban worker` to the root app."""
    root.command("worker")(worker)

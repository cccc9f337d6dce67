"""`tongban bench jobs`: the job queue's own cost — jobs enqueued and run per second with a
handler that does nothing, on a scratch SQLite database and optionally on PostgreSQL with
1 and N worker threads. Run it against a scratch database: it runs every job that is due there."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import delete
from sqlalchemy.orm import Session

from tongban.core.cliutil import console, fail
from tongban.core.db import Database
from tongban.core.jobs.registry import handler
from tongban_bench import app

KIND = "bench.noop"


@handler(KIND)
def _noop(session: Session, payload: dict[str, Any]) -> None:
    """Nothing: what is measured is the claim, the lease and the guarded done mark."""


def measure(url: str, *, jobs: int, concurrency: int) -> tuple[float, float]:
    """(enqueued per second in one transaction, run per second) for `jobs` no-op jobs."""
    from tongban.core import migrate
    from tongban.core.jobs import queue
    from tongban.core.jobs.models import Job
    from tongban.core.jobs.worker import WorkerOptions, serve

    db = Database(url) if url.startswith("sqlite") else Database(url, pool_size=concurrency * 2 + 2)
    try:
        migrate.upgrade(db)
        with db.unit_of_work() as session:
            session.execute(delete(Job).where(Job.kind == KIND))
        started = time.perf_counter()
        with db.unit_of_work() as session:
            for i in range(jobs):
                queue.enqueue(session, kind=KIND, payload={"i": i})
        enqueued = time.perf_counter()
        serve(db, modules=[], options=WorkerOptions(concurrency=concurrency), once=True)
        ran = time.perf_counter()
        with db.unit_of_work() as session:
            session.execute(delete(Job).where(Job.kind == KIND))
        return jobs / (enqueued - started), jobs / (ran - enqueued)
    finally:
        db.dispose()


@app.command("jobs")
def bench_jobs(
    jobs: int = typer.Option(2000, min=1, help="No-op jobs per run."),
    concurrency: int = typer.Option(4, min=1, help="Worker threads for the second PostgreSQL run."),
    pg_url: str | None = typer.Option(None, help="A scratch PostgreSQL database to measure as well."),
) -> None:
    """Jobs enqueued and run per second (SQLite: one worker; PostgreSQL: 1 and N threads)."""
    runs: list[tuple[str, int, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(("SQLite", 1, f"sqlite:///{Path(tmp) / 'bench.db'}"))
        if pg_url:
            if not pg_url.startswith("postgres"):
                fail("--pg-url must be a postgresql:// URL")
            runs.append(("PostgreSQL", 1, pg_url))
            if concurrency > 1:
                runs.append(("PostgreSQL", concurrency, pg_url))
        table = Table("database", "workers", "jobs", "enqueue /s", "run /s")
        for name, threads, url in runs:
            put, run = measure(url, jobs=jobs, concurrency=threads)
            table.add_row(name, str(threads), f"{jobs:,}", f"{put:,.0f}", f"{run:,.0f}")
    console.print(table)

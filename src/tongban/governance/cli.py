"""`tongban quality …`: run the quality rules as a job with a progress bar, list issues and
scores; `tongban datahub dcat`: the catalog as DCAT-AP JSON-LD or CSV."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select, update

from tongban.core import cliutil
from tongban.core.cliutil import console

app = typer.Typer(help="Data quality (数据质量): rules, runs, issues, scores.", no_args_is_help=True)

STATUS_ZH = {"reported": "反馈", "rectifying": "整改", "verifying": "核验", "closed": "已关闭"}


def run_now(dataset_id: str | None, *, actor: str = "system:cli") -> tuple[int, float]:
    """Queue a run as a job and run that job here, with a progress bar; return (run id, seconds)."""
    from tongban.core.jobs import queue
    from tongban.core.jobs.models import Job
    from tongban.core.timeutil import utcnow
    from tongban.governance import quality

    db = cliutil.database()
    with cliutil.unit_of_work() as session:
        run, job_id = quality.start_run(session, actor=actor, dataset_id=dataset_id)
        run_id = run.id
    worker = f"cli:{os.getpid()}"
    lease = 600
    with db.unit_of_work() as session:
        session.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(
            status="running", worker=worker, attempts=Job.attempts + 1,
            lease_until=utcnow() + dt.timedelta(seconds=lease)))
    claim = queue.Claim(job_id, "quality.run", {"run_id": run_id}, 1, 2, lease)
    started = time.perf_counter()
    with cliutil.progress() as bar:
        task = bar.add_task("quality rules", total=None)

        def hook(rule_id: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=rule_id)

        token = quality.progress_hook.set(hook)
        try:
            status = queue.run(db, claim, worker=worker)
        finally:
            quality.progress_hook.reset(token)
    seconds = time.perf_counter() - started
    if status != "done":
        with db.unit_of_work() as session:
            error = session.get_one(Job, job_id).last_error
        cliutil.fail(f"the quality run failed (job {job_id}): {error}", cliutil.EXIT_FAILED)
    return run_id, seconds


@app.command("run")
def run_cmd(dataset: str | None = typer.Option(None, "--dataset", help="Only this dataset's rules, e.g. ds.person.")) -> None:
    """Check the quality rules (all, or one dataset's) as a job; open or update issues for the owners."""
    from tongban.governance.models import QualityIssue, QualityResult, QualityRun, QualityScore

    run_id, seconds = run_now(dataset)
    table = Table(title=f"quality run {run_id}")
    for col in ("rule", "dataset", "checked", "failed", "seconds"):
        table.add_column(col, justify="left" if col in ("rule", "dataset") else "right")
    with cliutil.unit_of_work() as session:
        run = session.get_one(QualityRun, run_id)
        for r in session.scalars(select(QualityResult).where(QualityResult.run_id == run_id).order_by(QualityResult.id)):
            table.add_row(r.rule_id, r.dataset_id, f"{r.checked:,}", f"[red]{r.failed:,}[/]" if r.failed else "0",
                          f"{r.seconds or 0:.2f}")
        scores = list(session.scalars(select(QualityScore).where(QualityScore.run_id == run_id)))
        open_issues = len(list(session.scalars(select(QualityIssue.id).where(QualityIssue.status != "closed"))))
        console.print(table)
        console.print("scores: " + ", ".join(f"{s.dataset_id} {s.score:.2f}" for s in scores))
        console.print(f"{run.rules} rules, {run.failed_rules} failing; {open_issues} open issues; "
                      f"run took {run.seconds:.2f} s ({seconds:.2f} s with the job)")


@app.command("issues")
def issues_cmd(
    department: str | None = typer.Option(None, help="Only this owner department's issues."),
    all_: bool = typer.Option(False, "--all", help="Also closed issues."),
) -> None:
    """Quality issues (问题数据) with their status, counts and owner."""
    from tongban.governance.models import QualityIssue

    table = Table(title="quality issues (问题数据)")
    for col in ("id", "rule", "dataset", "department", "status", "failed", "checked"):
        table.add_column(col)
    with cliutil.unit_of_work() as session:
        q = select(QualityIssue).order_by(QualityIssue.id)
        if department:
            q = q.where(QualityIssue.department_id == department)
        if not all_:
            q = q.where(QualityIssue.status != "closed")
        for i in session.scalars(q):
            table.add_row(str(i.id), i.rule_id, i.dataset_id, i.department_id,
                          f"{STATUS_ZH[i.status]} {i.status}", f"{i.failed:,}", f"{i.checked:,}")
    console.print(table)


@app.command("rules")
def rules_cmd(dataset: str | None = typer.Option(None, "--dataset")) -> None:
    """The quality rules loaded from the pack."""
    from tongban.governance.models import QualityRule

    table = Table(title="quality rules (数据质量规则)")
    for col in ("id", "dataset", "kind", "field", "severity", "description"):
        table.add_column(col)
    with cliutil.unit_of_work() as session:
        q = select(QualityRule).order_by(QualityRule.dataset_id, QualityRule.id)
        if dataset:
            q = q.where(QualityRule.dataset_id == dataset)
        for r in session.scalars(q):
            table.add_row(r.id, r.dataset_id, r.kind, r.definition.get("field", ""), r.severity, r.description_zh)
    console.print(table)


def dcat_cmd(
    format: str = typer.Option("jsonld", "--format", help="jsonld or csv."),
    internal: bool = typer.Option(False, "--internal", help="Include 禁止开放 datasets (not for publication)."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of standard output."),
) -> None:
    """The catalog as DCAT-AP: JSON-LD (context inlined) or CSV. Public by default (no 禁止开放)."""
    from tongban.governance import dcat

    if format not in ("jsonld", "csv"):
        cliutil.fail("--format: jsonld or csv")
    base = cliutil.settings().public_base()
    with cliutil.unit_of_work() as session:
        text = (dcat.jsonld if format == "jsonld" else dcat.csv_text)(session, base=base, public=not internal)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")

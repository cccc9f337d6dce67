"""`tongban screen`: run a screening from the command line, with a progress bar, and print the
counts per policy, the time and the peak memory."""

from __future__ import annotations

import resource
import sys
import time

import typer
from rich.table import Table

from tongban.core import cliutil
from tongban.core.i18n import N_, gettext


def screen(
    policy: list[str] = typer.Option(None, "--policy", help="Policy id (repeat for several; default: all)."),
    region: str | None = typer.Option(None, "--region", help="Region code (default: the department's region)."),
    backend: str = typer.Option("polars", "--backend", help="polars | duckdb | postgres | spark"),
    source: str = typer.Option("registry", "--source",
                               help="registry (an audited snapshot of the registry) or parquet:DIR (view "
                                    "snapshots held as Parquet: DIR/person, DIR/household, DIR/previous)."),
    as_of: str | None = typer.Option(None, "--as-of", help="As-of date YYYY-MM-DD (default: today)."),
    department: str = typer.Option(..., "--department",
                                   help="The department whose grant the snapshot is read on (民政 or 大数据局)."),
) -> None:
    """Screen the population for entitlements (应享尽享) and risks (返贫预警)."""
    from tongban.screening.jobs import scheduler_principal
    from tongban.screening.runs import RunRequest, counts, parse_date
    from tongban.screening.runs import screen as run_screen

    started = time.perf_counter()
    steps = {"snapshot": 1, "evaluate": 2, "outcomes": 3, "counts": 3, "record": 4}
    with cliutil.unit_of_work() as session, cliutil.progress() as bar:
        task = bar.add_task(gettext(N_("Screening")), total=len(steps))

        marks: list[tuple[str, float, float, float]] = []  # step, wall, CPU (user+sys), peak RSS

        def tick(step: str) -> None:
            marks.append((step, time.perf_counter(), _cpu_s(), _peak_mib()))
            bar.update(task, completed=steps.get(step, 0), description=f"{gettext('Screening')}: {step}")

        principal = scheduler_principal(session, department, region, client_id="cli:screen")
        req = RunRequest(policy_ids=list(policy) if policy else None, region_code=region, backend=backend,
                         as_of=parse_date(as_of), source=source)
        run = run_screen(session, principal=principal, var_dir=cliutil.settings().var_dir, req=req, progress=tick)
        bar.update(task, completed=len(steps))
        marks.append(("", time.perf_counter(), _cpu_s(), _peak_mib()))
        rows = counts(session, principal=principal, run=run, level=6)
        run_id, totals, snapshot = run.id, dict(run.totals), run.snapshot_id
    table = Table(title=f"{gettext(N_('Screening run'))} {run_id} · snapshot {snapshot}")
    for col in ("policy", "region", "subjects", "eligible", "enrolled", "not enrolled"):
        table.add_column(col, justify="right" if col not in ("policy", "region") else "left")
    for r in rows:
        table.add_row(r["policy_id"], r["region_code"], str(r["subjects"]), str(r["eligible"]), str(r["enrolled"]),
                      str(r["not_enrolled"]))
    cliutil.console.print(table)
    peak = _peak_mib()
    if totals.get("rule_hits"):
        cliutil.console.print("rule hits " + ", ".join(f"{r} {n:,}" for r, n in totals["rule_hits"].items()))
    cliutil.console.print(f"subjects {totals.get('subjects', 0):,} · cases {totals.get('cases', 0):,} · "
                          f"offers {totals.get('offers', 0)} · "
                          f"alerts {totals.get('alerts', 0)} · {time.perf_counter() - started:.2f} s · "
                          f"peak memory {peak:.0f} MiB")
    # each step's wall and CPU time, and the peak memory when it ended (which step made the peak)
    cliutil.console.print("steps: " + " · ".join(
        f"{step} {end - start:.1f} s, CPU {cpu_end - cpu:.1f} s (peak {mib:,.0f} MiB)"
        for (step, start, cpu, _), (_, end, cpu_end, mib) in zip(marks, marks[1:], strict=False)))


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1024 * 1024)

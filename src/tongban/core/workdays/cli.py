"""`tongban calendar …`: load a year's working-day schedule from a file, show a year's schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NoReturn

import typer
from rich.table import Table

from tongban.core import cliutil
from tongban.core.cliutil import console, err_console
from tongban.core.packs.loader import PackError
from tongban.core.timeutil import library_knows
from tongban.core.workdays.models import CalendarYear
from tongban.core.workdays.schedule import WEEKDAYS, load_schedule, read_schedule_file

app = typer.Typer(help="Working-day schedules per year (放假安排, 调休).", no_args_is_help=True)


def _refused(exc: PackError) -> NoReturn:
    err_console.print(f"[bold red]error:[/] the schedule is refused, {len(exc.problems)} problem(s):",
                      highlight=False)
    for p in exc.problems:
        err_console.print(f"  {p}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(cliutil.EXIT_INVALID)


@app.command("load")
def load(file: Path = typer.Argument(..., help="A year's schedule, YAML or JSON (docs/operator.md).")) -> None:
    """Check a year's schedule and store it (it then takes precedence over the library)."""
    try:
        schedule = read_schedule_file(file)
    except PackError as exc:
        _refused(exc)
    with cliutil.unit_of_work() as session:
        outcome = load_schedule(session, schedule=schedule, source=f"file:{file.name}", actor="system:cli")
    days = sum(1 for h in schedule.holidays for _ in h.days())
    console.print(f"calendar {schedule.year}: {outcome} — {len(schedule.holidays)} holiday(s), {days} day(s) off, "
                  f"{len(schedule.workdays)} adjusted workday(s)")


def _day(day: dt.date) -> str:
    return f"{day.isoformat()} {WEEKDAYS[day.weekday()][:3]}"


@app.command("show")
def show(year: int = typer.Argument(..., help="The year, e.g. 2027.")) -> None:
    """Show a year's schedule and where it comes from: loaded, the library, or none (Monday–Friday)."""
    with cliutil.unit_of_work() as session:
        row = session.get(CalendarYear, year)
        if row is None:
            if library_knows(year):
                console.print(f"calendar {year}: from the chinese-calendar library (no schedule loaded)")
            else:
                console.print(f"calendar {year}: no schedule — working days are estimated Monday to Friday "
                              "(degraded); load the published one with `tongban calendar load FILE`")
            return
        table = Table("holiday", "名称", "from", "to", "days", title=f"calendar {year}")
        for h in row.holidays:
            first, last = dt.date.fromisoformat(h["from"]), dt.date.fromisoformat(h["to"])
            table.add_row(h["name"]["en"], h["name"]["zh"], _day(first), _day(last), str((last - first).days + 1))
        console.print(table)
        workdays = ", ".join(_day(dt.date.fromisoformat(d)) for d in row.workdays) or "none"
        console.print(f"adjusted workdays (调休): {workdays}", soft_wrap=True)
        console.print(f"source {row.source}, loaded {row.loaded_at:%Y-%m-%d %H:%M} UTC by {row.loaded_by}, "
                      f"digest {row.digest[:12]}", highlight=False, soft_wrap=True)

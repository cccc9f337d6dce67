"""`tongban ratings …`: the statistics of a period (as the public page shows them) and the overdue watch."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from tongban.core import clock
from tongban.core.cliutil import console, fail, unit_of_work
from tongban.ratings import service

app = typer.Typer(help="Ratings (好差评): statistics and the overdue watch.", no_args_is_help=True)


def _date(value: str | None, default: dt.date) -> dt.date:
    if value is None:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {value!r}")
        raise


@app.command("stats")
def stats_cmd(day_from: str | None = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default: 30 days ago)."),
              day_to: str | None = typer.Option(None, "--to", help="Last day, YYYY-MM-DD (default: today)."),
              by: str = typer.Option("department", help="department | item")) -> None:
    """好评率, 差评, rectification rate and average working days per department or item."""
    end = _date(day_to, clock.today())
    start = _date(day_from, end - dt.timedelta(days=29))
    if by not in ("department", "item"):
        fail("--by is department or item")
    with unit_of_work() as session:
        rows = service.statistics(session, day_from=start, day_to=end, by=by)
        table = Table(by, "rated", "good %", "bad", "rectified", "avg working days", title=f"{start} – {end}")
        for f in rows:
            table.add_row(f.key, str(f.rated), f"{f.good_rate * 100:.1f}" if f.good_rate is not None else "—",
                          str(f.bad), f"{f.answered}/{f.rectifications}",
                          f"{f.average_days:.1f}" if f.average_days is not None else "—")
        console.print(table)


@app.command("overdue")
def overdue_cmd() -> None:
    """Flag the rectifications past their step's due date now (the hourly job does this too)."""
    with unit_of_work() as session:
        flagged = service.flag_overdue(session)
    console.print(f"{flagged} rectification(s) flagged overdue")

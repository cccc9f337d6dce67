"""`tongban appointments …`: the bookable resources and their days, a day's bookings as the staff
page shows them, and the day-before reminders (the job the worker runs every half hour)."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from tongban.appointments import service
from tongban.core import clock
from tongban.core.cliutil import console, fail, unit_of_work
from tongban.core.i18n import pick
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account

app = typer.Typer(help="Appointments (分时预约): resources, the day's bookings, reminders.", no_args_is_help=True)


@app.command("resources")
def resources_cmd() -> None:
    """The bookable resources: place, department, slot length, capacity."""
    with unit_of_work() as session:
        table = Table("id", "kind", "title", "place", "department", "slot min", "capacity", "ahead")
        for r in service.resources(session):
            table.add_row(r.id, r.kind, pick(service.title(r)), r.place_key, r.department_id,
                          str(r.rules["slot_minutes"]), str(r.rules["capacity"]), str(r.rules["book_ahead_days"]))
        console.print(table)


@app.command("days")
def days_cmd(resource_id: str = typer.Argument(..., help="The resource's id."),
             days: int = typer.Option(7, min=1, max=62, help="How many days from today.")) -> None:
    """A resource's next days: open or closed (holiday, 调休), slots and places left."""
    with unit_of_work() as session:
        try:
            r = service.resource(session, resource_id)
        except service.NotFound:
            fail(f"no resource {resource_id!r}")
        table = Table("day", "open", "slots", "places left", "note")
        for d in service.days(session, r, count=days):
            note = "holiday" if d.holiday else "adjusted workday (调休)" if d.adjusted_workday else ""
            table.add_row(d.day.isoformat(), "yes" if d.open else "no", str(len(d.slots)),
                          str(sum(s.left for s in d.slots if not s.past)), note)
        console.print(table)


@app.command("day")
def day_cmd(resource_id: str = typer.Argument(..., help="The resource's id."),
            username: str = typer.Option(..., "--as", help="A staff member serving the resource."),
            day: str = typer.Option("", help="YYYY-MM-DD (default: today).")) -> None:
    """The day's bookings of a resource, masked and audited as on the workbench page."""
    with unit_of_work() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            fail(f"no account {username!r}")
        principal = identity.principal_for_account(session, account)
        rows = service.day_bookings(session, principal=principal, resource_id=resource_id,
                                    day=day or clock.today().isoformat())
        table = Table("id", "time", "resident", "ID number", "status")
        for b in rows:
            table.add_row(str(b["id"]), f"{b['start']}-{b['end']}", b["name"], b["id_number"], b["status"])
        console.print(table)


@app.command("remind")
def remind_cmd() -> None:
    """Send the day-before reminders now (tomorrow's active bookings not reminded yet)."""
    with unit_of_work() as session:
        n = service.remind_due(session)
    console.print(f"reminders sent: {n}")

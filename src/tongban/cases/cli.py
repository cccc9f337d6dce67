"""`tongban cases …`: list a caller's cases, run the overdue watch (督办), manage Open311 keys."""

from __future__ import annotations

import hashlib
import secrets

import typer
from rich.table import Table
from sqlalchemy import select

from tongban.cases import engine
from tongban.cases.models import Open311Key
from tongban.core import clock
from tongban.core.audit.log import record
from tongban.core.cliutil import console, fail, unit_of_work
from tongban.core.identity import service as identity
from tongban.core.identity.models import Account

app = typer.Typer(help="12345 cases and grid events (诉求, 网格事件), Open311 keys.", no_args_is_help=True)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@app.command("list")
def list_cmd(username: str = typer.Option(..., "--as", help="The staff member whose queue to list."),
             tab: str = typer.Option("open", help="open | intake | overdue | answered | closed")) -> None:
    """A staff member's case queue (the operator's region, a department's cases), as the page shows it."""
    with unit_of_work() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            fail(f"no account {username!r}")
        principal = identity.principal_for_account(session, account)
        page = engine.queue(session, principal=principal, tab=tab, limit=200)
        table = Table("id", "type", "category", "status", "department", "due", "region")
        for c in page.rows:
            table.add_row(str(c.id), c.type, c.category_id, c.status, c.department_id or "—", str(c.due_date),
                          c.region_code)
        console.print(table)


@app.command("callers")
def callers_cmd(query: str = typer.Argument(..., help="The caller's phone number, ID number or name."),
                username: str = typer.Option(..., "--as", help="The 12345 operator looking the caller up."),
                birth_date: str | None = typer.Option(None, help="With a name: the birth date, YYYY-MM-DD.")) -> None:
    """找人: the registered residents matching a caller, in the operator's region, masked and
    audited as on the intake page (the data hub's search)."""
    import datetime as dt

    from tongban.core import access
    from tongban.core.errors import Invalid

    try:
        born = dt.date.fromisoformat(birth_date) if birth_date else None
    except ValueError:
        fail("birth date: YYYY-MM-DD")
    with unit_of_work() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None:
            fail(f"no account {username!r}")
        principal = identity.principal_for_account(session, account)
        try:
            found = engine.find_callers(session, principal=principal, query=query, birth_date=born)
        except (Invalid, access.Denied) as exc:
            fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
        table = Table("person id", "name", "phone", "ID number", "region")
        for p in found:
            table.add_row(str(p["id"]), p["name"] or "", p["phone"] or "", p["id_number"] or "", p["region_code"] or "")
        console.print(table)
        console.print(f"{len(found)} found")


@app.command("watch")
def watch_cmd() -> None:
    """Run the overdue watch now: flag and supervise (督办) open cases past their due date."""
    with unit_of_work() as session:
        n = engine.flag_overdue(session, today=clock.today())
    console.print(f"supervised {n} overdue case(s)")


@app.command("demo")
def demo_cmd() -> None:
    """File the demo's cases (demo_cases.yaml of the loaded demo pack): open, overdue, closed."""
    from tongban.cases.demo import seed_demo_cases

    with unit_of_work() as session:
        n = seed_demo_cases(session)
    console.print(f"filed {n} demo case(s)")


@app.command("key-create")
def key_create(name: str = typer.Argument(..., help="Who the Open311 client is, e.g. 'city app'.")) -> None:
    """Create an Open311 API key; it is printed once (only its SHA-256 is kept)."""
    key = "o311_" + secrets.token_urlsafe(24)
    with unit_of_work() as session:
        row = Open311Key(name=name[:100], digest=key_digest(key), created_at=clock.now())
        session.add(row)
        session.flush()
        record(session, actor="system:cli", action="open311.key_created", subject=f"open311_key:{row.id}",
               details={"key": row.id})
        key_id = row.id
    console.print(f"key {key_id}: {key}")


@app.command("key-revoke")
def key_revoke(key_id: int = typer.Argument(...)) -> None:
    """Revoke an Open311 API key."""
    with unit_of_work() as session:
        row = session.get(Open311Key, key_id)
        if row is None:
            fail(f"no key {key_id}")
        row.revoked_at = clock.now()
        record(session, actor="system:cli", action="open311.key_revoked", subject=f"open311_key:{row.id}",
               details={"key": row.id})
    console.print(f"key {key_id} revoked")

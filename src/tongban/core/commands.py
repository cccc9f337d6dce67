"""Core commands: `migrate`, `user …`, `client …` (declared in core/slice.py; `serve` is the app's)."""

from __future__ import annotations

import typer
from rich.table import Table

from tongban.core import cliutil, migrate
from tongban.core.access import PERMISSIONS
from tongban.core.cliutil import console

user_app = typer.Typer(help="Accounts (residents and staff).", no_args_is_help=True)
client_app = typer.Typer(help="API clients of departments.", no_args_is_help=True)


def migrate_cmd(
    revision: str = typer.Argument("heads", help="Target revision (default: the newest)."),
) -> None:
    """Bring the database schema to the newest migration."""
    db = cliutil.database()
    before = migrate.current_revisions(db)
    migrate.upgrade(db, revision)
    after = migrate.current_revisions(db)
    console.print(f"migrations: {', '.join(sorted(before)) or 'empty'} → {', '.join(sorted(after))}")


def _password(password: str | None) -> str:
    if password:
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def user_create(
    username: str = typer.Option(..., help="Login name."),
    name: str = typer.Option(..., help="Display name."),
    kind: str = typer.Option("staff", help="staff or resident."),
    department: str | None = typer.Option(None, help="Department id (staff)."),
    region: str | None = typer.Option(None, help="Region code (default: the department's)."),
    role: list[str] = typer.Option([], help="Role id; repeat for several."),
    id_number: str | None = typer.Option(None, help="Resident ID number (residents)."),
    password: str | None = typer.Option(None, envvar="TONGBAN_NEW_PASSWORD",
                                        help="Password (prompted when omitted)."),
) -> None:
    """Create an account (the way to make the first platform admin)."""
    from tongban.core.audit.log import record
    from tongban.core.identity import service as identity

    secret = _password(password)
    with cliutil.unit_of_work() as session:
        account = identity.create_account(
            session, kind=kind, username=username, password=secret, display_name=name,
            roles=role or None, department_id=department, region_code=region, id_number=id_number,
        )
        record(session, actor="system:cli", action="account.create", subject=f"account:{account.id}",
               department_id=department, details={"roles": sorted(role), "kind": kind})
        console.print(f"created {kind} account [bold]{username}[/] (id {account.id})")


@user_app.command("list")
def user_list(department: str | None = typer.Option(None, help="Only this department.")) -> None:
    """List accounts."""
    from sqlalchemy import select

    from tongban.core.identity.models import Account

    with cliutil.unit_of_work() as session:
        q = select(Account).order_by(Account.kind, Account.username)
        if department:
            q = q.where(Account.department_id == department)
        table = Table("id", "username", "kind", "department", "region", "roles", "active")
        for a in session.scalars(q):
            table.add_row(str(a.id), a.username, a.kind, a.department_id or "", a.region_code or "",
                          ",".join(a.role_ids), "yes" if a.active else "no")
    console.print(table)


@client_app.command("create")
def client_create(
    client_id: str = typer.Option(..., help="Client id."),
    name: str = typer.Option(..., help="Name."),
    department: str = typer.Option(..., help="Owning department id."),
    scope: list[str] = typer.Option([], help=f"Scope; repeat. One of: {', '.join(PERMISSIONS)}"),
) -> None:
    """Register an API client; prints its secret once."""
    from tongban.core.audit.log import record
    from tongban.core.identity import service as identity

    with cliutil.unit_of_work() as session:
        _client, secret = identity.create_client(
            session, client_id=client_id, name=name, department_id=department, scopes=scope
        )
        record(session, actor="system:cli", action="client.create", subject=f"client:{client_id}",
               department_id=department, details={"scopes": sorted(scope)})
    console.print(f"client [bold]{client_id}[/] created; secret (shown once): {secret}")

"""`tongban keys …`: create, rotate and list signing keys."""

from __future__ import annotations

import typer
from rich.table import Table

from tongban.core import cliutil
from tongban.core.cliutil import console, fail
from tongban.core.keys import PURPOSES, keyring_for, register_public_keys

app = typer.Typer(help="Signing keys (audit checkpoints, certificates, codes).", no_args_is_help=True)


def _purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        fail(f"purpose: one of {', '.join(PURPOSES)}")
    return purpose


@app.command("create")
def create(purpose: str = typer.Option(..., help=f"One of {', '.join(PURPOSES)}.")) -> None:
    """Create the first key for a purpose (or a new active one)."""
    ring = keyring_for(cliutil.settings())
    kid = ring.create(_purpose(purpose))
    with cliutil.unit_of_work() as session:
        register_public_keys(session, ring)
    console.print(f"created {purpose} key {kid}")


@app.command("rotate")
def rotate(purpose: str = typer.Option(..., help=f"One of {', '.join(PURPOSES)}.")) -> None:
    """Make a new active key; old keys stay to verify what they signed."""
    create(purpose)


@app.command("list")
def list_keys() -> None:
    """List keys: id, purpose, active."""
    ring = keyring_for(cliutil.settings())
    table = Table("key id", "purpose", "active", "created")
    for k in ring.list():
        table.add_row(k.kid, k.purpose, "yes" if k.active else "retired", k.created_at)
    console.print(table)

"""`tongban messages …`: see the outbox's deliveries, send a test message, resend a failed one."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from tongban.core.cliutil import database
from tongban.messages.models import Delivery

app = typer.Typer(help="Messages (消息): the outbox and its deliveries.", no_args_is_help=True)


@app.command("outbox")
def outbox_list(status: Annotated[str | None, typer.Option(help="queued | sent | failed")] = None,
                limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """The newest deliveries: id, channel, status, attempts, stable id, last error (no addresses)."""
    db = database()
    with db.unit_of_work() as session:
        q = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
        if status:
            q = q.where(Delivery.status == status)
        for d in session.scalars(q):
            typer.echo(f"{d.id}\t{d.channel}\t{d.status}\t{d.attempts}\t{d.external_id}\t{d.last_error or ''}")


@app.command("retry")
def retry(delivery_id: int) -> None:
    """Queue a failed delivery again (same stable id), to be sent now."""
    from tongban.core import clock
    from tongban.core.jobs.queue import enqueue

    db = database()
    with db.unit_of_work() as session:
        d = session.get(Delivery, delivery_id)
        if d is None or d.status != "failed":
            typer.echo("no failed delivery with this id", err=True)
            raise typer.Exit(2)
        d.status, d.attempts = "queued", 0
        enqueue(session, kind="messages.deliver", payload={"delivery_id": d.id}, run_at=clock.now(),
                dedupe_key=f"messages.deliver:{d.id}:retry:{clock.now().isoformat()}")
    typer.echo(f"delivery {delivery_id} queued")

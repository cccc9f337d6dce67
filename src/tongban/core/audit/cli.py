"""`tongban audit …`: verify the chain, seal, checkpoint."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from tongban.core import cliutil
from tongban.core.cliutil import console, fail

app = typer.Typer(help="The audit chain.", no_args_is_help=True)


@app.command("verify")
def verify_cmd(
    seal_first: bool = typer.Option(False, "--seal", help="Seal pending events first."),
    allow_no_checkpoints: bool = typer.Option(
        False, "--allow-no-checkpoints",
        help="Accept a chain no signed checkpoint vouches for (its hashes alone prove nothing)."),
) -> None:
    """Check every link, hash and signed checkpoint; exit 1 naming the first bad sequence number.

    A chain of events with no signed checkpoint fails too: anyone who can write the database
    can rewrite every event and recompute every hash, and only a checkpoint signed with a key
    the database does not hold tells that apart (docs/operator.md, "Audit chain")."""
    from tongban.core.audit import chain
    from tongban.core.audit.models import AuditEvent
    from tongban.core.keys import keyring_for

    settings = cliutil.settings()
    db = cliutil.database()
    if seal_first:
        chain.seal(db.engine)
    with db.engine.connect() as conn:
        total = conn.execute(select(func.count()).where(AuditEvent.seq.is_not(None))).scalar() or 0
    with cliutil.progress() as bar:
        task = bar.add_task("verifying the audit chain", total=total)
        verdict = chain.verify(db.engine, checkpoint_file=settings.audit_checkpoint_file,
                               keyring=keyring_for(settings), progress=lambda n: bar.advance(task, n))
    note = f"; {verdict.unsealed} events not sealed yet" if verdict.unsealed else ""
    if not verdict.ok:
        fail(f"audit chain broken at sequence {verdict.first_bad_seq}: {verdict.reason}", cliutil.EXIT_FAILED)
    if verdict.checked and not verdict.anchored_to:
        where = settings.audit_checkpoint_file
        if not allow_no_checkpoints:
            fail(f"audit chain NOT verified: {verdict.checked} events but no signed checkpoint in {where}; "
                 "the chain could have been rewritten with recomputed hashes. Restore the checkpoint file, "
                 "or pass --allow-no-checkpoints to accept the chain on its hashes alone.", cliutil.EXIT_FAILED)
        console.print(f"[bold red]WARNING: no signed checkpoint in {where}: the hashes alone cannot show "
                      "that the chain was not rewritten (--allow-no-checkpoints).[/bold red]")
    console.print(f"audit chain intact: {verdict.checked} events, {verdict.checkpoints} signed checkpoints, "
                  f"{verdict.seconds:.2f} s{note}")


@app.command("seal")
def seal_cmd() -> None:
    """Link pending events into the chain now and write a checkpoint."""
    from tongban.core.audit import chain

    db = cliutil.database()
    n = chain.seal(db.engine, force_checkpoint=True)
    console.print(f"sealed {n} events")


@app.command("checkpoint")
def checkpoint_cmd() -> None:
    """Write a signed checkpoint of the chain's head now."""
    from tongban.core.audit import chain

    db = cliutil.database()
    chain.seal(db.engine, force_checkpoint=True)
    console.print("checkpoint written")

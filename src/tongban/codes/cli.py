"""`tongban codes …`: generate the demo subjects, issue in bulk, verify offline, list the types."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tongban.core import cliutil
from tongban.core.cliutil import console, fail

app = typer.Typer(help="Codes (码): 浙农码, 安心码, 人才码, 出租房一码通 — issue, verify.", no_args_is_help=True)


@app.command("types")
def types() -> None:
    """The code types loaded from packs."""
    from tongban.codes import service

    table = Table()
    table.add_column("type", no_wrap=True)
    for name in ("title", "issuer", "dataset"):
        table.add_column(name)
    with cliutil.unit_of_work() as s:
        for ct in service.code_types(s):
            table.add_row(ct.id, f"{ct.family_zh} · {ct.title_zh}", ct.issuer_department_id, ct.dataset_id)
    console.print(table)


@app.command("generate")
def generate(
    count: int = typer.Option(1000, "--count", min=0, max=10_000_000, help="Rows per subject table."),
    full: bool = typer.Option(False, "--full", help="The seeds' ~800,000 subjects (overrides --count)."),
    seed: int = typer.Option(29, "--seed", help="The same seed gives the same rows."),
) -> None:
    """Add generated rows to the demo subject datasets (farms, products, domestic workers, talents,
    rented flats), up to the counts; rows already there are kept."""
    from tongban.codes import demo_data

    counts = dict(demo_data.FULL) if full else {k: count for k in demo_data.KINDS}
    with cliutil.progress() as bar, cliutil.unit_of_work() as s:
        tasks = {k: bar.add_task(k, total=n) for k, n in counts.items()}
        added = demo_data.generate(s, counts, seed=seed, progress=lambda k, n: bar.advance(tasks[k], n))
    for kind, n in added.items():
        console.print(f"{kind}: {n:,} rows added")


@app.command("issue")
def issue(
    type_id: str = typer.Option(..., "--type", help="The code type, e.g. code.domestic-worker."),
    dataset: str | None = typer.Option(None, "--from", help="The subject dataset (default: the type's)."),
    processes: int | None = typer.Option(None, "--processes", min=1, max=256, help="Signing processes (default: all cores)."),
    batch: int = typer.Option(5000, "--batch", min=1, max=100_000, help="Codes per stored batch (one audit event each)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Issue at most this many."),
) -> None:
    """Issue codes of a type to every subject of its dataset that has none, on all cores, as the
    type's issuing department. Interrupted runs resume: committed batches stay, none is issued twice."""
    from tongban.codes import bulk, service
    from tongban.core.access import Principal
    from tongban.core.errors import TongbanError
    from tongban.core.keys import keyring_for

    db = cliutil.database()
    with cliutil.unit_of_work() as s:
        ct = service.code_type(s, type_id)
        principal = Principal(kind="staff", client_id="cli:codes", department_id=ct.issuer_department_id,
                              permissions=frozenset({"task.decide"}))
    keyring = keyring_for(cliutil.settings())
    with cliutil.progress() as bar:
        task = bar.add_task(f"{type_id}", total=None)
        try:
            result = bulk.issue_bulk(db, keyring=keyring, principal=principal, type_id=type_id, dataset_id=dataset,
                                     processes=processes, batch=batch, limit=limit,
                                     on_start=lambda n: bar.update(task, total=n),
                                     progress=lambda n: bar.advance(task, n))
        except TongbanError as exc:

            msg = exc.translated()
            fail(f"{exc.field}: {msg}" if exc.field else msg)
    console.print(f"{result.issued:,} codes issued from {result.dataset} in {result.batches} batches "
                  f"({result.already:,} held a code already)")






@app.command("verify")
def verify(
    code: str = typer.Argument(..., help="The code, or the scan URL (…/c/<code>) a QR code holds."),
    keys: Path | None = typer.Option(None, "--keys", help="Published public keys (GET /api/v1/keys/public); default: the local keys."),
    revocations: Path | None = typer.Option(
        None, "--revocations", help="The signed revocation list (GET /api/v1/certificates/revocations)."),
) -> None:
    """Verify a code offline: its signature against the public keys and, given the signed
    revocation list, that it is not revoked. Exit 0 if valid, 1 if not."""
    from tongban.codes import token
    from tongban.codes.verify import check_revocations

    text = code.strip()
    if "/c/" in text:
        text = text.rsplit("/c/", 1)[1].split("?", 1)[0]
    public = cliutil.public_keys(keys)
    table = Table("check", "result")
    try:
        payload = token.verify(text, public)
    except token.BadCode as exc:
        table.add_row("signature", f"FAILED: {exc}")
        console.print(table)
        console.print(f"NOT VALID: {exc}")
        raise typer.Exit(1) from None
    table.add_row("signature", f"ok (key {payload.kid})")
    table.add_row("type", payload.type_id)
    table.add_row("subject", str(payload.subject_id))
    table.add_row("issuer", payload.issuer)
    table.add_row("issued", payload.issued_at.isoformat())
    revoked = None
    if revocations is not None:
        try:
            revoked = check_revocations(cliutil.read_json(revocations, "revocations"), public, payload)
        except ValueError as exc:
            fail(f"revocations: {exc}")
        table.add_row("revocation", "REVOKED" if revoked else "not revoked")
    else:
        table.add_row("revocation", "not checked (no --revocations list)")
    console.print(table)
    console.print("NOT VALID: revoked by the issuing department" if revoked else "VALID")
    raise typer.Exit(1 if revoked else 0)

"""`tongban cert …`: check an electronic certificate offline."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tongban.core import cliutil
from tongban.core.cliutil import console, fail
from tongban.services.certificates import verify_offline

app = typer.Typer(help="Electronic certificates (电子证照).", no_args_is_help=True)






@app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="The certificate document (JSON) as the wallet downloads it."),
    keys: Path | None = typer.Option(None, "--keys", help="Published public keys (JSON); default: the local keys."),
    revocations: Path | None = typer.Option(
        None, "--revocations", help="The signed revocation list (GET /api/v1/certificates/revocations)."),
) -> None:
    """Verify a certificate offline: signature, expiry and, given a revocation list, revocation.
    Exits 0 if valid, 1 if not."""
    doc = cliutil.read_json(file, "certificate")
    if not isinstance(doc, dict):
        fail("certificate: expected a JSON object")
    rl = cliutil.read_json(revocations, "revocations") if revocations is not None else None
    try:
        result = verify_offline(doc, cliutil.public_keys(keys), rl)
    except ValueError as exc:
        fail(f"revocations: {exc}")
    table = Table("check", "result")
    table.add_row("signature", "ok" if result["signature_valid"] else "FAILED")
    table.add_row("status", result["status"])
    table.add_row("revocation", f"checked (list of {result['revocations_issued_at']})" if result["revocation_checked"]
                  else "not checked (no --revocations list)")
    console.print(table)
    console.print("VALID" if result["valid"] else "NOT VALID")
    raise typer.Exit(0 if result["valid"] else 1)

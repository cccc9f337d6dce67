"""`tongban cert …`: check an electronic certificate offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tongban.core import cliutil
from tongban.core.cliutil import console, fail
from tongban.core.keys import keyring_for
from tongban.services.certificates import verify_offline

app = typer.Typer(help="Electronic certificates (电子证照).", no_args_is_help=True)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{what}: cannot read {path} ({exc.__class__.__name__})")


def _public_keys(path: Path | None) -> dict[str, str]:
    """Public keys: a file as `GET /api/v1/keys/public` serves it (or a kid → PEM object), else
    the local key directory's."""
    if path is None:
        return {k.kid: k.public_key_pem for k in keyring_for(cliutil.settings()).list()}
    data = _read_json(path, "keys")
    items = data.get("items", data) if isinstance(data, dict) else data
    if isinstance(items, list):
        return {k["kid"]: k["public_key_pem"] for k in items if isinstance(k, dict) and "kid" in k}
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    fail("keys: expected the list of public keys")
    return {}


@app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="The certificate document (JSON) as the wallet downloads it."),
    keys: Path | None = typer.Option(None, "--keys", help="Published public keys (JSON); default: the local keys."),
    revocations: Path | None = typer.Option(
        None, "--revocations", help="The signed revocation list (GET /api/v1/certificates/revocations)."),
) -> None:
    """Verify a certificate offline: signature, expiry and, given a revocation list, revocation.
    Exits 0 if valid, 1 if not."""
    doc = _read_json(file, "certificate")
    if not isinstance(doc, dict):
        fail("certificate: expected a JSON object")
    rl = _read_json(revocations, "revocations") if revocations is not None else None
    try:
        result = verify_offline(doc, _public_keys(keys), rl)
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

"""Shared pieces of CLI commands: settings and database, clear errors with exit codes, progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from tongban.core.config import ConfigError, Settings, get_settings
from tongban.core.db import Database, get_database
from tongban.core.errors import TongbanError

console = Console()
err_console = Console(stderr=True)

# Exit codes: 1 = the thing checked failed (e.g. a broken chain), 2 = bad input, 3 = configuration.
EXIT_FAILED, EXIT_INVALID, EXIT_CONFIG = 1, 2, 3


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


def database() -> Database:
    from tongban.core import masking
    from tongban.core.audit.chain import configure_checkpoints

    s = settings()
    configure_checkpoints(s)
    masking.configure(s.secret_key)
    return get_database()


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One CLI command, one transaction; a TongbanError becomes a clear message and exit 2."""
    db = database()
    try:
        with db.unit_of_work() as session:
            yield session
    except TongbanError as exc:
        msg = exc.translated()
        fail(f"{exc.field}: {msg}" if exc.field else msg)


def progress() -> Progress:
    """The progress bar every long-running command uses."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )


def read_json(path: Path, what: str) -> Any:
    """A JSON file named on the command line; exit 1 naming `what` and the file if it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{what}: cannot read {path} ({exc.__class__.__name__})")


def public_keys(path: Path | None) -> dict[str, str]:
    """Public keys for an offline check: a file as `GET /api/v1/keys/public` serves it (or a
    kid → PEM object), else the local key directory's."""
    from tongban.core.keys import keyring_for

    if path is None:
        return {k.kid: k.public_key_pem for k in keyring_for(settings()).list()}
    data = read_json(path, "keys")
    items = data.get("items", data) if isinstance(data, dict) else data
    if isinstance(items, list):
        return {k["kid"]: k["public_key_pem"] for k in items if isinstance(k, dict) and "kid" in k}
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    fail("keys: expected the list of public keys")

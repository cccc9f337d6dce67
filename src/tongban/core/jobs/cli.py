"""`tongban worker` and `tongban jobs …`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Background jobs.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add top-level commands (e.g. `tongban worker`) to the root app."""
    return None

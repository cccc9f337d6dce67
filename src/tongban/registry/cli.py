"""`tongban registry …` (import, search) — the synthetic city lives under `tongban demo generate`."""

from __future__ import annotations

import typer

app = typer.Typer(help="The base registries.", no_args_is_help=True)

"""`tongban audit …`: verify the chain, seal, checkpoint."""

from __future__ import annotations

import typer

app = typer.Typer(help="The audit chain.", no_args_is_help=True)

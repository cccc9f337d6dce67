"""`tongban pack …`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Content packs.", no_args_is_help=True)

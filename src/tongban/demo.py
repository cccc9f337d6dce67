"""`tongban demo …`: the demo region — load the pack and cast, generate a synthetic city, run it all."""

from __future__ import annotations

import typer

app = typer.Typer(help="The demo region.", no_args_is_help=True)

"""The `tongban` command."""

from __future__ import annotations

import typer

import tongban

app = typer.Typer(help="tongban 通办 — digital-society platform", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tongban {tongban.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """tongban 通办."""

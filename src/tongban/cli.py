"""The `tongban` command. Each layer contributes its own sub-commands."""

from __future__ import annotations

import typer

import tongban
from tongban.bench import app as bench_app
from tongban.core import commands as core_commands
from tongban.core.audit.cli import app as audit_app
from tongban.core.blobs import app as storage_app
from tongban.core.jobs import cli as jobs_cli
from tongban.core.keys_cli import app as keys_app
from tongban.core.packs.cli import app as pack_app
from tongban.core.workdays.cli import app as calendar_app
from tongban.datahub.cli import app as datahub_app
from tongban.demo import app as demo_app
from tongban.demo_up import up as demo_up
from tongban.governance.cli import app as quality_app
from tongban.governance.cli import dcat_cmd
from tongban.policy.cli import app as policy_app
from tongban.registry.cli import app as registry_app
from tongban.screening.cli import screen as screen_command
from tongban.services.cli import app as cert_app

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


core_commands.register(app)
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_cli.app, name="jobs")
jobs_cli.register(app)
app.add_typer(pack_app, name="pack")
app.add_typer(calendar_app, name="calendar")
demo_app.command("up")(demo_up)
app.add_typer(demo_app, name="demo")
app.add_typer(registry_app, name="registry")
datahub_app.command("dcat")(dcat_cmd)
app.add_typer(datahub_app, name="datahub")
app.add_typer(quality_app, name="quality")
app.add_typer(bench_app, name="bench")
app.add_typer(policy_app, name="policy")
app.add_typer(cert_app, name="cert")
app.add_typer(storage_app, name="storage")
app.command("screen")(screen_command)

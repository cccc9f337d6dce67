"""The `tongban` command. Each layer contributes its own sub-commands."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

import typer
from typer.core import TyperGroup

import tongban
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

# --- sub-commands of other installed packages ----------------------------------------------------
# A package adds a sub-command by declaring an entry point in the group `tongban.commands` (name:
# the sub-command, value: its Typer app), as `tongban-benchmarks` adds `tongban bench`. It is
# imported only when it is called, so `tongban --help` does not pay for the benchmarks' imports.

COMMANDS_GROUP = "tongban.commands"


def _installed_commands() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=COMMANDS_GROUP)}


class _WithInstalledCommands(TyperGroup):
    """The built-in commands, then each installed package's, loaded on first use."""

    _listing = False  # True while the help lists the commands: name them, do not import them

    def list_commands(self, ctx: Any) -> list[str]:
        own = super().list_commands(ctx)
        return own + sorted(n for n in _installed_commands() if n not in own)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        ep = None if command is not None else _installed_commands().get(cmd_name)
        if ep is None:
            return command
        if self._listing:
            return TyperGroup(name=cmd_name, help=f"(from {ep.dist.name if ep.dist else ep.value})")
        loaded: Any = ep.load()
        command = typer.main.get_command(loaded) if isinstance(loaded, typer.Typer) else loaded
        command.name = cmd_name
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(help="tongban 通办 — digital-society platform", no_args_is_help=True,
                  cls=_WithInstalledCommands)


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
app.add_typer(policy_app, name="policy")
app.add_typer(cert_app, name="cert")
app.add_typer(storage_app, name="storage")
app.command("screen")(screen_command)

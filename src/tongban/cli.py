"""The `tongban` command, assembled from the extension registry (core.slices).

Each slice declares its commands (name, "module:attribute", help line); distributions outside the
product add Typer apps through the entry point group `tongban.commands` (e.g. `bench`). Nothing
is imported until it runs: `tongban --help` lists the declared help lines, `tongban registry …`
imports the registry's command module alone. That keeps `--help` well under a second of CPU
where importing every command (Polars, NumPy, SQLAlchemy, Alembic, the benchmarks) took about four.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

import tongban
from tongban.core import slices
from tongban.core.slices import Command

# The app's own commands (the slices' come from their declarations).
APP_COMMANDS = (
    Command("serve", "tongban.web.serve:serve", "Serve the web app and the API."),
    Command("demo", "tongban.demo:app", "The demo region."),
    Command("up", "tongban.demo_up:up", "Set up and run the demo on http://HOST:PORT.", parent="demo"),
    Command("generate", "tongban.demo_generate:generate",
            "Generate a synthetic city of PERSONS residents (same seed and --as-of, same city).", parent="demo"),
)


def declared() -> list[Command]:
    """Every command: the app's, then each slice's (lower slices first), then external ones."""
    return [*APP_COMMANDS, *slices.commands()]


def to_click(target: Any, name: str) -> Any:
    """A Typer app as a group (like `add_typer`), a function as one command (like `command`)."""
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


def load_command(command: Command, children: list[Command]) -> Any:
    """Import `command` and attach the commands other slices put under it (`parent`)."""
    loaded = to_click(slices.load(command.target), command.name)
    for child in children:
        loaded.add_command(to_click(slices.load(child.target), child.name), child.name)
    return loaded


class LazyCommand(TyperCommand):
    """Stands for a declared command in the listing; the real one is imported when it runs."""

    def __init__(self, command: Command, children: list[Command]) -> None:
        super().__init__(name=command.name, help=command.help, short_help=command.help)
        self.command, self.children = command, children
        self._loaded: Any = None

    def load(self) -> Any:
        if self._loaded is None:
            self._loaded = load_command(self.command, self.children)
        return self._loaded

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        # The context (and so its `invoke`) is the real command's: it parses, helps and runs.
        return self.load().make_context(info_name, args, parent=parent, **extra)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        return self.load().shell_complete(ctx, incomplete)


class LazyGroup(TyperGroup):
    """The root group: its own commands plus every declared one, each imported on first use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        commands = declared()
        children: dict[str, list[Command]] = {}
        for c in commands:
            if c.parent:
                children.setdefault(c.parent, []).append(c)
        self.lazy = {c.name: LazyCommand(c, children.get(c.name, [])) for c in commands if not c.parent}

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name) or self.lazy.get(cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *(n for n in self.lazy if n not in self.commands)]


app = typer.Typer(cls=LazyGroup, help="tongban 通办 — digital-society platform", no_args_is_help=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tongban {tongban.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """tongban 通办."""

"""The extension registry: each slice declares itself once, the app assembles from the declarations.

A slice (registry, datahub, governance, policy, services, screening — and `core` for its own
commands, tables and jobs) publishes one `Slice` through the Python entry point group
`tongban.slices` (pyproject.toml, `[project.entry-points."tongban.slices"]`). The declaration
names what the slice brings as `"module:attribute"` strings, so reading it imports nothing
heavy: the app factory (`tongban.web.app`), the Alembic metadata (`tongban.models`) and the
`tongban` command (`tongban.cli`) import a slice's routers, models or commands only when they
use them. Nothing anywhere keeps a list of slices by hand; a new slice (or an installed
distribution) adds one entry point.

`contributions` are what a slice adds to an extension point another slice (or the app) owns:
`to` names the point as `"<owner>.<what>"`, the owner collects them with `contributed()`. The
owner never imports the contributor, so a lower slice can show or run what a higher one adds.
`reads` are the read functions a slice publishes for slices that may not import it (peers);
`read()` finds one by name. `writes` are its write functions (keyword-only, no commit: the
caller owns the transaction; each audits what it changes): what a scenario may change in the
slice's tables, the only way it does; `write()` finds one by name.

Commands of the installed distributions outside the product (e.g. the benchmarks) come from the
entry point group `tongban.commands`: name → a Typer app, added under that name.

This module imports nothing of tongban but itself: the kit and every slice may use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUP = "tongban.slices"
COMMANDS_GROUP = "tongban.commands"


@dataclass(frozen=True)
class Command:
    """A `tongban` sub-command: `target` is a Typer app (a group) or a function (one command).

    `help` is what `tongban --help` lists without importing `target` (a test keeps it equal to
    the command's own first help line). `parent` puts the command under another one's group
    (e.g. governance's `dcat` under `datahub`)."""

    name: str
    target: str
    help: str
    parent: str | None = None


@dataclass(frozen=True)
class Link:
    """A link shown on a page another slice (or the app) owns: a home-page tile, an action.
    `label` and `hint` are msgids (N_), translated where shown; `href=None`: not built yet."""

    key: str
    label: str
    hint: str
    href: str | None = None
    # the permissions of which any one opens `href` (empty: whoever sees the page it is on)
    needs: tuple[str, ...] = ()

    def opens_for(self, principal: Any) -> bool:
        """Whether this link's page would open for `principal`: a tile that would answer 403 is not shown."""
        return not self.needs or any(principal.has(p) for p in self.needs)


@dataclass(frozen=True)
class Contribution:
    """`target` added to the extension point `to`, in `order`: a `"module:attribute"` string
    (imported when collected) or a value given inline (e.g. a `Link`)."""

    to: str
    target: str | Link
    order: int = 0


@dataclass(frozen=True)
class Slice:
    """What one slice brings. Every reference is a `"module"` or `"module:attribute"` string."""

    name: str
    order: int  # assembly order (routers, commands): lower slices first
    models: str | None = None  # the module defining the slice's tables
    api: tuple[str, ...] = ()  # JSON routers, mounted under /api/v1
    pages: tuple[str, ...] = ()  # HTML page routers
    commands: tuple[Command, ...] = ()
    jobs: tuple[str, ...] = ()  # modules whose import registers job handlers and schedules
    pack_sections: tuple[str, ...] = ()  # modules whose import registers pack sections
    reads: Mapping[str, str] = field(default_factory=dict)  # published name → "module:function"
    writes: Mapping[str, str] = field(default_factory=dict)  # published name → "module:function"
    contributions: tuple[Contribution, ...] = ()


def load(target: str) -> Any:
    """Import `"module:attribute"` (or `"module"`) and return the attribute (or the module)."""
    module, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module)
    for part in filter(None, attribute.split(".")):
        found = getattr(found, part)
    return found


@cache
def slices() -> tuple[Slice, ...]:
    """Every installed slice, lower ones first (by `order`, then name)."""
    found: dict[str, Slice] = {}
    for ep in entry_points(group=GROUP):
        declared = ep.load()
        if not isinstance(declared, Slice):
            raise TypeError(f"entry point {ep.name!r} of {GROUP} is not a tongban.core.slices.Slice")
        if declared.name in found:
            raise ValueError(f"two slices are named {declared.name!r}")
        found[declared.name] = declared
    if "core" not in found:
        # Entry points are written when the package is installed: a checkout that was never
        # installed (or installed before a slice was added) must say so, not run half-assembled.
        raise RuntimeError("no tongban slices are registered: reinstall the package (`uv sync`)")
    return tuple(sorted(found.values(), key=lambda s: (s.order, s.name)))


def get(name: str) -> Slice:
    for s in slices():
        if s.name == name:
            return s
    raise KeyError(name)


def load_models() -> None:
    """Import every slice's models, so `core.db.Base.metadata` knows every table."""
    for s in slices():
        if s.models:
            importlib.import_module(s.models)


def load_jobs() -> None:
    """Import every module that registers job handlers or schedules."""
    for s in slices():
        for module in s.jobs:
            importlib.import_module(module)


def load_pack_sections() -> None:
    """Import every module that registers pack sections."""
    for s in slices():
        for module in s.pack_sections:
            importlib.import_module(module)


def routers(kind: str) -> list[Any]:
    """The `api` or `pages` routers of every slice, lower slices first."""
    return [load(target) for s in slices() for target in getattr(s, kind)]


def commands() -> list[Command]:
    """Every slice's commands, then those of `tongban.commands` distributions (top level)."""
    found = [c for s in slices() for c in s.commands]
    for ep in entry_points(group=COMMANDS_GROUP):
        # The listing must not import the command: its help line is its distribution's summary.
        summary = ep.dist.metadata["Summary"] if ep.dist is not None else None
        found.append(Command(ep.name, ep.value, str(summary or "")))
    return found


def contributions(to: str) -> list[Contribution]:
    """The contributions to `to`, as declared (not loaded), lower slices first."""
    return [c for s in slices() for c in s.contributions if c.to == to]


@cache
def contributed(to: str) -> tuple[Any, ...]:
    """What the slices add to the extension point `to`, loaded, in `order` (stable)."""
    found = sorted(contributions(to), key=lambda c: c.order)
    return tuple(load(c.target) if isinstance(c.target, str) else c.target for c in found)


def read(name: str) -> Callable[..., Any]:
    """A published read function, `"<slice>.<name>"` (e.g. `"registry.household_of"`)."""
    return _published(name, "reads")


def write(name: str) -> Callable[..., Any]:
    """A published write function, `"<slice>.<name>"` (e.g. `"registry.register_birth"`)."""
    return _published(name, "writes")


def _published(name: str, kind: str) -> Callable[..., Any]:
    slice_name, _, function = name.partition(".")
    target = getattr(get(slice_name), kind).get(function)
    if target is None:
        raise KeyError(f"slice {slice_name!r} publishes no {kind[:-1]} function {function!r}")
    loaded: Callable[..., Any] = load(target)
    return loaded

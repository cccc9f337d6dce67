"""The extension registry (core.slices): every declaration resolves, the app, the metadata and the
`tongban` command are assembled from it, and `tongban --help` imports none of the commands."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from tongban import cli
from tongban.core import slices
from tongban.core.db import Base


def test_every_slice_is_registered_once_lower_slices_first() -> None:
    names = [s.name for s in slices.slices()]
    assert names == ["core", "registry", "datahub", "governance", "policy", "messages", "places", "services",
                     "screening", "appointments", "cases", "codes", "ratings", "cockpit"]


def test_every_declared_reference_resolves() -> None:
    for s in slices.slices():
        named = [c.target for c in s.contributions if isinstance(c.target, str)]
        for target in (*s.api, *s.pages, *(c.target for c in s.commands), *named, *s.reads.values(),
                       *s.writes.values()):
            assert slices.load(target) is not None, (s.name, target)
        for module in (*s.jobs, *s.pack_sections, *([s.models] if s.models else [])):
            assert slices.load(module) is not None, (s.name, module)


def test_the_metadata_holds_every_declared_models_module_tables() -> None:
    import tongban.models

    declaring = {s.name for s in slices.slices() if s.models}
    owners = {m.class_.__module__.split(".")[1] for m in Base.registry.mappers
              if m.class_.__module__.startswith("tongban.")}
    assert owners == declaring  # every slice with tables declares them, and only those
    assert tongban.models.metadata is Base.metadata
    assert {"person", "svc_application", "scr_run", "dataset", "quality_rule", "job"} <= set(Base.metadata.tables)


def test_a_contribution_reaches_the_extension_point_that_collects_it() -> None:
    from tongban.screening.offers import on_submit
    from tongban.services.applications import SUBMITTED

    assert on_submit in slices.contributed(SUBMITTED)
    assert slices.contributed("nobody.collects.this") == ()


def test_a_published_read_function_is_found_by_name() -> None:
    from tongban.registry import reads

    assert slices.read("registry.household_of") is reads.household_of
    with pytest.raises(KeyError):
        slices.read("registry.no_such_read")


def test_a_published_write_function_is_found_by_name_and_takes_its_arguments_by_keyword() -> None:
    """A write changes another slice's tables: its arguments are named, never positional
    (only the session is), so a caller cannot swap a guardian for a ward."""
    import inspect

    from tongban.registry import writes

    assert slices.write("registry.register_birth") is writes.register_birth
    with pytest.raises(KeyError):
        slices.write("registry.household_of")  # a read is not a write
    published = [(s.name, n, slices.write(f"{s.name}.{n}")) for s in slices.slices() for n in s.writes]
    assert {(s, n) for s, n, _ in published} >= {("registry", "register_birth"), ("datahub", "give_scoped_consent")}
    for slice_name, name, function in published:
        positional = [p.name for p in inspect.signature(function).parameters.values()
                      if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        assert positional in ([], ["session"]), (slice_name, name, positional)


def test_every_declared_help_line_is_the_commands_own() -> None:
    """`tongban --help` lists the declared line without importing the command: it must not drift."""
    for command in cli.declared():
        if command.name == "bench":  # an external distribution's: its summary stands for it
            continue
        loaded = cli.to_click(slices.load(command.target), command.name)
        own = loaded.help or ""
        if isinstance(slices.load(command.target), typer.Typer):
            own = slices.load(command.target).info.help or own
        assert own.strip().splitlines()[0] == command.help, command.name


def test_commands_another_slice_puts_under_a_group_are_there() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli.app, ["datahub", "--help"])
    assert result.exit_code == 0 and "dcat" in result.output
    result = CliRunner().invoke(cli.app, ["demo", "--help"])
    assert result.exit_code == 0 and "generate" in result.output and "up" in result.output


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from tongban.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('polars', 'numpy', 'sqlalchemy', 'alembic')"
        " or m.startswith(('tongban.bench', 'tongban.registry.cli', 'tongban.screening.cli')))\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out
    assert "registry" in out and "screen" in out  # the listing is complete all the same


def test_the_home_pages_show_the_tiles_the_slices_contribute_in_order() -> None:
    from tongban.web.pages import PORTAL, WORKBENCH, tiles

    assert [t.key for t in tiles(PORTAL)] == ["apply", "catalogue", "query", "proxies", "rate", "speak", "near",
                                               "appointments", "messages", "wallet", "data"]
    assert [t.key for t in tiles(WORKBENCH)] == ["persons", "tasks", "reminders", "cases", "ratings", "counter",
                                                 "appointments", "rating-counter", "sharing",
                                                 "quality", "audit", "screening", "cockpit", "codes"]
    speak = next(t for t in tiles(PORTAL) if t.key == "speak")
    assert speak.href == "/portal/cases"  # 我要说 is the case engine's, no longer "coming soon"
    screening = next(t for t in tiles(WORKBENCH) if t.key == "screening")
    assert screening.href == "/workbench/screening"
    assert any(c.target == screening for c in slices.get("screening").contributions)

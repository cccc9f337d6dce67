"""`tongban pack …`: check a pack, load it, list what is loaded and which sections exist."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import NoReturn

import typer
from rich.table import Table

from tongban.core import cliutil
from tongban.core.cliutil import console, err_console
from tongban.core.packs.loader import (
    LoadReport,
    Pack,
    PackError,
    list_packs,
    load_pack,
    pack_warnings,
    read_pack,
    sections,
)

app = typer.Typer(help="Content packs.", no_args_is_help=True)


def report_problems(exc: PackError) -> NoReturn:
    """Print every problem (file:line:column: [id] message) and exit 2."""
    err_console.print(f"[bold red]error:[/] the pack is refused, {len(exc.problems)} problem(s):", highlight=False)
    for p in exc.problems:
        err_console.print(f"  {p}", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(cliutil.EXIT_INVALID)


def print_summary(pack: Pack) -> None:
    kinds = Counter(kind for kind, _ in pack.definitions)
    table = Table("section", "file", title=f"{pack.manifest.title.zh} / {pack.manifest.title.en}")
    for pf in sorted(pack.files, key=lambda f: (f.section.order, f.path)):
        table.add_row(pf.section.name + (" (demo only)" if pf.section.demo_only else ""), pf.path)
    console.print(table)
    counts = ", ".join(f"{n} {kind}(s)" for kind, n in sorted(kinds.items()))
    console.print(f"pack [bold]{pack.id}[/] {pack.version}: ok — {counts}", soft_wrap=True)
    console.print(f"digest {pack.digest}", highlight=False)


def print_report(report: LoadReport) -> None:
    table = Table("section", "created", "updated", "unchanged",
                  title=f"pack {report.pack_id} {report.version}")
    for name, c in report.sections.items():
        table.add_row(name, str(c.created), str(c.updated), str(c.unchanged))
    console.print(table)
    for name in report.skipped:
        console.print(f"skipped {name} (demo only: `tongban demo load` applies it)")
    if report.changed:
        console.print(f"loaded {report.pack_id} {report.version} (record: {report.record})")
    else:
        console.print(f"{report.pack_id} {report.version} was already loaded: nothing changed")


@app.command("check")
def check(directory: Path = typer.Argument(..., help="The pack folder.")) -> None:
    """Check a pack without loading it: print a summary, or every problem (exit 2)."""
    try:
        pack = read_pack(directory)
    except PackError as exc:
        report_problems(exc)
    print_summary(pack)
    warnings = pack_warnings(pack)
    for warning in warnings:  # it loads, but may not mean what was meant (exit 0)
        console.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    if warnings:
        console.print(f"{len(warnings)} warning(s)", highlight=False)


@app.command("load")
def load(directory: Path = typer.Argument(..., help="The pack folder.")) -> None:
    """Check a pack and load it in one transaction (the demo cast is not loaded; see `demo load`)."""
    with cliutil.unit_of_work() as session:
        try:
            report = load_pack(session, directory, actor="system:cli")
        except PackError as exc:
            report_problems(exc)  # exits: the unit of work rolls back
    print_report(report)


@app.command("list")
def list_() -> None:
    """Every pack version loaded into this database, newest first."""
    with cliutil.unit_of_work() as session:
        rows = list_packs(session)
        table = Table("pack", "version", "current", "title", "loaded (UTC)", "digest")
        for r in rows:
            title = r.title or {}
            table.add_row(r.pack_id, r.version, "yes" if r.current else "", str(title.get("zh") or title.get("en")),
                          r.loaded_at.strftime("%Y-%m-%d %H:%M"), r.digest[:12])
    if not rows:
        console.print("no pack loaded yet: `tongban pack load DIR`")
        return
    console.print(table)


@app.command("sections")
def sections_() -> None:
    """The sections a pack may contain, in the order they are applied."""
    table = Table("section", "files", "order", "about")
    for s in sections():
        table.add_row(s.name + (" (demo only)" if s.demo_only else ""), ", ".join(s.files), str(s.order),
                      s.description)
    console.print(table)

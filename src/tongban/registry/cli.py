"""`tongban registry …` (import, search) — the synthetic city lives under `tongban demo generate`."""

from __future__ import annotations

import typer

app = typer.Typer(help="The base registries.", no_args_is_help=True)

# --- divisions: the national GB/T 2260 list -------------------------------------------

divisions_app = typer.Typer(help="GB/T 2260 administrative division codes.", no_args_is_help=True)
app.add_typer(divisions_app, name="divisions")


@divisions_app.command("load")
def divisions_load() -> None:
    """Load the national division list (current and historical codes) into `division`. Idempotent."""
    from tongban.core import cliutil
    from tongban.registry import divisions

    with cliutil.unit_of_work() as session:
        result = divisions.load(session)
    cliutil.console.print(
        f"divisions: {result.inserted} added, {result.updated} updated, {result.unchanged} unchanged\n"
        f"source: {result.source}; changes recorded up to {result.data_year}; loaded {result.loaded_on}"
    )


@divisions_app.command("show")
def divisions_show(code: str = typer.Argument(..., help="A 6-digit GB/T 2260 code.")) -> None:
    """Show a code's names and the years each was in force (no database needed)."""
    from tongban.core import cliutil
    from tongban.core.errors import Invalid
    from tongban.core.i18n import gettext
    from tongban.registry import divisions

    try:
        div = divisions.check_code(code, field="code")
    except Invalid as exc:
        cliutil.fail(gettext(exc.message))
    cliutil.console.print(f"{div.code} ({div.level})")
    for span in div.spans:
        cliutil.console.print(f"  {span.name}: {span.start or '…'}–{span.end or ''}")


# --- import ----------------------------------------------------------------------------------


@app.command("import")
def import_cmd(
    kind: str = typer.Argument(..., help="persons, households, entities, incomes or enrolments."),
    file: str = typer.Argument(..., help="A .csv (UTF-8, header row) or .parquet file."),
    reject_file: str | None = typer.Option(None, help="Where invalid rows go (default: FILE.rejects.csv)."),
    batch_size: int = typer.Option(1000, min=1, help="Rows per transaction."),
) -> None:
    """Validate and load a registry file; invalid rows go to a reject file with line and reason (zh, en).

    Rows are upserted by their natural key, one transaction per batch: re-running a file changes
    nothing, and re-running an interrupted import completes it.
    """
    from pathlib import Path

    from rich.table import Table

    from tongban.core import cliutil
    from tongban.core.errors import TongbanError
    from tongban.registry.importer import KINDS, count_rows, import_file

    if kind not in KINDS:
        cliutil.fail(f"kind: one of {', '.join(KINDS)}")
    path = Path(file)
    if not path.is_file():
        cliutil.fail(f"file: {file} does not exist")
    db = cliutil.database()
    try:
        total = count_rows(path)
        with cliutil.progress() as bar:
            task = bar.add_task(f"importing {kind}", total=total)
            report = import_file(db, kind, path, reject_path=Path(reject_file) if reject_file else None,
                                 batch_size=batch_size, progress=lambda n: bar.advance(task, n))
    except TongbanError as exc:
        msg = exc.translated()
        cliutil.fail(f"{exc.field}: {msg}" if exc.field else msg)
    c = report.counts
    table = Table("loaded", "updated", "unchanged", "rejected", title=f"import {kind}: {path.name}")
    table.add_row(str(c.loaded), str(c.updated), str(c.unchanged), str(c.rejected))
    cliutil.console.print(table)
    if report.ignored_columns:
        cliutil.console.print(f"ignored columns: {', '.join(report.ignored_columns)}")
    if report.reject_file:
        cliutil.console.print(f"rejected rows: {report.reject_file}")

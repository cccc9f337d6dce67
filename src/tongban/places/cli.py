"""`tongban places …`: import places, search near a point, print the service circle."""

from __future__ import annotations

import typer

app = typer.Typer(help="Places (一张图): import, near-me search, the 15-minute service circle.", no_args_is_help=True)



def _operator() -> object:
    from tongban.core.access import Principal

    return Principal(kind="system", username="places-cli", permissions=frozenset({"places.manage"}))


@app.command("import")
def import_cmd(
    file: str = typer.Argument(..., help="A .csv (UTF-8, header row) or .parquet file of places."),
    datum: str = typer.Option("wgs84", help="The coordinates' datum where a row has no `datum`: wgs84 or gcj02."),
    reject_file: str | None = typer.Option(None, help="Where invalid rows go (default: FILE.rejects.csv)."),
) -> None:
    """Validate and load places; invalid rows go to a reject file with line and reason (zh, en).

    Upserted by `key`, one transaction per batch: re-running a file changes nothing."""
    from pathlib import Path

    from rich.table import Table

    from tongban.core import cliutil
    from tongban.core.errors import TongbanError
    from tongban.places.importer import import_places

    path = Path(file)
    db = cliutil.database()
    try:
        report = import_places(db, path, principal=_operator(), datum=datum,  # type: ignore[arg-type]
                               reject_path=Path(reject_file) if reject_file else None)
    except TongbanError as exc:
        msg = exc.translated()
        cliutil.fail(f"{exc.field}: {msg}" if exc.field else msg)
    table = Table("loaded", "updated", "unchanged", "rejected", title=f"import places: {path.name}")
    table.add_row(str(report.loaded), str(report.updated), str(report.unchanged), str(report.rejected))
    cliutil.console.print(table)
    if report.reject_file:
        cliutil.console.print(f"rejected rows: {report.reject_file}")


@app.command("near")
def near_cmd(
    lat: float = typer.Option(..., help="Latitude."),
    lon: float = typer.Option(..., help="Longitude."),
    radius: float = typer.Option(1000, help="Radius in metres (great-circle, inclusive)."),
    category: str | None = typer.Option(None, help="A place category (tongban places categories)."),
    datum: str = typer.Option("wgs84", help="The datum of --lat/--lon: wgs84 or gcj02."),
    limit: int = typer.Option(20, min=1, max=100, help="At most this many places."),
) -> None:
    """Places within the radius of a point, nearest first."""
    from rich.table import Table

    from tongban.core import cliutil, geo
    from tongban.core.errors import TongbanError
    from tongban.places import service

    try:
        if datum not in geo.DATUMS:
            cliutil.fail("datum: wgs84 or gcj02")
        service.check_query(lat, lon, radius)
        s_lat, s_lon = geo.to_stored(datum, lat, lon)
        with cliutil.unit_of_work() as session:
            found = service.near(session, lat=s_lat, lon=s_lon, radius_m=radius, category=category, limit=limit)
            table = Table("distance (m)", "id", "category", "name", title=f"within {radius:g} m")
            for n in found:
                table.add_row(f"{n.distance_m:.1f}", str(n.place.id), n.place.category, n.place.name_zh)
    except TongbanError as exc:
        msg = exc.translated()
        cliutil.fail(f"{exc.field}: {msg}" if exc.field else msg)
    cliutil.console.print(table)


@app.command("categories")
def categories_cmd() -> None:
    """The place categories and their walking radius."""
    from tongban.core import cliutil
    from tongban.places import service

    with cliutil.unit_of_work() as session:
        for c in service.categories(session):
            cliutil.console.print(f"{c.code}\t{c.title_zh}\t{c.title_en}\t{c.walking_radius_m} m")


@app.command("coverage")
def coverage_cmd(region: str = typer.Option("", help="A region code: its communities only.")) -> None:
    """一刻钟便民服务圈: per community, the share of households within each category's walking radius."""
    from rich.table import Table

    from tongban.core import cliutil
    from tongban.places.coverage import service_circle

    with cliutil.unit_of_work() as session:
        fig = service_circle(session, region_prefix=region)
    cats = [c["code"] for c in fig["categories"]]
    table = Table("community", *cats, title="share of households within the walking radius (%)")
    for code, by_cat in sorted(fig["communities"].items()):
        cells = []
        for c in cats:
            share = by_cat.get(c, {}).get("share")
            cells.append("—" if share is None else f"{share * 100:.1f}")
        table.add_row(code, *cells)
    cliutil.console.print(table)
    note = "computed on generated household points (demo)" if fig["generated_points"] else ""
    cliutil.console.print(f"households located: {fig['located_households']}; figures under "
                          f"{fig['min_count']} withheld (—). {note}")

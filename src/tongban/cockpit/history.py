"""The service-history generator: a synthetic city (the registry's generator) given a past by
every slice's contributed `HistoryPart` (`cockpit.history`), run in `order` over one `History`,
then the cockpit refreshed over the whole period."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongban.core import clock, slices
from tongban.core.db import Database
from tongban.core.errors import Conflict, Invalid
from tongban.core.i18n import N_
from tongban.core.indicators import HISTORY, History, HistoryPart


def parts() -> list[HistoryPart]:
    """Every contributed part, in `order` (then key)."""
    found: list[HistoryPart] = []
    for target in slices.contributed(HISTORY):
        for part in (target if isinstance(target, tuple | list) else (target,)):
            if not isinstance(part, HistoryPart):
                raise TypeError(f"a contribution to {HISTORY} is not a HistoryPart: {part!r}")
            found.append(part)
    keys = [p.key for p in found]
    if len(keys) != len(set(keys)):
        raise ValueError("two history parts share a key")
    return sorted(found, key=lambda p: (p.order, p.key))


@dataclass
class Generated:
    persons: int
    start: dt.date
    end: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    cells: int = 0
    warnings: int = 0


def run(db: Database, *, persons: int, days: int, seed: int, rate: float = 1.0,
        on_part: Callable[[HistoryPart, int], None] | None = None,
        found: list[HistoryPart] | None = None) -> Generated:
    """Run each part over the last `days` days to today, one transaction per part, then refresh
    the cockpit over the same days (its own transaction)."""
    from tongban.cockpit import store

    end = clock.today()
    start = end - dt.timedelta(days=days - 1)
    done = Generated(persons, start, end)
    notes: dict[str, object] = {}
    for part in (found if found is not None else parts()):
        with db.unit_of_work() as session:
            rows = part.write(History(session=session, seed=seed, start=start, end=end, persons=persons,
                                      rate=rate, notes=notes))
        done.rows[part.key] = rows
        if on_part is not None:
            on_part(part, rows)
    with db.unit_of_work() as session:
        refreshed = store.refresh(session, full=True, day_from=start)
    done.cells = sum(refreshed.cells.values())
    done.warnings = refreshed.warnings
    return done


# --- at scale: the city and its history written to Parquet, then loaded with COPY ----------------

MANIFEST = "history.json"
FORMAT = 1


def write_parquet(db: Database, folder: Path, *, persons: int, days: int, seed: int, rate: float = 1.0,
                  on_city: Callable[[int], None] | None = None,
                  on_part: Callable[[HistoryPart, int], None] | None = None) -> dict[str, Any]:
    """The synthetic city (`folder/city`, the registry's Parquet) and the service history of the
    parts that can write Parquet (`folder/history/<table>/part-NNNNN.parquet`) over the last `days`
    days to today; `folder/history.json` records the period, the rows per table (in the order to
    load them) and the parts left for the database (`load` runs them after loading). The
    database is read only: the pack's items, categories and calendar."""
    from tongban.core.history_sink import ParquetSink, parquet_residents
    from tongban.registry import generator, loader

    communities = loader.community_codes(db)
    if not communities:
        raise Invalid(N_("No communities in the region table: load the demo pack first"), field="communities")
    end = clock.today()
    start = end - dt.timedelta(days=days - 1)
    config = generator.CityConfig(persons=persons, seed=seed, communities=tuple(communities), as_of=end,
                                  shapes=loader.community_shapes(db))
    written = generator.write_parquet(config, folder / "city", on_chunk=on_city,
                                      workers=2 if persons >= 1_000_000 else 1)
    residents = parquet_residents(folder / "city")
    sink = ParquetSink(folder / "history")
    rows: dict[str, int] = {}
    deferred: list[str] = []
    with db.unit_of_work() as session:
        history = History(session=session, seed=seed, start=start, end=end, persons=persons, rate=rate, notes={},
                          sink=sink, residents=lambda: residents)
        for part in parts():
            if "parquet" not in part.sinks:
                deferred.append(part.key)
                continue
            rows[part.key] = part.write(history)
            sink.close()  # what it wrote is readable by the parts after it
            if on_part is not None:
                on_part(part, rows[part.key])
        session.rollback()  # nothing of the history is in the database
    manifest = {"format": FORMAT, "persons": persons, "seed": seed, "rate": rate, "start": start.isoformat(),
                "end": end.isoformat(), "city": written.counts, "parts": rows, "deferred": deferred,
                "tables": {t: sink.rows[t] for t in sink.order}}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise Invalid(N_("No service history written as Parquet in this folder"), field="folder")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise Invalid(N_("The folder's service history was written by another version; write it again"),
                      field="folder")
    return manifest


@dataclass
class Loaded:
    city_tables: tuple[str, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    cells: int = 0


def city_tables(names: Collection[str] | None) -> tuple[str, ...]:
    """The registry tables of the city to load, in loading order: all of them (`None`), or `names`
    with every table a kept one points to (household_member → person → household → address), so
    nothing loaded names a row that is not. Refuses an unknown name, and a set that does not come
    to `person` (the history names persons)."""
    from tongban.registry.generator import TABLES
    from tongban.registry.loader import with_references

    if names is None:
        return TABLES
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        raise Invalid(N_("Not a table of the synthetic city: %(names)s (the tables are %(tables)s)"), field="city_tables",
                      names=", ".join(unknown), tables=", ".join(TABLES))
    keep = with_references(names)
    if "person" not in keep:
        raise Invalid(N_("The city's tables to load must include person: the service history names persons"),
                      field="city_tables")
    return keep


def load(db: Database, folder: Path, *, on_rows: Callable[[str, int], None] | None = None,
         notes: dict[str, Any] | None = None, tables: Collection[str] | None = None) -> Loaded:
    """Load a city and its history written by `write_parquet` into an empty database — COPY on
    PostgreSQL, executemany on SQLite — in foreign-key order with their ids, move the sequences past
    them, run the parts left for the database, and refresh the cockpit over the period. Refuses a
    database that already holds persons, applications, cases or ratings. `notes` is handed to the
    parts run on the database (e.g. `{"settings": …}` for the codes' signing key). `tables` loads
    only those of the city's registry tables (`city_tables`), e.g. the population and where it lives
    when the registry's incomes and assets are not what is being measured; `Loaded.city_tables` says
    which were."""
    import time

    import polars as pl
    from sqlalchemy import MetaData, Table, func, select, text

    from tongban.cockpit import store
    from tongban.registry import loader
    from tongban.registry.generator import read_parquet

    manifest = read_manifest(folder)
    kept = city_tables(tables)
    meta = MetaData()
    with db.engine.connect() as conn:
        for name in ("person", *manifest["tables"]):
            table = Table(name, meta, autoload_with=conn)
            if conn.execute(select(func.count()).select_from(select(table.c.id).limit(1).subquery())).scalar_one():
                raise Conflict(N_("The database already holds a city or a service history; load into an empty one"))
    done = Loaded(city_tables=kept)
    started = time.perf_counter()
    loaded = loader.load(db, read_parquet(folder / "city", tables=None if tables is None else kept),
                         on_chunk=(lambda n: on_rows("city", n)) if on_rows is not None else None)
    done.rows["city"] = loaded.rows
    done.seconds["city"] = time.perf_counter() - started
    for name in manifest["tables"]:
        started = time.perf_counter()
        done.rows[name] = 0
        for part in sorted((folder / "history" / name).glob("part-*.parquet")):
            frame = pl.read_parquet(part)
            with db.engine.begin() as conn:
                loader.write_frame(conn, name, frame, sqlite=db.is_sqlite)
            done.rows[name] += frame.height
            if on_rows is not None:
                on_rows(name, frame.height)
        if not db.is_sqlite:
            with db.engine.begin() as conn:
                seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name}).scalar_one()
                if seq is not None:
                    top = conn.execute(select(func.max(meta.tables[name].c.id))).scalar()
                    conn.execute(text("SELECT setval(CAST(:s AS regclass), :v)"), {"s": seq, "v": int(top or 1)})
        done.seconds[name] = time.perf_counter() - started
    if not db.is_sqlite:  # the planner's statistics of what was just loaded, before anything reads it
        from tongban.registry.generator import TABLES as CITY_TABLES

        started = time.perf_counter()
        with db.engine.begin() as conn:
            for name in (*CITY_TABLES, *manifest["tables"]):
                conn.execute(text(f'ANALYZE "{name}"'))  # noqa: S608 - our own table names
        done.seconds["analyze"] = time.perf_counter() - started
    start, end = dt.date.fromisoformat(manifest["start"]), dt.date.fromisoformat(manifest["end"])
    by_key = {p.key: p for p in parts()}
    for key in manifest["deferred"]:
        started = time.perf_counter()
        with db.unit_of_work() as session:
            done.rows[key] = by_key[key].write(History(session=session, seed=manifest["seed"], start=start, end=end,
                                                       persons=manifest["persons"], rate=manifest["rate"],
                                                       notes=dict(notes or {})))
        done.seconds[key] = time.perf_counter() - started
        if on_rows is not None:
            on_rows(key, done.rows[key])
    started = time.perf_counter()
    with db.unit_of_work() as session:
        refreshed = store.refresh(session, full=True, day_from=start)
    done.cells = sum(refreshed.cells.values())
    done.seconds["refresh"] = time.perf_counter() - started
    return done

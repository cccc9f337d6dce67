"""Bulk load of a generated city into the registry tables.

PostgreSQL gets COPY (psycopg's `cursor.copy`, CSV made by Polars); SQLite gets
`executemany` in large batches. Each chunk is one transaction, and each chunk is a
self-contained piece of the city, so an interrupted load leaves a smaller but consistent
city. Ids are shifted past any rows already in the tables; loading the same city twice
is refused before anything is written.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from tongban.core.db import Base, Database
from tongban.core.errors import Conflict, Invalid
from tongban.core.i18n import N_
from tongban.core.identity.models import Region
from tongban.registry.generator import TABLES, Frames
from tongban.registry.geography import Shapes, shapes
from tongban.registry.models import Person

# Which columns hold ids of which table (for shifting past existing rows).
_ID_COLUMNS: dict[str, dict[str, str]] = {
    "address": {"id": "address"},
    "household": {"id": "household", "head_person_id": "person", "address_id": "address"},
    "person": {"id": "person", "address_id": "address", "household_id": "household"},
    "household_member": {"household_id": "household", "person_id": "person"},
    "guardianship": {"guardian_person_id": "person", "ward_person_id": "person"},
    "legal_entity": {"id": "legal_entity", "legal_rep_person_id": "person", "address_id": "address"},
    "income_record": {"id": "income_record", "person_id": "person"},
    "asset_record": {"id": "asset_record"},
    "benefit_enrolment": {"id": "benefit_enrolment"},
    "medical_settlement": {"id": "medical_settlement", "person_id": "person"},
}
_SERIAL_TABLES = ("address", "household", "person", "legal_entity", "income_record", "asset_record",
                  "benefit_enrolment", "medical_settlement")
_SUBJECT_TABLE = {"household": "household", "person": "person"}


@dataclass
class LoadStats:
    persons: int = 0
    rows: int = 0
    chunks: int = 0


def _offsets(conn: Connection) -> dict[str, int]:
    return {t: int(conn.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{t}"')).scalar_one())  # noqa: S608
            for t in _SERIAL_TABLES}


def _shift(frames: Frames, offsets: dict[str, int]) -> Frames:
    if not any(offsets.values()):
        return frames
    out = {}
    for table, df in frames.items():
        exprs = [(pl.col(c) + offsets[t]).alias(c) for c, t in _ID_COLUMNS[table].items() if offsets[t]]
        if table in ("asset_record", "benefit_enrolment"):
            kind, ref = ("owner_kind", "owner_id") if table == "asset_record" else ("subject_kind", "subject_id")
            exprs.append(pl.when(pl.col(kind) == "household").then(pl.col(ref) + offsets["household"])
                         .otherwise(pl.col(ref) + offsets["person"]).alias(ref))
        out[table] = df.with_columns(exprs) if exprs else df
    return out


def check_target(db: Database, first: Frames) -> None:
    """Refuse before writing anything: communities missing from `region`, or the city already loaded."""
    communities = first["address"]["region_code"].unique().to_list()
    with db.engine.connect() as conn:
        known = set(conn.scalars(select(Region.code).where(Region.code.in_(communities))))
        if set(communities) - known:
            raise Invalid(N_("Some of the city's communities are not in the region table"), field="communities")
        sample = first["person"]["id_number"].head(100).to_list()
        if conn.execute(select(func.count()).select_from(Person).where(Person.id_number.in_(sample))).scalar_one():
            raise Conflict(N_("This synthetic city (or part of it) is already in the database"))


def with_references(names: Iterable[str]) -> tuple[str, ...]:
    """The city's tables `names` (all of them `TABLES`) with every city table they point to by a
    foreign key, and so on (household_member → person → household → address), in loading order."""
    keep = set(names)
    while True:
        wanted = {fk.column.table.name for t in keep for fk in Base.metadata.tables[t].foreign_keys} & set(TABLES)
        if wanted <= keep:
            return tuple(t for t in TABLES if t in keep)
        keep |= wanted


def load(db: Database, chunks: Iterable[Frames], *, on_chunk: Callable[[int], None] | None = None) -> LoadStats:
    """Load chunks of a generated city; one transaction per chunk."""
    stats = LoadStats()
    offsets: dict[str, int] | None = None
    for frames in chunks:
        if offsets is None:
            check_target(db, frames)
            with db.engine.connect() as conn:
                offsets = _offsets(conn)
        frames = _shift(frames, offsets)
        with db.engine.begin() as conn:
            for table in TABLES:
                df = frames[table]
                if df.height:
                    (_copy_pg if not db.is_sqlite else _insert_sqlite)(conn, table, df)
                    stats.rows += df.height
        stats.persons += frames["person"].height
        stats.chunks += 1
        if on_chunk:
            on_chunk(frames["person"].height)
    if not db.is_sqlite and stats.chunks:
        with db.engine.begin() as conn:
            for t in _SERIAL_TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "  # noqa: S608
                                  f'(SELECT COALESCE(MAX(id), 1) FROM "{t}"))'))
    return stats


def write_frame(conn: Connection, table: str, df: pl.DataFrame, *, sqlite: bool) -> None:
    """Rows of `table` (its column names, ids named) in one go: COPY on PostgreSQL, executemany on
    SQLite."""
    (_insert_sqlite if sqlite else _copy_pg)(conn, table, df)


def _copy_pg(conn: Connection, table: str, df: pl.DataFrame) -> None:
    buf = io.BytesIO()
    df.write_csv(buf, datetime_format="%Y-%m-%dT%H:%M:%S%.f%z", null_value="")
    raw = conn.connection.driver_connection
    assert raw is not None
    cols = ", ".join(f'"{c}"' for c in df.columns)
    with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN (FORMAT csv, HEADER true)') as cp:
        cp.write(buf.getbuffer())


def _insert_sqlite(conn: Connection, table: str, df: pl.DataFrame, batch: int = 50_000) -> None:
    # Store values as SQLAlchemy's SQLite dialect does: ISO dates, naive UTC datetimes, 0/1.
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.Date:
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
        elif dtype == pl.Boolean:
            exprs.append(pl.col(name).cast(pl.Int8))
        else:
            exprs.append(pl.col(name))
    df = df.select(exprs)
    sql = f'INSERT INTO "{table}" ({", ".join(df.columns)}) VALUES ({", ".join("?" * len(df.columns))})'  # noqa: S608
    raw = conn.connection.driver_connection
    assert raw is not None
    for start in range(0, df.height, batch):
        raw.executemany(sql, df.slice(start, batch).iter_rows())


def community_codes(db: Database) -> list[str]:
    """The communities people can live in: `region` rows at level 'community', sorted."""
    with db.engine.connect() as conn:
        return list(conn.scalars(select(Region.code).where(Region.level == "community").order_by(Region.code)))



def community_shapes(db: Database) -> Shapes | None:
    """The stored community centres and district outlines (`geography.yaml`), or None if none."""
    with Session(db.engine) as session:
        found = shapes(session)
    return found if found.centres else None

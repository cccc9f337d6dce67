"""Where the service-history parts (`core.indicators.History`) put their rows: the database (a
session's multi-row INSERTs, ids from the table's sequence — `DbSink`) or Parquet files
(`ParquetSink`: `<folder>/<table>/part-NNNNN.parquet`, the table's columns and types, ids counted
from 1), loaded later with COPY (`tongban cockpit load`). A part asks `sink_of(history)` and writes
through it in bounded chunks, so the same seed gives the same rows either way and memory stays flat
however large the city.

`Residents`: the living residents a part draws from — (person id, community) by index — kept as
two arrays rather than ten million tuples."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import polars as pl
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, Numeric, insert
from sqlalchemy.types import TypeDecorator, TypeEngine

from tongban.core.db import reserve_ids

BATCH = 10_000  # rows per INSERT (executemany)
PARQUET_ROWS = 200_000  # rows per Parquet part


class DbSink:
    """Rows inserted through the session (the caller commits); ids from the table's sequence."""

    kind = "db"

    def __init__(self, session: Any) -> None:
        self.session = session

    def reserve(self, table: Any, count: int) -> list[int]:
        return reserve_ids(self.session, table, count)

    def insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            self.session.execute(insert(table), rows[start:start + BATCH])

    def close(self) -> dict[str, int]:
        return {}


def _base(col_type: TypeEngine[Any]) -> TypeEngine[Any]:
    return col_type.impl if isinstance(col_type, TypeDecorator) else col_type  # type: ignore[return-value]


def column_types(table: Any) -> dict[str, pl.DataType]:
    """The Polars type of each of `table`'s columns (JSON kept as its text)."""
    out: dict[str, pl.DataType] = {}
    for c in table.columns:
        t = c.type
        if type(t).__name__ == "NullType" and c.foreign_keys:  # a foreign key typed by what it names
            t = next(iter(c.foreign_keys)).column.type
        base = _base(t)
        if isinstance(base, JSON):
            out[c.name] = pl.Utf8()
        elif isinstance(base, BigInteger | Integer):
            out[c.name] = pl.Int64()
        elif isinstance(base, Boolean):
            out[c.name] = pl.Boolean()
        elif isinstance(base, DateTime):
            out[c.name] = pl.Datetime("us", "UTC")
        elif isinstance(base, Date):
            out[c.name] = pl.Date()
        elif isinstance(base, Float | Numeric):
            out[c.name] = pl.Float64()
        else:
            out[c.name] = pl.Utf8()
    return out


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if not value and isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


class ParquetSink:
    """Rows buffered per table and written as Parquet parts of `PARQUET_ROWS`; ids counted per
    table from 1 (the target is empty when loaded). A column the rows leave out (an event's id the
    database numbers) is left out of the file."""

    kind = "parquet"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.next_id: dict[str, int] = {}
        self.buffers: dict[str, list[dict[str, Any]]] = {}
        self.tables: dict[str, Any] = {}
        self.parts: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.order: list[str] = []  # tables in the order first written (parents before children)

    def reserve(self, table: Any, count: int) -> list[int]:
        first = self.next_id.get(table.name, 1)
        self.next_id[table.name] = first + count
        return list(range(first, first + count))

    def insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if table.name not in self.tables:
            self.tables[table.name] = table
            self.order.append(table.name)
            self.rows[table.name] = 0
        buf = self.buffers.setdefault(table.name, [])
        buf.extend(rows)
        if len(buf) >= PARQUET_ROWS:
            self._write(table.name)

    def _write(self, name: str) -> None:
        rows = self.buffers.pop(name, [])
        if not rows:
            return
        table = self.tables[name]
        types = column_types(table)
        present = [c for c in types if c in rows[0]]
        columns: dict[str, pl.Series] = {}
        for c in present:
            values = [r.get(c) for r in rows]
            kind = types[c]
            if isinstance(kind, pl.Utf8) and isinstance(_base(table.c[c].type), JSON):
                values = [_json(v) for v in values]
            elif isinstance(kind, pl.Datetime):
                values = [_utc(v) for v in values]
            columns[c] = pl.Series(c, values, dtype=kind)
        frame = pl.DataFrame(columns)
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        n = self.parts.get(name, 0)
        frame.write_parquet(folder / f"part-{n:05d}.parquet", compression="zstd", statistics=False)
        self.parts[name] = n + 1
        self.rows[name] += frame.height

    def close(self) -> dict[str, int]:
        """Write what is buffered; rows written per table."""
        for name in list(self.buffers):
            self._write(name)
        return dict(self.rows)

    def scan(self, name: str) -> pl.LazyFrame | None:
        """The rows written so far of table `name` (after `close` or a flush), or None."""
        if name in self.buffers:
            self._write(name)
        if not any((self.folder / name).glob("part-*.parquet")):
            return None
        return pl.scan_parquet(self.folder / name / "part-*.parquet")


Sink = DbSink | ParquetSink


def sink_of(history: Any) -> Sink:
    """The history's sink; the database (its session) when it names none."""
    sink = getattr(history, "sink", None)
    return sink if sink is not None else DbSink(history.session)


class Residents(Sequence[tuple[int, str]]):
    """(person id, community) of the living residents, in id order, held as two arrays."""

    def __init__(self, ids: np.ndarray, codes: np.ndarray, names: list[str]) -> None:
        self.ids, self.codes, self.names = ids, codes, names

    @classmethod
    def of_frame(cls, frame: pl.DataFrame) -> Residents:
        """From a frame of `id`, `region_code` (the living, any order)."""
        frame = frame.sort("id")
        text = frame["region_code"].cast(pl.Utf8)
        names = sorted(text.unique().to_list())
        codes = text.cast(pl.Enum(names)).to_physical().to_numpy().astype(np.int32)
        return cls(frame["id"].to_numpy().astype(np.int64), codes, names)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> tuple[int, str]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[tuple[int, str]]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return int(self.ids[i]), self.names[int(self.codes[i])]


def parquet_residents(city: Path) -> Residents:
    """The living residents of a city written as Parquet (`registry.generator.write_parquet`)."""
    frame = (pl.scan_parquet(city / "person" / "part-*.parquet").filter(pl.col("alive"))
             .select("id", "region_code").collect())
    return Residents.of_frame(frame)

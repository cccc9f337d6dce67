"""What a slice needs to compute its indicators (`core.indicators`) in SQL on both databases: the
Asia/Shanghai calendar day of a UTC timestamp column (`local_day`), the UTC instants that bound a
range of Shanghai days (`utc_bounds`), and grouped rows turned into `Cell`s (`cells`).

Asia/Shanghai has kept UTC+8 all year since 1991 (no summer time), so on SQLite, which knows no
time zones, the day is the UTC timestamp moved on eight hours; PostgreSQL converts with the zone
itself. The straight checks of the equality test compute the day with `zoneinfo`, so the two
readings are held to each other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from tongban.core.clock import SHANGHAI
from tongban.core.indicators import Cell


class local_day(FunctionElement[dt.date]):  # noqa: N801 (an SQL function, named as one)
    """The Asia/Shanghai calendar date of a UTC timestamp column (`UTCDateTime`)."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(local_day, "postgresql")
def _local_day_pg(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai' AS DATE)"


def day_start(day: dt.date) -> dt.datetime:
    """The UTC instant at which the Shanghai day `day` begins (its midnight)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(dt.UTC)


def utc_bounds(day_from: dt.date, day_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the Shanghai days `day_from` … `day_to` (inclusive): filter a
    timestamp column with `col >= start AND col < end`."""
    return day_start(day_from), day_start(day_to + dt.timedelta(days=1))


def as_date(value: Any) -> dt.date:
    """A day read back from SQL (a `date`, or SQLite's ISO text where the type is lost)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def cells(rows: Iterable[Sequence[Any]], *, dimensions: int, measures: Sequence[str]) -> list[Cell]:
    """Cells from grouped rows laid out (day, region, *dimension values, *measure values); rows of
    one cell (e.g. from a Python-side mapping of a finer grouping) are summed."""
    out: dict[tuple[dt.date, str, tuple[str, ...]], dict[str, float]] = {}
    for row in rows:
        day, region = as_date(row[0]), str(row[1])
        key = tuple("" if v is None else str(v) for v in row[2:2 + dimensions])
        values = row[2 + dimensions:]
        got = out.setdefault((day, region, key), dict.fromkeys(measures, 0.0))
        for name, v in zip(measures, values, strict=True):
            got[name] += float(v or 0)
    return [Cell(day, region, key, values) for (day, region, key), values in sorted(out.items())]

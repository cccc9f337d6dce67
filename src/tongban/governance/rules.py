"""Quality rules compiled to SQL and evaluated set-wise.

Each rule becomes a predicate that a *failing* row of its dataset's table matches (SQLAlchemy
Core, so the same rule runs on SQLite and PostgreSQL); one aggregate query per rule counts the
rows checked and the rows failing in a single scan, and a second fetches a few sample rows,
masked by the catalog's grades before they go anywhere. Nothing is evaluated row by row in Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from tongban.core.db import all_tables
from tongban.core.timeutil import utcnow

KINDS = ("not_null", "pattern", "resident_id", "range", "allowed", "unique", "referential", "freshness",
         "consistency")
# How old the newest row of a dataset may be, by its declared update frequency (a day's grace each).
FRESHNESS_WINDOWS = {
    "realtime": dt.timedelta(days=1), "daily": dt.timedelta(days=2), "weekly": dt.timedelta(days=8),
    "monthly": dt.timedelta(days=32), "yearly": dt.timedelta(days=367),
}
SAMPLE_ROWS = 5
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643, ISO 7064 MOD 11-2


@dataclass
class Outcome:
    """What one evaluation of a rule found."""

    checked: int
    failed: int
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the evaluator needs it (from the QualityRule row's definition)."""

    id: str
    kind: str
    table: str
    definition: dict[str, Any]
    update_frequency: str = "daily"
    ref_table: str | None = None
    grades: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # field → (grade, mask)


def table_of(name: str) -> Table:
    metadata = all_tables()

    return metadata.tables[name]


def _where(table: Table, where: dict[str, Any] | None) -> list[ColumnElement[bool]]:
    return [table.c[k].is_(None) if v is None else table.c[k] == v for k, v in (where or {}).items()]


def _ric_invalid(col: Any, dialect: str) -> ColumnElement[bool]:
    """GB 11643 shape (17 digits and a digit or X) and check character, as one SQL expression."""
    if dialect == "sqlite":
        shape = col.op("GLOB")("[0-9]" * 17 + "[0-9X]")
    else:
        shape = col.regexp_match("^[0-9]{17}[0-9X]$")
    total: Any = sum(cast(func.substr(col, i + 1, 1), Integer) * w for i, w in enumerate(_RIC_WEIGHTS))
    check = func.substr(literal("10X98765432", String), (total % 11) + 1, 1)
    # CASE, not OR: PostgreSQL must not cast the characters of a malformed number.
    return case((shape, check != func.substr(col, 18, 1)), else_=true())


def failing(spec: RuleSpec, dialect: str, bad_values: set[Any] | None = None,
            ) -> tuple[Table, list[ColumnElement[bool]], ColumnElement[bool]]:
    """(table, the conditions of the rows the rule applies to, the predicate of failing rows).

    `bad_values`: for a pattern rule, the values already known not to match (see `evaluate`)."""
    d = spec.definition
    table = table_of(spec.table)
    base = _where(table, d.get("where"))
    col = table.c[d["field"]]
    kind = spec.kind
    if kind == "not_null":
        pred: ColumnElement[bool] = col.is_(None)
        if isinstance(col.type, String):
            pred = or_(pred, func.trim(col) == "")
    elif kind == "pattern":
        if bad_values is not None:
            pred = col.in_(sorted(bad_values)) if bad_values else false()
        else:
            pred = and_(col.is_not(None), not_(col.regexp_match(d["pattern"])))
    elif kind == "resident_id":
        pred = and_(col.is_not(None), _ric_invalid(col, dialect))
    elif kind == "range":
        parts = []
        if d.get("min") is not None:
            parts.append(col < d["min"])
        if d.get("max") is not None:
            parts.append(col > d["max"])
        pred = and_(col.is_not(None), or_(*parts))
    elif kind == "allowed":
        pred = and_(col.is_not(None), col.not_in(list(d["values"])))
    elif kind == "unique":
        dup = select(col).where(*base, col.is_not(None)).group_by(col).having(func.count() > 1)
        pred = col.in_(dup)
    elif kind in ("referential", "consistency"):
        ref = d["references"]
        target = table_of(spec.ref_table or "")
        target_alias = target.alias("ref")
        match = exists().where(target_alias.c[ref["field"]] == col,
                               *_where(target_alias, ref.get("where")))  # type: ignore[arg-type]
        pred = and_(col.is_not(None), not_(match)) if kind == "referential" else match
    else:  # pragma: no cover - the pack section refuses other kinds
        raise ValueError(f"kind {kind!r} has no row predicate")
    return table, base, pred


def evaluate(session: Session, spec: RuleSpec) -> Outcome:
    """Count the rows the rule checks and those failing it (one query), and fetch masked samples."""
    if spec.kind == "freshness":
        return _freshness(session, spec)
    dialect = session.get_bind().dialect.name
    bad_values = _unmatched_values(session, spec) if spec.kind == "pattern" and dialect == "sqlite" else None
    table, base, pred = failing(spec, dialect, bad_values)
    row = session.execute(select(func.count(), func.coalesce(func.sum(case((pred, 1), else_=0)), 0))
                          .select_from(table).where(*base)).one()
    checked, failed = int(row[0]), int(row[1])
    samples: list[dict[str, Any]] = []
    if failed:
        name = spec.definition["field"]
        cols = [table.c.id, table.c[name]] if "id" in table.c and name != "id" else [table.c[name]]
        order = table.c.id if "id" in table.c else table.c[name]
        for r in session.execute(select(*cols).where(*base, pred).order_by(order).limit(SAMPLE_ROWS)):
            samples.append({c.name: _masked(spec, c.name, v) for c, v in zip(cols, r, strict=True)})
    return Outcome(checked, failed, samples)


# A column with more distinct values than this is tested row by row with REGEXP instead.
_MAX_DISTINCT = 10_000


def _unmatched_values(session: Session, spec: RuleSpec) -> set[Any] | None:
    """SQLite's REGEXP is a Python function called for every row; testing each *distinct* value
    once (8 million income rows hold a dozen months) is the same answer for a fraction of the calls."""
    import re

    table = table_of(spec.table)
    col = table.c[spec.definition["field"]]
    pattern = re.compile(spec.definition["pattern"])
    query = (select(col).where(*_where(table, spec.definition.get("where")), col.is_not(None)).distinct()
             .limit(_MAX_DISTINCT + 1))
    values = session.scalars(query).all()
    if len(values) > _MAX_DISTINCT:
        return None  # e.g. phone numbers: nearly every value distinct, nothing to gain
    return {v for v in values if pattern.search(str(v)) is None}


def _freshness(session: Session, spec: RuleSpec) -> Outcome:
    """The dataset is fresh if its newest row is within the window of its update frequency."""
    table = table_of(spec.table)
    col = table.c[spec.definition["field"]]
    window = FRESHNESS_WINDOWS.get(spec.update_frequency, FRESHNESS_WINDOWS["daily"])
    cutoff: Any = utcnow() - window
    try:
        is_date = col.type.python_type is dt.date
    except NotImplementedError:
        is_date = False
    if is_date:
        cutoff = cutoff.date()
    base = _where(table, spec.definition.get("where"))
    fresh = session.scalar(select(exists().where(*base, col >= cutoff)))
    newest = session.scalar(select(func.max(col)).where(*base))
    shown = newest.isoformat() if isinstance(newest, dt.date | dt.datetime) else (str(newest) if newest else None)
    return Outcome(1, 0 if fresh else 1, [] if fresh else [{"newest": shown, "window_days": window.days}])


def _masked(spec: RuleSpec, name: str, value: Any) -> Any:
    """A sample value as a report may show it: the release decision's display on a grant of
    every field without clear text (`datahub.release`) — L1–L2 as they are, L3 masked, L4 withheld."""
    from tongban.datahub.release import Basis, Field, release_value

    basis = Basis(kind="grant", dataset_id=None, grant_fields=frozenset(spec.grades),
                  catalog={n: Field(n, grade, mask) for n, (grade, mask) in spec.grades.items()})
    shown = release_value(basis, name, value, purpose=False)
    return shown.isoformat() if isinstance(shown, dt.date | dt.datetime) else shown

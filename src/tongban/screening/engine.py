"""What screening needs from the policy engine, as one small interface.

Runs, offers and alerts never look inside a policy: they ask an `Engine` for the policies'
facts (benefit code, how to apply, unit), for a snapshot of the views, for the per-subject
outcomes over a snapshot (a Polars frame) and for the per-criterion explanation of one case.
`policy_engine()` is the engine the platform uses; tests may pass their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl
from sqlalchemy.orm import Session

# The columns of an outcomes frame, one row per policy × subject.
OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "policy_id": pl.String(), "person_id": pl.Int64(), "eligible": pl.Boolean(),
    "criteria": pl.Int64(), "amount_fen": pl.Int64(),
}
BACKENDS = ("polars", "duckdb", "postgres")


@dataclass(frozen=True)
class PolicyInfo:
    """The facts of a policy (or a monitoring rule, when `severity` is set) that screening uses."""

    id: str
    title: dict[str, str]
    unit: str = "person"  # person | household
    benefit: str | None = None
    apply_via: str | None = None  # item.<id> | onething.<id>
    department: str | None = None
    severity: str | None = None  # low | medium | high: a risk-monitoring rule


@dataclass(frozen=True)
class Term:
    """One side of a criterion's comparison: the person's actual value, or the threshold in force.

    `region_code` is set for a parameter whose value is per region (the explanation names the region)."""

    label: dict[str, str]
    value: Any
    type: str = "int"  # int | money (fen) | str | bool | date
    region_code: str | None = None


@dataclass(frozen=True)
class CriterionResult:
    """One criterion of one case: met, missed, or unknown (a value is missing)."""

    id: str
    description: dict[str, str]
    met: bool | None
    actual: Term | None = None
    op: str | None = None  # lt | le | gt | ge | eq | ne
    threshold: Term | None = None

    def to_json(self) -> dict[str, Any]:
        def term(t: Term | None) -> dict[str, Any] | None:
            if t is None:
                return None
            value = t.value.isoformat() if isinstance(t.value, dt.date) else t.value
            return {"label": t.label, "value": value, "type": t.type, "region_code": t.region_code}

        return {"id": self.id, "description": self.description, "met": self.met, "actual": term(self.actual),
                "op": self.op, "threshold": term(self.threshold)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CriterionResult:
        def term(t: dict[str, Any] | None) -> Term | None:
            return None if t is None else Term(t["label"], t["value"], t.get("type", "int"), t.get("region_code"))

        return cls(d["id"], d["description"], d["met"], term(d.get("actual")), d.get("op"), term(d.get("threshold")))


Progress = Callable[[str], None]


@dataclass
class Snapshot:
    """The views as read for a run: `person` must carry id, household_id and region_code."""

    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            frame.write_parquet(folder / f"{name}.parquet")

    @classmethod
    def read(cls, folder: Path) -> Snapshot:
        return cls({p.stem: pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))})


class Engine(Protocol):
    def policies(self, session: Session) -> dict[str, PolicyInfo]:
        """Every policy and monitoring rule of the loaded pack, by id."""

    def parameters_in_force(self, session: Session, *, as_of: dt.date) -> dict[str, Any]:
        """The parameters' values in force on `as_of`, by parameter and region prefix (recorded on the run)."""

    def snapshot(self, session: Session, *, as_of: dt.date) -> Snapshot:
        """The views as of `as_of` (and the previous snapshot, for change rules)."""

    def evaluate(self, folder: Path, *, policy_ids: list[str], as_of: dt.date, backend: str,
                 progress: Progress) -> pl.DataFrame:
        """Outcomes (OUTCOME_SCHEMA) of `policy_ids` over the snapshot written in `folder`."""

    def explain(self, folder: Path, *, policy_id: str, person_id: int, as_of: dt.date) -> list[CriterionResult]:
        """Each criterion of `policy_id` for one person, from the reference evaluator."""


_engine: Engine | None = None


def set_engine(engine: Engine | None) -> None:
    """Use `engine` for every run and explanation (tests; None restores the default)."""
    global _engine
    _engine = engine


def policy_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("no policy engine is configured for screening")
    return _engine

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
BACKENDS = ("polars", "duckdb", "postgres", "spark")


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

    def fields_needed(self, policy_ids: list[str]) -> set[tuple[str, str]]:
        """The catalog (dataset, field) pairs the policies read: what the department's grant must cover."""

    def policy_hashes(self, session: Session, policy_ids: list[str]) -> dict[str, str]:
        """The digest of every policy a run of `policy_ids` evaluates (those they refer to
        included), each the loaded pack's: `Conflict` naming `policy` when the policies read
        differ from those the pack was loaded with."""

    def snapshot(self, session: Session, *, as_of: dt.date, previous: Path | None,
                 policy_ids: list[str] | None = None) -> Snapshot:
        """The views as of `as_of`, only the fields `policy_ids` read; `previous` is the previous
        run's snapshot folder (change rules compare with its person view)."""

    def evaluate(self, folder: Path, *, policy_ids: list[str], as_of: dt.date, backend: str,
                 progress: Progress, session: Session | None = None) -> pl.DataFrame:
        """Outcomes (OUTCOME_SCHEMA) of `policy_ids` over the snapshot written in `folder`."""

    def explain(self, folder: Path, *, policy_id: str, person_id: int, as_of: dt.date) -> list[CriterionResult]:
        """Each criterion of `policy_id` for one person, from the reference evaluator."""


BACKENDS_AVAILABLE = ("polars", "duckdb", "postgres", "spark")


class PolicyEngine:
    """The policy language of `tongban.policy`: policies read from a pack (or a folder of
    policy files), evaluated by `tongban.policy.evaluate` (Polars or DuckDB), explained by the
    reference evaluator."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._cache: tuple[float, Any, dict[str, PolicyInfo]] | None = None

    def _load(self) -> tuple[Any, dict[str, PolicyInfo]]:
        from tongban.policy.model import PolicySet
        from tongban.policy.parse import read_policies
        from tongban.screening.pack_sections import read_alert_rules, read_monitoring_rules

        stamp = max((p.stat().st_mtime for p in self.root.rglob("*.yaml")), default=0.0)
        if self._cache is None or self._cache[0] != stamp:
            pset = read_policies(self.root)
            rules = read_monitoring_rules(self.root)
            if rules is not None:  # rules refer to no policy: they go after the programme's
                pset = PolicySet(policies=(*pset.policies, *rules.policies),
                                 parameters={**pset.parameters, **rules.parameters})
            severity = read_alert_rules(self.root)
            infos = {p.id: PolicyInfo(id=p.id, title={"zh": p.title.zh, "en": p.title.en}, unit=p.unit,
                                      benefit=p.benefit, apply_via=p.apply_via, department=p.department,
                                      severity=severity.get(p.id)) for p in pset.policies}
            self._cache = (stamp, pset, infos)
        return self._cache[1], self._cache[2]

    @property
    def policy_set(self) -> Any:
        return self._load()[0]

    def policies(self, session: Session) -> dict[str, PolicyInfo]:
        return self._load()[1]

    def parameters_in_force(self, session: Session, *, as_of: dt.date) -> dict[str, Any]:
        return {pid: {region or "*": (v.isoformat() if isinstance(v, dt.date) else v)
                      for region, v in param.table_at(as_of).items()}
                for pid, param in sorted(self.policy_set.parameters.items())}

    def fields_needed(self, policy_ids: list[str]) -> set[tuple[str, str]]:
        """The catalog (dataset, field) pairs the policies read: what the grant must cover."""
        from tongban.screening.source import fields_needed

        return fields_needed(self.policy_set.subset(policy_ids))

    def policy_hashes(self, session: Session, policy_ids: list[str]) -> dict[str, str]:
        """The digests of the policies to evaluate, read from the files, each checked against the
        loaded pack's (`policy.digests`): a folder edited, or a pack loaded, since the other is
        refused, so a run never evaluates one pack's policies and records another's version."""
        from tongban.core.errors import Conflict
        from tongban.core.i18n import N_
        from tongban.policy import digests

        mine = self.policy_set.subset(policy_ids).digests()
        pack, loaded = digests.loaded(session)
        for pid, digest in sorted(mine.items()):
            if loaded.get(pid) != digest:
                raise Conflict(N_("The policy %(policy)s in the pack files differs from the loaded pack %(pack)s; "
                                  "load the pack again (tongban pack load) before screening"), field="policy",
                               policy=pid, pack=" ".join(pack) if pack else "-")
        return mine

    def snapshot(self, session: Session, *, as_of: dt.date, previous: Path | None,
                 policy_ids: list[str] | None = None) -> Snapshot:
        """The views as of `as_of`, reading from the registry only the fields `policy_ids` need
        (all policies when None); the other view columns are null."""
        from tongban.policy.views import PREVIOUS, polars_schema, registry_snapshot
        from tongban.screening.source import view_fields_needed

        fields = view_fields_needed(self.policy_set.subset(policy_ids))
        snap = registry_snapshot(session, as_of=as_of, fields=fields)
        frames = {"person": snap.person.collect(), "household": snap.household.collect()}
        prev_file = previous / "person.parquet" if previous is not None else None
        if prev_file is not None and prev_file.exists():
            # The change between two snapshots: the person view as the previous run saw it.
            frames["previous"] = pl.read_parquet(prev_file).select(
                [pl.col(n).cast(t) if n in fields["previous"] else pl.lit(None, dtype=t).alias(n)
                 for n, t in polars_schema(PREVIOUS).items()])
        elif snap.previous is not None:
            frames["previous"] = snap.previous.collect()
        return Snapshot(frames)

    def evaluate(self, folder: Path, *, policy_ids: list[str], as_of: dt.date, backend: str,
                 progress: Progress, session: Session | None = None) -> pl.DataFrame:
        from tongban.policy.evaluate import evaluate

        if backend not in BACKENDS_AVAILABLE:
            from tongban.core.errors import Invalid
            from tongban.core.i18n import N_

            raise Invalid(N_("This backend is not available here"), field="backend")
        pset = self.policy_set.subset(policy_ids)
        if backend == "postgres":
            result = _evaluate_in_postgres(pset, folder, as_of=as_of, session=session)
        elif backend == "spark":
            from tongban.policy.evaluate import finish
            from tongban.screening.source import spark_wide, view_fields_needed

            files = {v: [folder / f"{v}.parquet"] for v in ("person", "household", "previous")
                     if (folder / f"{v}.parquet").exists()}
            wide = spark_wide(pset, files, view_fields_needed(pset), as_of=as_of)
            result = finish(pset, wide.lazy(), None)
        else:
            result = evaluate(pset, folder, as_of=as_of, backend=backend)  # type: ignore[arg-type]
        progress("outcomes")
        persons = pl.read_parquet(folder / "person.parquet", columns=["id", "household_id"])
        return to_person_outcomes(result.filter(pl.col("policy").is_in(sorted(set(policy_ids)))), persons)

    def explain(self, folder: Path, *, policy_id: str, person_id: int, as_of: dt.date) -> list[CriterionResult]:
        return explain_with_reference(self.policy_set, folder, policy_id=policy_id, person_id=person_id,
                                      as_of=as_of)


_SCRATCH = {"person": "tb_screening_person", "household": "tb_screening_household",
            "previous": "tb_screening_previous"}


def _evaluate_in_postgres(pset: Any, folder: Path, *, as_of: dt.date, session: Session | None) -> pl.DataFrame:
    """The compiled SQL run by PostgreSQL: the snapshot is copied into temporary tables of the
    run's own transaction (dropped after), then evaluated where it lies."""
    from sqlglot import exp

    from tongban.core.errors import Invalid
    from tongban.core.i18n import N_
    from tongban.policy import compile_sql
    from tongban.policy.evaluate import evaluate_sql
    from tongban.policy.views import VIEWS

    if session is None or session.get_bind().dialect.name != "postgresql":
        raise Invalid(N_("This backend is not available here"), field="backend")
    conn = session.connection()
    raw = conn.connection.driver_connection
    present = [v for v in ("person", "household", "previous") if (folder / f"{v}.parquet").exists()]
    try:
        for name in present:
            view = VIEWS[name]
            table = exp.to_table(_SCRATCH[name]).sql("postgres")
            cols = [exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(compile_sql.SQL_TYPES[f.type]))
                    for n, f in view.fields.items()]
            conn.exec_driver_sql(exp.Create(this=exp.Schema(this=exp.to_table(_SCRATCH[name]), expressions=cols),
                                            kind="TABLE", properties=exp.Properties(
                                                expressions=[exp.TemporaryProperty()])).sql("postgres"))
            frame = pl.read_parquet(folder / f"{name}.parquet").select(list(view.fields))
            with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
                    f"COPY {table} ({', '.join(view.fields)}) FROM STDIN") as copy:
                for row in frame.iter_rows():
                    copy.write_row(row)
        return evaluate_sql(pset, conn, as_of=as_of, dialect="postgres",
                            sources=compile_sql.table_sources(names=_SCRATCH, views=tuple(present)))
    finally:
        for name in present:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {exp.to_table(_SCRATCH[name]).sql('postgres')}")


def to_person_outcomes(result: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """The policy engine's long result (policy, unit, subject_id, …) as one row per person:
    a household policy's outcome is every member's."""
    person_rows = result.filter(pl.col("unit") == "person").select(
        pl.col("policy").alias("policy_id"), pl.col("subject_id").cast(pl.Int64).alias("person_id"),
        "eligible", "criteria", "amount_fen")
    members = persons.select(pl.col("id").cast(pl.Int64).alias("person_id"),
                             pl.col("household_id").cast(pl.Int64).alias("subject_id")).drop_nulls()
    household_rows = (result.filter(pl.col("unit") == "household").with_columns(pl.col("subject_id").cast(pl.Int64))
                      .join(members, on="subject_id", how="inner")
                      .select(pl.col("policy").alias("policy_id"), "person_id", "eligible", "criteria", "amount_fen"))
    return pl.concat([person_rows, household_rows], how="vertical_relaxed").select(
        [pl.col(c).cast(t) for c, t in OUTCOME_SCHEMA.items()])


def explain_with_reference(pset: Any, folder: Path, *, policy_id: str, person_id: int,
                           as_of: dt.date) -> list[CriterionResult]:
    """One case through the reference evaluator, over the person's household only (every
    criterion reads the person, their household and its members)."""
    from tongban.policy import reference

    person_frame = pl.read_parquet(folder / "person.parquet")
    me = person_frame.filter(pl.col("id") == person_id)
    if me.height == 0:
        return []
    hid = me["household_id"][0]
    members = person_frame.filter(pl.col("household_id") == hid) if hid is not None else me
    households = pl.read_parquet(folder / "household.parquet").filter(pl.col("id") == hid) if hid is not None \
        else pl.DataFrame()
    prev_path = folder / "previous.parquet"
    previous = (pl.read_parquet(prev_path).filter(pl.col("id").is_in(members["id"].implode())).to_dicts()
                if prev_path.exists() else None)
    sub = pset.subset([policy_id])
    pop = reference.Population.of(members.to_dicts(), households.to_dicts(), previous)
    evaluator = reference.Evaluator(sub, pop, as_of)
    policy = sub.get(policy_id)
    subject = person_id if policy.unit == "person" else hid
    if subject is None:
        return []
    found = reference.explain(evaluator, policy_id, int(subject))
    region = me["region_code"][0]
    out = []
    for crit, item in zip(policy.criteria, found.items, strict=True):
        out.append(_criterion(pset, crit, item, region, as_of))
    return out


def _criterion(pset: Any, crit: Any, item: Any, region: str | None, as_of: dt.date) -> CriterionResult:
    from tongban.screening.labels import term_label

    description = {"zh": crit.description.zh, "en": crit.description.en}
    met: bool | None = None if item.value is None else bool(item.met)
    compares = _top_compares(crit.expr)
    if len(compares) != 1 or len(item.comparisons) != 1:
        return CriterionResult(crit.id, description, met)
    node, comp = compares[0], item.comparisons[0]
    left_src, right_src = _split_source(crit.source or comp.text, node.op)

    def term(side: Any, src: str, value: Any) -> Term:
        region_code = None
        if src.startswith("param.") and src[6:] in pset.parameters:
            region_code = _param_region(pset.parameters[src[6:]], region, as_of)
        return Term(term_label(src, pset), value, side.type, region_code)

    return CriterionResult(crit.id, description, met, term(node.left, left_src, comp.actual), node.op,
                           term(node.right, right_src, comp.threshold))


_OP_TEXT = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}


def _split_source(source: str, op: str) -> tuple[str, str]:
    sym = f" {_OP_TEXT[op]} "
    if source.count(sym) == 1:
        left, right = source.split(sym)
        return left.strip(), right.strip()
    return source, ""


def _top_compares(e: Any) -> list[Any]:
    from tongban.policy import model as m

    if isinstance(e, m.Compare):
        return [e]
    if isinstance(e, m.HouseholdAgg):
        return []
    return [c for child in m.children(e) for c in _top_compares(child)]


def _param_region(param: Any, region: str | None, as_of: dt.date) -> str | None:
    """The region whose value is in force for `region` on `as_of`, as a 6-digit code (None: everywhere)."""
    best = None
    for v in param.values:
        if v.start > as_of or not (region or "").startswith(v.region):
            continue
        if best is None or (len(v.region), v.start) > (len(best.region), best.start):
            best = v
    if best is None or not best.region:
        return None
    return best.region.ljust(6, "0") if len(best.region) < 6 else best.region


_engine: Engine | None = None


def set_engine(engine: Engine | None) -> None:
    """Use `engine` for every run and explanation (tests; None restores the default)."""
    global _engine
    _engine = engine


def policy_engine() -> Engine:
    """The engine in use: the one set, else the policy language over the configured pack."""
    global _engine
    if _engine is None:
        from tongban.core.config import get_settings

        _engine = PolicyEngine(get_settings().pack_dir)
    return _engine

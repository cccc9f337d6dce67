"""Pack sections of data governance: `quality.yaml` (quality rules per dataset) and
`service_halls.yaml` (the demo's open data: public service halls)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tongban.core.db import all_tables
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import Defines, NonEmpty, PackModel, RefersTo, SectionFile, StableId, Text
from tongban.governance.models import QualityRule, ServiceHall

Scalar = str | int | bool | None


class Reference(PackModel):
    dataset: Annotated[str, RefersTo("dataset")]
    field: str
    where: dict[str, Scalar] = {}


class RuleDecl(PackModel):
    """One quality rule: what a row (or, for freshness, the dataset) must satisfy."""

    id: Annotated[StableId, Defines("quality_rule")]
    dataset: Annotated[str, RefersTo("dataset")]
    kind: Literal["not_null", "pattern", "resident_id", "range", "allowed", "unique", "referential",
                  "freshness", "consistency"]
    field: str
    severity: Literal["low", "medium", "high", "critical"]
    description: Text
    where: dict[str, Scalar] = {}
    pattern: str | None = None
    values: list[str | int] | None = None
    min: float | None = None
    max: float | None = None
    references: Reference | None = None


class QualityFile(SectionFile):
    rules: list[RuleDecl]


def _columns(table: str | None) -> set[str] | None:
    metadata = all_tables()

    t = metadata.tables.get(table or "")
    return None if t is None else {c.name for c in t.columns}


def check_quality(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: QualityFile = pf.model
    for i, r in enumerate(model.rules):
        ds = pack.get("dataset", r.dataset)
        if ds is None:
            continue  # reported as an undefined reference
        cols = _columns(ds.table)
        if cols is None:
            yield pf.problem(("rules", i, "dataset"), f"dataset {r.dataset!r} is not held in a table; "
                                                     "quality rules are checked in the database")
            continue
        if r.field not in cols:
            yield pf.problem(("rules", i, "field"), f"table {ds.table!r} has no column {r.field!r}")
        for key in r.where:
            if key not in cols:
                yield pf.problem(("rules", i, "where", key), f"table {ds.table!r} has no column {key!r}")
        needs = {"pattern": "pattern", "allowed": "values", "referential": "references",
                 "consistency": "references"}.get(r.kind)
        if needs and getattr(r, needs) is None:
            yield pf.problem(("rules", i, "kind"), f"a {r.kind} rule needs {needs!r}")
        if r.kind == "range" and r.min is None and r.max is None:
            yield pf.problem(("rules", i, "kind"), "a range rule needs min, max or both")
        if r.pattern is not None:
            try:
                re.compile(r.pattern)
            except re.error as exc:
                yield pf.problem(("rules", i, "pattern"), f"not a regular expression: {exc}")
        if r.references is not None:
            target = pack.get("dataset", r.references.dataset)
            tcols = _columns(target.table) if target is not None else None
            if target is not None and tcols is None:
                yield pf.problem(("rules", i, "references", "dataset"),
                                 f"dataset {r.references.dataset!r} is not held in a table")
            elif tcols is not None:
                for key in [r.references.field, *r.references.where]:
                    if key not in tcols:
                        yield pf.problem(("rules", i, "references"), f"table {target.table!r} has no column {key!r}")


def apply_quality(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    changes = Changes()
    declared: set[str] = set()
    for pf in files:
        for r in pf.model.rules:
            declared.add(r.id)
            definition: dict[str, Any] = {"field": r.field, "where": dict(r.where)}
            for key in ("pattern", "values", "min", "max"):
                if getattr(r, key) is not None:
                    definition[key] = getattr(r, key)
            if r.references is not None:
                definition["references"] = r.references.model_dump()
            changes.count(upsert(session, QualityRule, r.id, dict(
                id=r.id, dataset_id=r.dataset, kind=r.kind, severity=r.severity, definition=definition,
                description_zh=r.description.zh, description_en=r.description.en, pack_id=pack.id)))
    # Rules this pack no longer declares are dropped (their issues and history stay).
    stale = [rid for rid in session.scalars(select(QualityRule.id).where(QualityRule.pack_id == pack.id))
             if rid not in declared]
    if stale:
        session.execute(delete(QualityRule).where(QualityRule.id.in_(stale)))
        changes.updated += len(stale)
    return changes


register_section("quality", QualityFile, apply=apply_quality, check=check_quality, order=55,
                 description="Data quality rules per dataset (数据质量规则): kind, severity, bilingual description.")


# --- service_halls.yaml: open data of the demo --------------------------------------------------


class HallDecl(PackModel):
    id: int = Field(ge=1)
    name: Text
    region: Annotated[str, RefersTo("region")]
    address: NonEmpty
    opening_hours: NonEmpty
    phone: Annotated[str, Field(pattern=r"^0\d{2,3}-\d{7,8}$")]  # an office line
    longitude: float = Field(ge=73, le=136)
    latitude: float = Field(ge=3, le=54)


class HallsFile(SectionFile):
    halls: list[HallDecl]


def apply_halls(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert
    from tongban.core.timeutil import utcnow

    changes = Changes()
    for pf in files:
        for h in pf.model.halls:
            outcome = upsert(session, ServiceHall, h.id, dict(
                id=h.id, name=h.name.zh, name_en=h.name.en, region_code=h.region, address=h.address,
                opening_hours=h.opening_hours, phone=h.phone, longitude=h.longitude, latitude=h.latitude))
            if outcome != "unchanged":
                session.flush()
                session.get_one(ServiceHall, h.id).updated_at = utcnow()
            changes.count(outcome)
    return changes


register_section("service_halls", HallsFile, apply=apply_halls, order=56,
                 description="Public service halls (政务服务大厅): open data (无条件开放) of the region.")

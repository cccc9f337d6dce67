"""The pack's `cases.yaml`: the case engine's categories (hotline and grid), the 派单目录
(category × region → 主办 department, 协办), time limits per type in working days, the 并单
window and the emergency keywords (110/119/120/122)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import delete
from sqlalchemy.orm import Session

from tongban.cases.models import CaseCategory, CaseDispatchRule, CaseSetting
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import (
    Defines,
    NonEmpty,
    PackModel,
    RefersTo,
    RegionCode,
    SectionFile,
    StableId,
    Text,
)

FiledType = Literal["consult", "help", "complaint", "report", "suggestion", "grid"]
CaseType = Literal[FiledType, "supervision"]
HOTLINE_TYPES = ("consult", "help", "complaint", "report", "suggestion")


class CategoryDecl(PackModel):
    id: Annotated[StableId, Defines("case_category")]
    # hotline: 12345 诉求; grid: grid events; cockpit: 督办 raised from a cockpit warning (督办事项)
    kind: Literal["hotline", "grid", "cockpit"] = "hotline"
    type: CaseType = "help"  # the type a filing of this category takes when none is given (Open311)
    title: Text
    description: Text
    keywords: list[NonEmpty] = []  # words that suggest this category to the operator
    days: int | None = Field(None, ge=1, le=60)  # a grid or cockpit category's own time limit


class DispatchDecl(PackModel):
    category: Annotated[str, RefersTo("case_category")]
    region: Annotated[RegionCode, RefersTo("region")]
    department: Annotated[str, RefersTo("department")]
    assist: Annotated[list[str], RefersTo("department")] = []


class TimeLimits(PackModel):
    consult: int = Field(2, ge=1, le=60)
    help: int = Field(10, ge=1, le=60)
    complaint: int = Field(15, ge=1, le=60)
    report: int = Field(15, ge=1, le=60)
    suggestion: int = Field(10, ge=1, le=60)
    grid: int = Field(5, ge=1, le=60)
    supervision: int = Field(10, ge=1, le=60)  # 督办事项 raised from the cockpit


class MergeDecl(PackModel):
    distance_m: int = Field(200, ge=1, le=10000)
    window_hours: int = Field(72, ge=1, le=24 * 60)


class EmergencyDecl(PackModel):
    number: Literal["110", "119", "120", "122"]
    name: Text
    keywords: list[NonEmpty] = Field(min_length=1)


class CasesFile(SectionFile):
    open311_jurisdiction: Annotated[RegionCode, RefersTo("region")] | None = None  # where Open311 filings go
    time_limits: TimeLimits = TimeLimits()
    merge: MergeDecl = MergeDecl()
    emergencies: list[EmergencyDecl] = []
    categories: list[CategoryDecl]
    dispatch: list[DispatchDecl] = []


def check_cases(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: CasesFile = pf.model
    seen: set[tuple[str, str]] = set()
    kinds = {c.id: c.kind for c in model.categories}
    for i, c in enumerate(model.categories):
        if (c.kind == "cockpit") != (c.type == "supervision"):
            yield pf.problem(("categories", i, "type"), "a cockpit category, and only one, has the type supervision")
    for i, d in enumerate(model.dispatch):
        if kinds.get(d.category) == "cockpit":
            yield pf.problem(("dispatch", i, "category"), "a cockpit category goes to the department the warning names")
        if (d.category, d.region) in seen:
            yield pf.problem(("dispatch", i), f"category {d.category!r} in region {d.region} is dispatched twice")
        seen.add((d.category, d.region))
        if d.department in d.assist:
            yield pf.problem(("dispatch", i, "assist"), "the 主办 department cannot also be 协办")


def apply_cases(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    changes = Changes()
    session.execute(delete(CaseDispatchRule).where(CaseDispatchRule.pack_id == pack.id))
    for pf in files:
        model: CasesFile = pf.model
        for c in model.categories:
            definition = {"title": c.title.model_dump(), "description": c.description.model_dump(),
                          "keywords": list(c.keywords), "days": c.days}
            changes.count(upsert(session, CaseCategory, c.id, dict(
                id=c.id, kind=c.kind, default_type="grid" if c.kind == "grid" else c.type,
                definition=definition, pack_id=pack.id)))
        for d in model.dispatch:
            session.add(CaseDispatchRule(category_id=d.category, region_code=d.region, department_id=d.department,
                                         assist=list(d.assist), pack_id=pack.id))
        settings = {"time_limits": model.time_limits.model_dump(), "merge": model.merge.model_dump(),
                    "emergencies": [e.model_dump() for e in model.emergencies],
                    "open311": {"jurisdiction": model.open311_jurisdiction}}
        for key, value in settings.items():
            changes.count(upsert(session, CaseSetting, key, dict(key=key, value=value, pack_id=pack.id)))
    session.flush()
    return changes


register_section("cases", CasesFile, apply=apply_cases, check=check_cases, order=58,
                 description="The case engine (12345 诉求 and grid events): categories, 派单目录, time limits "
                             "in working days, 并单 window, emergency keywords.")


# --- demo_cases.yaml: the demo's cases (demo only) ------------------------------------------------


class DemoCaseDecl(PackModel):
    key: StableId
    reporter: NonEmpty  # a cast member's username
    category: Annotated[str, RefersTo("case_category")]
    type: FiledType | None = None
    description: NonEmpty
    region: Annotated[RegionCode, RefersTo("region")]
    address: NonEmpty
    filed_days_ago: int = Field(ge=0, le=60)
    state: Literal["open", "overdue", "answered", "closed"]
    reply: str | None = None
    rating: int | None = Field(None, ge=1, le=5)


class DemoCasesFile(SectionFile):
    cases: list[DemoCaseDecl]


def apply_demo_cases(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    """Kept as a setting; `tongban cases demo` (run by `tongban demo up`) files them, so the tests'
    demo database starts with no cases."""
    from tongban.core.packs.sections import upsert

    declared = [c.model_dump() for pf in files for c in pf.model.cases]
    changes = Changes()
    changes.count(upsert(session, CaseSetting, "demo_cases", dict(key="demo_cases", value=declared, pack_id=pack.id)))
    return changes


register_section("demo_cases", DemoCasesFile, apply=apply_demo_cases, order=930, demo_only=True, id_keys=("key",),
                 description="The demo's cases: open, overdue and closed, filed by the cast (demo only).")

"""The pack's `cockpit.yaml`: the cockpit's settings (the suppression threshold, how far back a
refresh looks, the history's length) and its early-warning rules (预警规则): indicator, region
level, window, threshold and comparison, and who can act — a role, a department, or the
department of the cell the warning is about — with the page where they act."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, model_validator
from sqlalchemy.orm import Session

from tongban.cockpit.models import CockpitSetting
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import NonEmpty, PackModel, RefersTo, RegionLevel, SectionFile, StableId, Text


class ActDecl(PackModel):
    """Who can act on a warning: exactly one of a role, a department, the cell's department."""

    role: Annotated[str | None, RefersTo("role")] = None
    department: Annotated[str | None, RefersTo("department")] = None
    cell_department: bool = False

    @model_validator(mode="after")
    def _one(self) -> ActDecl:
        if sum((self.role is not None, self.department is not None, self.cell_department)) != 1:
            raise ValueError("give exactly one of role, department or cell_department: true")
        return self


class WarningDecl(PackModel):
    id: StableId
    title: Text
    indicator: NonEmpty  # an indicator's key, e.g. services.overdue
    level: RegionLevel = "street"
    by: list[NonEmpty] = []  # dimensions kept apart (the others summed over), e.g. [department]
    window_days: int = Field(7, ge=1, le=366)
    comparison: Literal["above", "below", "fall", "rise"]
    threshold: float  # a ratio's threshold is a fraction (0.1 = 10 percentage points)
    min_base: int = Field(0, ge=0)  # fire only where the indicator's subjects count at least this many
    act: ActDecl
    href: str = Field(pattern=r"^/[^/\\]", max_length=300)  # a page of tongban; {region}, {department}


class CockpitFile(SectionFile):
    min_count: int = Field(10, ge=1, le=1000)  # the aggregate basis's small-count threshold
    lookback_days: int = Field(35, ge=0, le=366)  # days a refresh recomputes when a flow names none
    history_days: int = Field(365, ge=1, le=3660)  # days the first refresh fills
    warnings: list[WarningDecl] = []


def check_cockpit(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: CockpitFile = pf.model
    seen: set[str] = set()
    for i, w in enumerate(model.warnings):
        if w.id in seen:
            yield pf.problem(("warnings", i, "id"), f"warning rule {w.id!r} is declared twice")
        seen.add(w.id)
        if w.act.cell_department and "department" not in w.by:
            yield pf.problem(("warnings", i, "act"), "cell_department needs `by: [department]`")


def warn_cockpit(pack: Pack) -> list[str]:
    """Rules on an indicator no installed slice publishes raise nothing until one does."""
    from tongban.cockpit.store import indicators

    known = indicators()
    out = []
    for pf in pack.files_of("cockpit"):
        for w in pf.model.warnings:
            ind = known.get(w.indicator)
            if ind is None:
                out.append(f"{pf.path}: warning rule {w.id}: no installed slice publishes the indicator "
                           f"{w.indicator!r}; the rule raises nothing")
            elif not set(w.by) <= set(ind.dimensions):
                out.append(f"{pf.path}: warning rule {w.id}: {w.indicator} has no dimension among {w.by}")
    return out


def apply_cockpit(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    changes = Changes()
    for pf in files:
        model: CockpitFile = pf.model
        settings = {"min_count": model.min_count, "lookback_days": model.lookback_days,
                    "history_days": model.history_days}
        rules = [w.model_dump() for w in model.warnings]
        for key, value in (("settings", settings), ("rules", rules)):
            changes.count(upsert(session, CockpitSetting, key, dict(key=key, value=value, pack_id=pack.id)))
    session.flush()
    return changes


register_section("cockpit", CockpitFile, apply=apply_cockpit, check=check_cockpit, warnings=warn_cockpit,
                 order=90, description="The cockpit: the small-count suppression threshold, how far a refresh "
                                       "looks back, and the early-warning rules (预警).")

"""The pack's `ratings.yaml` (好差评): the rectification limits in working days (回访, 整改, 答复), the
role whose holders decide appeals (申诉复核), the one-things whose tasks are rated one by one, and
the tags a resident may pick (the national rules' reasons for a 好评 or a 差评)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import PackModel, RefersTo, SectionFile, StableId, Text
from tongban.ratings.models import RatingSetting


class RectificationLimits(PackModel):
    """Working days from the 差评 (Zhejiang practice: return visit within 1 day, rectify and reply within 15)."""

    visit_days: int = Field(1, ge=0, le=30)
    rectify_days: int = Field(15, ge=1, le=60)
    reply_days: int = Field(15, ge=1, le=60)


class TagDecl(PackModel):
    id: StableId
    kind: Literal["good", "bad"]
    title: Text


class RatingsFile(SectionFile):
    rectification: RectificationLimits = RectificationLimits()
    appeal_reviewer_role: Annotated[str, RefersTo("role")]
    task_ratings: Annotated[list[str], RefersTo("onething")] = []
    tags: list[TagDecl] = []


def check_ratings(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    model: RatingsFile = pf.model
    seen: set[str] = set()
    for i, t in enumerate(model.tags):
        if t.id in seen:
            yield pf.problem(("tags", i, "id"), f"tag {t.id!r} is declared twice")
        seen.add(t.id)
    limits = model.rectification
    if limits.reply_days < limits.rectify_days:
        yield pf.problem(("rectification", "reply_days"), "the reply cannot be due before the rectification")


def apply_ratings(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    changes = Changes()
    for pf in files:
        model: RatingsFile = pf.model
        settings = {"rectification": model.rectification.model_dump(), "appeal_reviewer_role": model.appeal_reviewer_role,
                    "task_ratings": list(model.task_ratings),
                    "tags": [{"id": t.id, "kind": t.kind, "title": t.title.model_dump()} for t in model.tags]}
        for key, value in settings.items():
            changes.count(upsert(session, RatingSetting, key, dict(key=key, value=value, pack_id=pack.id)))
    session.flush()
    return changes


register_section("ratings", RatingsFile, apply=apply_ratings, check=check_ratings, order=66,
                 description="好差评: rectification limits in working days, the appeal reviewers' role, "
                             "one-things rated task by task, rating tags.")

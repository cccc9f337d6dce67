"""好差评 API (/api/v1/ratings…): rate, the department's rectifications and appeals, the reviewer's
decisions, the resident's follow-up rating, and the public statistics."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, clock
from tongban.core.audit.log import record
from tongban.core.i18n import pick
from tongban.core.ids import Id, Version
from tongban.core.text import FreeText
from tongban.ratings import service
from tongban.ratings.models import Appeal, Rating, Rectification
from tongban.webkit.deps import CurrentPrincipal, DbSession, needs
from tongban.webkit.schemas import refusals

router = APIRouter(tags=["ratings"])



class RatingIn(BaseModel):
    kind: Literal["application", "task", "case"]
    subject_id: Id
    level: int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    dimensions: dict[Literal["efficiency", "guide", "convenience", "platform"], int] = Field(
        default_factory=dict, description="办事效率, 办事指南精确度, 办事便捷度, 平台操作性: 1 … 5 each")
    tags: list[str] = Field(default_factory=list, max_length=20)
    comment: FreeText | None = Field(None, max_length=service.COMMENT_MAX)
    channel: Literal["online", "onsite"] = "online"


class RatingOut(BaseModel):
    id: int
    kind: str
    subject_id: int
    level: int
    dimensions: dict[str, int]
    tags: list[str]
    comment: str | None
    channel: str
    department_id: str
    region_code: str
    item_id: str
    item_title: str
    rated_at: dt.datetime
    excluded: bool
    rectification_id: int | None


def rating_out(session: Session, r: Rating) -> RatingOut:
    rect = session.scalar(select(Rectification.id).where(Rectification.rating_id == r.id))
    return RatingOut(id=r.id, kind=r.subject_kind, subject_id=r.subject_id, level=r.level, dimensions=dict(r.dimensions),
                     tags=list(r.tags), comment=r.comment, channel=r.channel, department_id=r.department_id,
                     region_code=r.region_code, item_id=r.item_id, item_title=pick(r.item_title), rated_at=r.rated_at,
                     excluded=r.excluded, rectification_id=rect)


class RectificationOut(BaseModel):
    id: int
    rating: RatingOut
    status: str
    opened_on: dt.date
    visit_due: dt.date
    rectify_due: dt.date
    reply_due: dt.date
    overdue: bool
    visit_note: str | None
    rectify_note: str | None
    reply: str | None
    replied_at: dt.datetime | None
    working_days: int | None
    follow_up_level: int | None
    version: int


def rectification_out(session: Session, r: Rectification) -> RectificationOut:
    rating = session.get(Rating, r.rating_id)
    assert rating is not None
    return RectificationOut(id=r.id, rating=rating_out(session, rating), status=r.status, opened_on=r.opened_on,
                            visit_due=r.visit_due, rectify_due=r.rectify_due, reply_due=r.reply_due,
                            overdue=service.is_overdue(r, clock.today()), visit_note=r.visit_note,
                            rectify_note=r.rectify_note, reply=r.reply, replied_at=r.replied_at,
                            working_days=r.working_days, follow_up_level=r.follow_up_level, version=r.version)


class StepIn(BaseModel):
    text: FreeText = Field(max_length=2000)
    version: Version | None = None


class FollowUpIn(BaseModel):
    level: int = Field(ge=1, le=5)


class AppealIn(BaseModel):
    grounds: Literal["malicious", "unrelated"]
    reason: FreeText = Field(max_length=2000)


class DecisionIn(BaseModel):
    uphold: bool
    note: FreeText | None = Field(None, max_length=2000)


class AppealOut(BaseModel):
    id: int
    rating: RatingOut
    department_id: str
    grounds: str
    reason: str
    status: str
    filed_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str | None


def appeal_out(session: Session, a: Appeal) -> AppealOut:
    rating = session.get(Rating, a.rating_id)
    assert rating is not None
    return AppealOut(id=a.id, rating=rating_out(session, rating), department_id=a.department_id, grounds=a.grounds,
                     reason=a.reason, status=a.status, filed_at=a.filed_at, decided_at=a.decided_at,
                     decision_note=a.decision_note)


class FiguresOut(BaseModel):
    key: str
    title: str | None
    rated: int
    good: int
    bad: int
    good_rate: float | None
    rectifications: int
    answered: int
    rectification_rate: float | None
    average_working_days: float | None


class StatisticsOut(BaseModel):
    day_from: dt.date
    day_to: dt.date
    by: str
    rows: list[FiguresOut]


def _read(session: Session, principal: access.Principal, what: str, department_id: str, region_code: str) -> None:
    """Staff reading what residents wrote (comments, the reply to them): one audit record."""
    record(session, actor=principal.actor, action="rating.read", subject=what, actor_department=principal.department_id,
           department_id=department_id, region_code=region_code)


@router.post("/ratings", response_model=RatingOut, status_code=201,
             responses=refusals({409: "The thing has been rated already",
                                 422: "A tag the region does not declare; a comment with a character no text may hold"}))
def rate(body: RatingIn, session: DbSession, principal: CurrentPrincipal) -> RatingOut:
    """评价: a completed application, a task of a one-thing rated task by task, or a closed case; online
    by the resident, or on-site (`channel: onsite`) on the counter officer's tablet. Once."""
    rating = service.rate(session, principal=principal, kind=body.kind, subject_id=body.subject_id, level=body.level,
                          dimensions={str(k): v for k, v in body.dimensions.items()}, tags=body.tags, comment=body.comment, channel=body.channel)
    return rating_out(session, rating)


@router.get("/ratings/mine", response_model=list[RatingOut])
def mine(session: DbSession, principal: CurrentPrincipal) -> list[RatingOut]:
    """The caller's own ratings, newest first."""
    access.require(principal, "self.read")
    rows = session.scalars(select(Rating).where(Rating.rater_account_id == principal.account_id)
                           .order_by(Rating.rated_at.desc(), Rating.id.desc()).limit(200))
    return [rating_out(session, r) for r in rows]


@router.get("/ratings/department", response_model=list[RatingOut], dependencies=[needs(service.HANDLE)])
def department(session: DbSession, principal: CurrentPrincipal, bad_only: bool = True) -> list[RatingOut]:
    """The caller's department's ratings (its 差评 unless `bad_only=false`), newest first."""
    rows = service.department_ratings(session, principal=principal, bad_only=bad_only)
    if rows:
        _read(session, principal, f"department:{principal.department_id}", principal.department_id or "",
              principal.region_code or "")
    return [rating_out(session, r) for r in rows]


@router.get("/ratings/rectifications", response_model=list[RectificationOut], dependencies=[needs(service.HANDLE)])
def rectifications(session: DbSession, principal: CurrentPrincipal, open_only: bool = False) -> list[RectificationOut]:
    """The department's rectifications, the open ones first (soonest due first)."""
    return [rectification_out(session, r) for r in
            service.rectifications(session, principal=principal, open_only=open_only)]


@router.get("/ratings/rectifications/{rectification_id}", response_model=RectificationOut,
            dependencies=[needs(service.HANDLE)])
def rectification(rectification_id: Id, session: DbSession, principal: CurrentPrincipal) -> RectificationOut:
    rect = service.rectification(session, principal=principal, rectification_id=rectification_id)
    _read(session, principal, f"rectification:{rect.id}", rect.department_id, rect.region_code)
    return rectification_out(session, rect)


@router.post("/ratings/rectifications/{rectification_id}/{step}", response_model=RectificationOut,
             dependencies=[needs(service.HANDLE)],
             responses=refusals({409: "Not at this step, or changed meanwhile (version)",
                                 422: "A text that is blank once trimmed"}))
def advance(rectification_id: Id, step: Literal["visit", "rectify", "reply"], body: StepIn, session: DbSession,
            principal: CurrentPrincipal) -> RectificationOut:
    """回访 (visit), 整改 (rectify), 答复 (reply), in that order."""
    rect = service.advance(session, principal=principal, rectification_id=rectification_id, step=step, text=body.text,
                           version=body.version)
    return rectification_out(session, rect)


@router.post("/ratings/follow-ups/{rectification_id}", response_model=RectificationOut,
             responses=refusals({409: "Not answered yet, or rated already"}))
def follow_up(rectification_id: Id, body: FollowUpIn, session: DbSession, principal: CurrentPrincipal) -> RectificationOut:
    """The resident's one follow-up rating of the department's answer."""
    rect = service.follow_up(session, principal=principal, rectification_id=rectification_id, level=body.level)
    return rectification_out(session, rect)


@router.post("/ratings/{rating_id}/appeal", response_model=AppealOut, status_code=201,
             dependencies=[needs(service.HANDLE)],
             responses=refusals({409: "The rating has been appealed already",
                                 422: "A reason that is blank once trimmed"}))
def appeal(rating_id: Id, body: AppealIn, session: DbSession, principal: CurrentPrincipal) -> AppealOut:
    """申诉: the department holds one of its ratings malicious or unrelated."""
    return appeal_out(session, service.file_appeal(session, principal=principal, rating_id=rating_id,
                                                   grounds=body.grounds, reason=body.reason))


@router.get("/ratings/appeals", response_model=list[AppealOut], dependencies=[needs(service.REVIEW)])
def appeals(session: DbSession, principal: CurrentPrincipal) -> list[AppealOut]:
    """The appeals waiting for the caller (a reviewer) — never their own department's."""
    rows = service.pending_appeals(session, principal=principal)
    for a in rows:
        _read(session, principal, f"appeal:{a.id}", a.department_id, principal.region_code or "")
    return [appeal_out(session, a) for a in rows]


@router.post("/ratings/appeals/{appeal_id}/decision", response_model=AppealOut, dependencies=[needs(service.REVIEW)],
             responses=refusals({409: "Decided already"}))
def decide(appeal_id: Id, body: DecisionIn, session: DbSession, principal: CurrentPrincipal) -> AppealOut:
    """复核: uphold (the rating leaves the statistics, stays in the record) or dismiss."""
    return appeal_out(session, service.decide_appeal(session, principal=principal, appeal_id=appeal_id,
                                                     uphold=body.uphold, note=body.note))


@router.get("/ratings/statistics", response_model=StatisticsOut,
            responses=refusals({422: "A period that ends before it starts"}))
def statistics(session: DbSession, day_from: dt.date | None = None, day_to: dt.date | None = None,
               by: Literal["department", "item"] = "department") -> StatisticsOut:
    """Public (公开, no sign-in): 好评率, 差评, rectification rate and average working days per
    department or per item over a period (default: the last 30 days)."""
    day_to = day_to or clock.today()
    day_from = day_from or day_to - dt.timedelta(days=29)
    rows = service.statistics(session, day_from=day_from, day_to=day_to, by=by)
    return StatisticsOut(day_from=day_from, day_to=day_to, by=by, rows=[FiguresOut(
        key=f.key, title=pick(f.title) if f.title else None, rated=f.rated, good=f.good, bad=f.bad, good_rate=f.good_rate,
        rectifications=f.rectifications, answered=f.answered, rectification_rate=f.rectification_rate,
        average_working_days=f.average_days) for f in rows])

"""好差评: rate a completed application, task or closed case (once); the rectification (整改) a 差评
opens — 回访, 整改, 答复 within working-day limits, then one follow-up rating; appeals (申诉复核)
decided outside the department; and the statistics, counted once here for the page, the API and
the cockpit.

What is rated reaches this slice only through the reads the services and the case engine publish
(`services.completed_application`, `cases.closed_case`). Every step is a plain function taking the
session and the caller, checking the caller's right through `core.access`, writing one audit
record, and never committing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import case as when
from sqlalchemy import func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban import messages
from tongban.core import access, clock, slices, workdays
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.text import free_text
from tongban.ratings.models import Appeal, Rating, RatingSetting, Rectification

MESSAGE_KINDS = ("rating.invite", "rating.replied", "rating.bad", "rating.rectification_overdue")  # sent (`messages.kinds`)

KINDS = ("application", "task", "case")
CHANNELS = ("online", "onsite", "visit")
LEVELS: dict[int, str] = {5: N_("Very satisfied"), 4: N_("Satisfied"), 3: N_("Basically satisfied"),
                          2: N_("Dissatisfied"), 1: N_("Very dissatisfied")}
BAD = 2  # a level at or below is a 差评
GOOD = 3  # a level at or above is a 好评 (非常满意, 满意, 基本满意)
# The national rules' online dimensions beside 整体满意度 (which is the level itself).
DIMENSIONS: dict[str, str] = {"efficiency": N_("Speed of handling"), "guide": N_("Accuracy of the service guide"),
                              "convenience": N_("Ease of applying"), "platform": N_("Ease of using the platform")}
CHANNEL_LABELS = {"online": N_("Online"), "onsite": N_("At the counter"), "visit": N_("Return call")}
RECTIFICATION_LABELS = {"open": N_("Return visit due"), "visited": N_("Rectification due"),
                        "rectified": N_("Reply due"), "replied": N_("Answered"),
                        "withdrawn": N_("Withdrawn: appeal upheld")}
DONE = ("replied", "withdrawn")  # a rectification no longer waiting for its department
APPEAL_GROUNDS = {"malicious": N_("Malicious rating"), "unrelated": N_("Not about this service")}
APPEAL_LABELS = {"pending": N_("Awaiting review"), "upheld": N_("Upheld"), "dismissed": N_("Dismissed")}
HANDLE = "task.decide"  # a department's officers answer its 差评 as they decide its tasks
COUNTER = "counter.file"
REVIEW = "rating.review"
COMMENT_MAX = 500
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2199, 12, 31)  # the statistics' periods lie within
DEFAULTS: dict[str, Any] = {"rectification": {"visit_days": 1, "rectify_days": 15, "reply_days": 15},
                            "appeal_reviewer_role": "rating_reviewer", "task_ratings": [], "tags": []}


def setting(session: Session, key: str) -> Any:
    row = session.get(RatingSetting, key)
    return row.value if row is not None else DEFAULTS[key]


def tags(session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    return [t for t in setting(session, "tags") if kind is None or t["kind"] == kind]


# --- what is rated ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """A thing that may be rated, as the owning slice published it."""

    kind: str
    id: int
    title: dict[str, str]
    department_id: str
    region_code: str
    item_id: str
    raters: frozenset[int]  # accounts that may rate it online
    departments: frozenset[str]  # departments whose counter may take an on-site rating
    application_id: int | None = None
    tasks: tuple[Any, ...] = field(default=())


def subject(session: Session, kind: str, subject_id: int) -> Subject | None:
    """The application, task or case, if it is finished and so may be rated; None otherwise."""
    if kind == "case":
        case = slices.read("cases.closed_case")(session, subject_id)
        if case is None or case.department_id is None:
            return None
        return Subject(kind="case", id=case.id, title=case.title, department_id=case.department_id,
                       region_code=case.region_code, item_id=case.category_id,
                       raters=frozenset({case.reporter_account_id} - {None}), departments=frozenset({case.department_id}))
    if kind == "application":
        app = slices.read("services.completed_application")(session, subject_id)
        if app is None:
            return None
        return Subject(kind="application", id=app.id, title=app.title, department_id=app.department_id,
                       region_code=app.region_code, item_id=app.subject_item,
                       raters=frozenset({app.applicant_account_id, app.filed_by_account_id} - {None}),
                       departments=frozenset(t.department_id for t in app.tasks), application_id=app.id, tasks=app.tasks)
    if kind == "task":
        application_id = slices.read("services.application_of_task")(session, subject_id)
        app = slices.read("services.completed_application")(session, application_id) if application_id else None
        task = next((t for t in app.tasks if t.id == subject_id), None) if app is not None else None
        if app is None or task is None or app.onething_id not in setting(session, "task_ratings"):
            return None
        return Subject(kind="task", id=task.id, title=task.title, department_id=task.department_id,
                       region_code=app.region_code, item_id=task.item_id,
                       raters=frozenset({app.applicant_account_id, app.filed_by_account_id} - {None}),
                       departments=frozenset({task.department_id}), application_id=app.id)
    return None


def rating_of(session: Session, kind: str, subject_id: int) -> Rating | None:
    return session.scalar(select(Rating).where(Rating.subject_kind == kind, Rating.subject_id == subject_id))


def _may_rate(principal: access.Principal, found: Subject, channel: str) -> None:
    if channel == "online":
        access.require_login(principal)
        if principal.kind != "resident" or principal.account_id not in found.raters:
            raise access.NotYours(N_("Nothing to rate here"), principal=principal, action="rating.create")
    elif channel == "onsite":
        access.require(principal, COUNTER)
        if principal.department_id not in found.departments or not access.in_subtree(found.region_code,
                                                                                      principal.region_code or "-"):
            raise access.Denied(N_("This was not handled by your department"), principal=principal,
                                action="rating.onsite")
    else:
        raise Invalid(N_("Choose how the rating was given"), field="channel")


def ratable(session: Session, *, principal: access.Principal, kind: str, subject_id: int,
            channel: str = "online") -> Subject:
    """The thing the caller may rate now, or the refusal: not theirs (404), not finished (404),
    rated already (409)."""
    if kind not in KINDS:
        raise NotFound(N_("Nothing to rate here"))
    found = subject(session, kind, subject_id)
    if found is None:
        raise access.NotYours(N_("Nothing to rate here"), principal=principal, action="rating.create")
    _may_rate(principal, found, channel)
    if rating_of(session, kind, subject_id) is not None:
        raise Conflict(N_("This has been rated already"), field="subject")
    return found


def _level(value: Any, name: str = "level") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise Invalid(N_("Choose from 1 (very dissatisfied) to 5 (very satisfied)"), field=name)
    return value


def _clean(session: Session, level: Any, dimensions: Mapping[str, Any] | None, chosen: Iterable[str],
           comment: str | None) -> tuple[int, dict[str, int], list[str], str | None]:
    level = _level(level)
    dims: dict[str, int] = {}
    for key, value in (dimensions or {}).items():
        if key not in DIMENSIONS:
            raise Invalid(N_("No such dimension"), field=f"dimensions.{key}")
        if value is not None:
            dims[key] = _level(value, f"dimensions.{key}")
    known = {t["id"] for t in tags(session)}
    picked: list[str] = []
    for i, tag in enumerate(chosen):
        if tag not in known:
            raise Invalid(N_("No such tag"), field=f"tags.{i}")
        if tag not in picked:
            picked.append(tag)
    text = comment.strip() if comment else None
    if text:
        text = free_text(text, field="comment", max_length=COMMENT_MAX)
    return level, dims, picked, text or None


def rate(session: Session, *, principal: access.Principal, kind: str, subject_id: int, level: Any,
         dimensions: Mapping[str, Any] | None = None, tags: Sequence[str] = (), comment: str | None = None,
         channel: str = "online") -> Rating:
    """评价: the resident rates online (their own application or case), or at the counter on the
    officer's tablet (on-site). A 差评 opens a rectification for the department."""
    found = ratable(session, principal=principal, kind=kind, subject_id=subject_id, channel=channel)
    cleaned = _clean(session, level, dimensions, tags, comment)
    return _record(session, found, *cleaned, channel=channel, principal=principal,
                   rater=principal.account_id if channel == "online" else None)


def _record(session: Session, found: Subject, level: int, dims: dict[str, int], picked: list[str],
            comment: str | None, *, channel: str, principal: access.Principal, rater: int | None) -> Rating:
    now = clock.now()
    rating = Rating(subject_kind=found.kind, subject_id=found.id, application_id=found.application_id, level=level,
                    dimensions=dims, tags=picked, comment=comment, channel=channel, rater_account_id=rater,
                    recorded_by=principal.actor, department_id=found.department_id, region_code=found.region_code,
                    item_id=found.item_id, item_title=dict(found.title), rated_at=now, excluded=False)
    try:
        with session.begin_nested():  # two tabs at once: the unique constraint decides, the loser gets 409
            session.add(rating)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This has been rated already"), field="subject") from None
    record(session, actor=principal.actor, action="rating.create", subject=f"rating:{rating.id}",
           department_id=found.department_id, region_code=found.region_code,
           details={"of": f"{found.kind}:{found.id}", "level": level, "channel": channel})
    if found.kind == "case":
        slices.write("cases.note_rating")(session, case_id=found.id, level=level, channel=channel, actor=principal.actor)
    if level <= BAD:
        _open_rectification(session, rating)
    return rating


def on_case_rated(session: Session, *, case_id: int, level: int, channel: str, principal: access.Principal) -> None:
    """The case engine's own ways of rating (the reporter's API call, the operator's 回访): the
    engine has checked the caller; here the rating is recorded once."""
    found = subject(session, "case", case_id)
    if found is None:
        raise Conflict(N_("A case is rated once it is closed"), field="status")
    if rating_of(session, "case", case_id) is not None:
        raise Conflict(N_("This has been rated already"), field="subject")
    rater = principal.account_id if channel == "online" else None
    _record(session, found, _level(level), {}, [], None, channel=channel, principal=principal, rater=rater)


def on_completed(session: Session, application: Any) -> None:
    """An application completed: its applicant is invited to rate it (请评价), with a link to the page."""
    found = subject(session, "application", application.id)
    if found is None or application.applicant_account_id is None:
        return
    messages.send(session, to=application.applicant_account_id, kind="rating.invite", application_id=application.id,
                  link=f"/ratings/rate/application/{application.id}", params={"item": found.title})


# --- rectification (整改) ---------------------------------------------------------------------------


def limits(session: Session) -> dict[str, int]:
    return {**DEFAULTS["rectification"], **setting(session, "rectification")}


def _open_rectification(session: Session, rating: Rating) -> Rectification:
    days = limits(session)
    calendar = workdays.calendar(session)
    opened = clock.local_date(rating.rated_at)
    rect = Rectification(rating_id=rating.id, department_id=rating.department_id, region_code=rating.region_code,
                         status="open", opened_on=opened, visit_due=calendar.add_working_days(opened, days["visit_days"]),
                         rectify_due=calendar.add_working_days(opened, days["rectify_days"]),
                         reply_due=calendar.add_working_days(opened, days["reply_days"]), created_at=clock.now())
    session.add(rect)
    session.flush()
    record(session, actor="system:ratings", action="rectification.open", subject=f"rectification:{rect.id}",
           department_id=rect.department_id, region_code=rect.region_code,
           details={"rating": rating.id, "reply_due": rect.reply_due.isoformat()})
    messages.send(session, to=messages.Queue(rect.department_id), kind="rating.bad",
                  link=f"/workbench/ratings/rectifications/{rect.id}",
                  params={"item": rating.item_title, "due_date": rect.visit_due.isoformat()})
    return rect


def due_of(rect: Rectification) -> dt.date | None:
    """The due date of the step the rectification waits for (None once answered)."""
    return {"open": rect.visit_due, "visited": rect.rectify_due, "rectified": rect.reply_due}.get(rect.status)


def _in_scope(principal: access.Principal, department_id: str, region_code: str) -> bool:
    return (principal.department_id == department_id
            and access.in_subtree(region_code, principal.region_code or "-"))


def rectification(session: Session, *, principal: access.Principal, rectification_id: int) -> Rectification:
    """A rectification of the caller's department (and region); any other is 404."""
    access.require(principal, HANDLE)
    rect = session.get(Rectification, rectification_id)
    if rect is None or not _in_scope(principal, rect.department_id, rect.region_code):
        raise access.NotYours(N_("No such rectification"), principal=principal, action="rectification.read")
    return rect


def rectifications(session: Session, *, principal: access.Principal, open_only: bool = False) -> list[Rectification]:
    access.require(principal, HANDLE)
    q = select(Rectification).where(Rectification.department_id == principal.department_id)
    if open_only:
        q = q.where(Rectification.status.not_in(DONE))
    rows = session.scalars(q.order_by(Rectification.status.in_(DONE), Rectification.reply_due, Rectification.id))
    return [r for r in rows if access.in_subtree(r.region_code, principal.region_code or "-")]


def _note(value: str | None, name: str, *, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise Invalid(N_("Write what was done"), field=name)
        return None
    text = free_text(text, field=name, max_length=2000)
    if len(text) < 2:
        raise Invalid(N_("Write what was done"), field=name)
    return text


Step = Literal["visit", "rectify", "reply"]
_STEPS: dict[str, tuple[str, str]] = {"visit": ("open", "visited"), "rectify": ("visited", "rectified"),
                                      "reply": ("rectified", "replied")}


def advance(session: Session, *, principal: access.Principal, rectification_id: int, step: str, text: str | None,
            version: int | None = None) -> Rectification:
    """One step of the rectification, in order: 回访 (visit), 整改 (rectify), 答复 (reply). The reply
    goes to the resident, who may add one follow-up rating."""
    if step not in _STEPS:
        raise Invalid(N_("No such step"), field="step")
    rect = rectification(session, principal=principal, rectification_id=rectification_id)
    before, after = _STEPS[step]
    if rect.status != before:
        raise Conflict(N_("This rectification is not at this step"), field="status")
    if version is not None and version != rect.version:
        raise Conflict(N_("Someone changed this in the meantime; reload the page"), field="version")
    note = _note(text, "text")
    now = clock.now()
    if step == "visit":
        rect.visited_at, rect.visit_note = now, note
    elif step == "rectify":
        rect.rectified_at, rect.rectify_note = now, note
    else:
        rect.replied_at, rect.reply = now, note
        rect.working_days = workdays.calendar(session).working_days_between(rect.opened_on, clock.local_date(now))
    rect.status, rect.handled_by = after, principal.actor
    rect.version += 1
    record(session, actor=principal.actor, action=f"rectification.{step}", subject=f"rectification:{rect.id}",
           actor_department=principal.department_id, department_id=rect.department_id, region_code=rect.region_code)
    if step == "reply":
        rating = session.get(Rating, rect.rating_id)
        if rating is not None and rating.rater_account_id is not None:
            messages.send(session, to=rating.rater_account_id, kind="rating.replied",
                          link=f"/ratings/follow-up/{rect.id}", params={"item": rating.item_title})
    return rect


def follow_up(session: Session, *, principal: access.Principal, rectification_id: int, level: Any) -> Rectification:
    """The resident's one follow-up rating, after the department's reply."""
    access.require_login(principal)
    rect = session.get(Rectification, rectification_id)
    rating = session.get(Rating, rect.rating_id) if rect is not None else None
    if rect is None or rating is None or rating.rater_account_id is None or rating.rater_account_id != principal.account_id:
        raise access.NotYours(N_("No such rectification"), principal=principal, action="rectification.follow_up")
    if rect.status != "replied":
        raise Conflict(N_("The department has not answered yet"), field="status")
    if rect.follow_up_level is not None:
        raise Conflict(N_("You have rated the answer already"), field="level")
    rect.follow_up_level, rect.follow_up_at = _level(level), clock.now()
    rect.version += 1
    record(session, actor=principal.actor, action="rectification.follow_up", subject=f"rectification:{rect.id}",
           department_id=rect.department_id, region_code=rect.region_code, details={"level": rect.follow_up_level})
    return rect


def flag_overdue(session: Session, *, today: dt.date | None = None) -> int:
    """Flag each rectification whose current step is past its due date, once, and tell the department."""
    today = today or clock.today()
    flagged = 0
    for rect in session.scalars(select(Rectification).where(Rectification.status.not_in(DONE),
                                                            Rectification.overdue_at.is_(None))
                                .order_by(Rectification.id)):
        due = due_of(rect)
        if due is None or due >= today:
            continue
        rect.overdue_at = clock.now()
        record(session, actor="system:ratings", action="rectification.overdue", subject=f"rectification:{rect.id}",
               department_id=rect.department_id, region_code=rect.region_code, details={"due": due.isoformat()})
        rating = session.get(Rating, rect.rating_id)
        messages.send(session, to=messages.Queue(rect.department_id), kind="rating.rectification_overdue",
                      link=f"/workbench/ratings/rectifications/{rect.id}",
                      params={"item": rating.item_title if rating else "", "due_date": due.isoformat()})
        flagged += 1
    return flagged


def is_overdue(rect: Rectification, today: dt.date) -> bool:
    due = due_of(rect)
    return due is not None and due < today


# --- appeals (申诉复核) -----------------------------------------------------------------------------


def department_ratings(session: Session, *, principal: access.Principal, bad_only: bool = True,
                       limit: int = 100) -> list[Rating]:
    """The department's ratings (its 差评 by default), newest first."""
    access.require(principal, HANDLE)
    q = select(Rating).where(Rating.department_id == principal.department_id)
    if bad_only:
        q = q.where(Rating.level <= BAD)
    rows = session.scalars(q.order_by(Rating.rated_at.desc(), Rating.id.desc()).limit(limit))
    return [r for r in rows if access.in_subtree(r.region_code, principal.region_code or "-")]


def file_appeal(session: Session, *, principal: access.Principal, rating_id: int, grounds: str,
                reason: str | None) -> Appeal:
    """The department appeals one of its ratings as malicious or unrelated, once."""
    access.require(principal, HANDLE)
    rating = session.get(Rating, rating_id)
    if rating is None or not _in_scope(principal, rating.department_id, rating.region_code):
        raise access.NotYours(N_("No such rating"), principal=principal, action="rating.appeal")
    if grounds not in APPEAL_GROUNDS:
        raise Invalid(N_("Choose the grounds of the appeal"), field="grounds")
    text = _note(reason, "reason")
    assert text is not None
    if session.scalar(select(Appeal.id).where(Appeal.rating_id == rating.id)) is not None:
        raise Conflict(N_("This rating has been appealed already"), field="rating_id")
    appeal = Appeal(rating_id=rating.id, department_id=rating.department_id, grounds=grounds, reason=text,
                    status="pending", filed_by=principal.actor, filed_at=clock.now())
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("This rating has been appealed already"), field="rating_id") from None
    record(session, actor=principal.actor, action="rating.appeal", subject=f"appeal:{appeal.id}",
           actor_department=principal.department_id, department_id=rating.department_id,
           region_code=rating.region_code, details={"rating": rating.id, "grounds": grounds})
    return appeal


def _reviewer(session: Session, principal: access.Principal) -> None:
    access.require(principal, REVIEW)
    if setting(session, "appeal_reviewer_role") not in principal.roles:
        raise access.Denied(N_("Appeals are decided by the reviewers the region names"), principal=principal,
                            action="rating.review")


def pending_appeals(session: Session, *, principal: access.Principal) -> list[Appeal]:
    _reviewer(session, principal)
    rows = session.scalars(select(Appeal).where(Appeal.status == "pending").order_by(Appeal.filed_at, Appeal.id))
    out = []
    for a in rows:
        rating = session.get(Rating, a.rating_id)
        if rating is not None and a.department_id != principal.department_id and access.in_subtree(
                rating.region_code, principal.region_code or "-"):
            out.append(a)
    return out


def decide_appeal(session: Session, *, principal: access.Principal, appeal_id: int, uphold: bool,
                  note: str | None) -> Appeal:
    """复核: a reviewer outside the department upholds (the rating leaves the statistics, stays in the
    record) or dismisses the appeal."""
    _reviewer(session, principal)
    appeal = session.get(Appeal, appeal_id)
    rating = session.get(Rating, appeal.rating_id) if appeal is not None else None
    if appeal is None or rating is None or not access.in_subtree(rating.region_code, principal.region_code or "-"):
        raise access.NotYours(N_("No such appeal"), principal=principal, action="rating.review")
    if appeal.department_id == principal.department_id:
        raise access.Denied(N_("An appeal is decided outside the department that filed it"), principal=principal,
                            action="rating.review")
    if appeal.status != "pending":
        raise Conflict(N_("This appeal has been decided already"), field="status")
    text = _note(note, "note", required=False)
    now = clock.now()
    appeal.status = "upheld" if uphold else "dismissed"
    appeal.decided_by, appeal.decided_at, appeal.decision_note = principal.actor, now, text
    if uphold:
        rating.excluded, rating.excluded_at = True, now
        rect = session.scalar(select(Rectification).where(Rectification.rating_id == rating.id))
        if rect is not None and rect.status not in DONE:  # a malicious or unrelated 差评 needs no rectification
            rect.status = "withdrawn"
            rect.version += 1
    record(session, actor=principal.actor, action=f"rating.appeal_{appeal.status}", subject=f"appeal:{appeal.id}",
           actor_department=principal.department_id, department_id=appeal.department_id,
           region_code=rating.region_code, details={"rating": rating.id})
    return appeal


# --- statistics -----------------------------------------------------------------------------------


def utc_range(day_from: dt.date, day_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants of the Asia/Shanghai days from `day_from` to `day_to` (inclusive): [start, end)."""
    start = dt.datetime.combine(day_from, dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), clock.SHANGHAI).astimezone(dt.UTC)
    return start, end


@dataclass
class Figures:
    """One row of the statistics: a department or an item over a period."""

    key: str
    title: dict[str, str] | None = None
    rated: int = 0
    good: int = 0
    bad: int = 0
    rectifications: int = 0
    answered: int = 0
    working_days: int = 0

    @property
    def good_rate(self) -> float | None:
        return self.good / self.rated if self.rated else None

    @property
    def rectification_rate(self) -> float | None:
        return self.answered / self.rectifications if self.rectifications else None

    @property
    def average_days(self) -> float | None:
        return self.working_days / self.answered if self.answered else None


def statistics(session: Session, *, day_from: dt.date, day_to: dt.date, by: str = "department") -> list[Figures]:
    """好评率, 差评 count, rectification rate and average working days, per department or per item,
    over the ratings given in the period (an upheld appeal's rating is not counted)."""
    if by not in ("department", "item"):
        raise Invalid(N_("Group by department or by item"), field="by")
    if day_to < day_from:
        raise Invalid(N_("The period ends before it starts"), field="day_to")
    for name, day in (("day_from", day_from), ("day_to", day_to)):
        if not EARLIEST <= day <= LATEST:
            raise Invalid(N_("Choose a date between %(first)s and %(last)s"), field=name, first=EARLIEST.isoformat(),
                          last=LATEST.isoformat())
    start, end = utc_range(day_from, day_to)
    column = Rating.department_id if by == "department" else Rating.item_id
    counted = (Rating.rated_at >= start, Rating.rated_at < end, Rating.excluded.is_(False))
    rows: dict[str, Figures] = {}
    one, zero = literal(1), literal(0)
    for key, rated, good, bad in session.execute(
            select(column, func.count(), func.sum(when((Rating.level >= GOOD, one), else_=zero)),
                   func.sum(when((Rating.level <= BAD, one), else_=zero)))
            .where(*counted).group_by(column)):
        rows[key] = Figures(key, rated=int(rated), good=int(good or 0), bad=int(bad or 0))
    replied = Rectification.status == "replied"
    for key, opened, answered, days in session.execute(
            select(column, func.count(), func.sum(when((replied, one), else_=zero)),
                   func.sum(when((replied, Rectification.working_days), else_=zero)))
            .join(Rectification, Rectification.rating_id == Rating.id).where(*counted).group_by(column)):
        f = rows.setdefault(key, Figures(key))
        f.rectifications, f.answered, f.working_days = int(opened), int(answered or 0), int(days or 0)
    if by == "item" and rows:
        first = select(func.min(Rating.id)).where(Rating.item_id.in_(list(rows))).group_by(Rating.item_id)
        for key, title in session.execute(select(Rating.item_id, Rating.item_title).where(Rating.id.in_(first))):
            rows[key].title = title
    return sorted(rows.values(), key=lambda f: (-f.rated, f.key))

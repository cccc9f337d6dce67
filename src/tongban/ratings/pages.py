"""好差评 pages: 我要评 and the rating page on the portal (reached from the 请评价 message), the
follow-up rating; the counter officer's rating tablet (on-site, 一次一评); the department's 差评,
rectifications (回访 → 整改 → 答复) and appeals; the reviewer's appeals; and the public statistics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tongban.core import access, clock, slices
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, TongbanError
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Department
from tongban.core.ids import Id
from tongban.ratings import service
from tongban.ratings.models import Appeal, Rating, Rectification
from tongban.webkit.deps import DbSession, SignedIn
from tongban.webkit.forms import PostedForm, form_text
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)








def _int(form: FormData, name: str) -> int | None:
    value = form_text(form, name)
    return int(value) if value is not None and value.isdigit() and len(value) < 3 else None


def _options(session: Session) -> dict[str, Any]:
    return {"levels": sorted(service.LEVELS.items(), reverse=True), "dimensions": list(service.DIMENSIONS.items()),
            "good_tags": service.tags(session, "good"), "bad_tags": service.tags(session, "bad")}


def _departments(session: Session, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {d.id: pick({"zh": d.name_zh, "en": d.name_en})
            for d in session.scalars(select(Department).where(Department.id.in_(ids)))}


def _rating_form(session: Session, form: FormData) -> dict[str, Any]:
    return {"level": _int(form, "level"),
            "dimensions": {k: _int(form, f"dim_{k}") for k in service.DIMENSIONS if _int(form, f"dim_{k}") is not None},
            "tags": [t for t in form.getlist("tags") if isinstance(t, str)], "comment": form_text(form, "comment")}


def _rate_or_errors(session: Session, principal: access.Principal, kind: str, subject_id: int, form: FormData,
                    channel: str) -> tuple[Rating | None, dict[str, str], dict[str, Any]]:
    values = _rating_form(session, form)
    try:
        rating = service.rate(session, principal=principal, kind=kind, subject_id=subject_id, level=values["level"],
                              dimensions=values["dimensions"], tags=values["tags"], comment=values["comment"],
                              channel=channel)
    except (Invalid, Conflict) as exc:
        session.rollback()
        field = (exc.field or "_form").split(".")[0]
        return None, {field if field in ("level", "comment", "tags", "dimensions") else "_form": exc.translated()}, values
    return rating, {}, values


# --- the resident --------------------------------------------------------------------------------


@router.get("/portal/ratings")
def my_ratings(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """我要评: the resident's completed applications and closed cases, rated or waiting for a rating."""
    access.require(principal, "self.read")
    assert principal.account_id is not None
    things: list[dict[str, Any]] = []
    for app in slices.read("services.completed_applications_of")(session, principal.account_id):
        things.append({"kind": "application", "id": app.id, "title": pick(app.title), "at": app.finished_at})
    for case in slices.read("cases.closed_cases_of")(session, principal.account_id):
        things.append({"kind": "case", "id": case.id, "title": pick(case.title), "at": case.closed_at})
    rated = {(r.subject_kind, r.subject_id): r for r in session.scalars(
        select(Rating).where(Rating.subject_kind.in_(("application", "case")),
                             Rating.subject_id.in_([t["id"] for t in things] or [0])))}
    rects = {r.rating_id: r for r in session.scalars(select(Rectification).where(
        Rectification.rating_id.in_([r.id for r in rated.values()] or [0])))}
    for t in things:
        r = rated.get((t["kind"], t["id"]))
        t["rating"] = r
        t["rectification"] = rects.get(r.id) if r is not None else None
    things.sort(key=lambda t: t["at"], reverse=True)
    return render(request, "ratings/mine.html", {"things": things, "levels": service.LEVELS})


def _subject_or_rated(session: Session, principal: access.Principal, kind: str, subject_id: int,
                      channel: str = "online") -> tuple[service.Subject | None, Rating | None]:
    """The thing to rate, or (None, its rating) when it has been rated already (shown, not refused)."""
    try:
        return service.ratable(session, principal=principal, kind=kind, subject_id=subject_id, channel=channel), None
    except Conflict:
        found = service.subject(session, kind, subject_id)
        if found is None:
            raise
        if channel == "online" and principal.account_id not in found.raters:
            raise access.NotYours(N_("Nothing to rate here"), principal=principal, action="rating.create") from None
        return found, service.rating_of(session, kind, subject_id)


@router.get("/ratings/rate/{kind}/{subject_id}")
def rate_page(request: Request, session: DbSession, principal: SignedIn, kind: str, subject_id: Id) -> Response:
    """The rating page a 请评价 message links to: five levels, the dimensions, tags, a comment."""
    found, rated = _subject_or_rated(session, principal, kind, subject_id)
    assert found is not None
    return render(request, "ratings/rate.html", {"subject": found, "title": pick(found.title), "rated": rated,
                                                 "values": {}, "errors": {}, "parts": _parts(session, found),
                                                 **_options(session)})


def _parts(session: Session, found: service.Subject) -> list[dict[str, Any]]:
    """A one-thing the pack rates task by task: each department's part, rated or to rate."""
    if found.kind != "application" or found.application_id is None:
        return []
    parts = []
    for t in found.tasks:
        if service.subject(session, "task", t.id) is None:
            return []  # not a one-thing rated task by task
        parts.append({"id": t.id, "title": pick(t.title), "rating": service.rating_of(session, "task", t.id)})
    return parts


@router.post("/ratings/rate/{kind}/{subject_id}")
def rate_post(request: Request, session: DbSession, principal: SignedIn, kind: str, subject_id: Id,
              form: PostedForm) -> Response:
    rating, errors, values = _rate_or_errors(session, principal, kind, subject_id, form, "online")
    if rating is None:
        found, rated = _subject_or_rated(session, principal, kind, subject_id)
        assert found is not None
        return render(request, "ratings/rate.html", {"subject": found, "title": pick(found.title), "rated": rated,
                                                     "values": values, "errors": errors, "parts": _parts(session, found),
                                                     **_options(session)},
                      status_code=409 if "_form" in errors and rated is not None else 422)
    return RedirectResponse(f"/ratings/rate/{kind}/{subject_id}", status_code=303)


def _own_rectification(session: Session, principal: access.Principal, rectification_id: int) -> tuple[Rectification, Rating]:
    access.require_login(principal)
    rect = session.get(Rectification, rectification_id)
    rating = session.get(Rating, rect.rating_id) if rect is not None else None
    if rect is None or rating is None or rating.rater_account_id != principal.account_id:
        raise access.NotYours(N_("No such rectification"), principal=principal, action="rectification.read")
    return rect, rating


@router.get("/ratings/follow-up/{rectification_id}")
def follow_up_page(request: Request, session: DbSession, principal: SignedIn, rectification_id: Id) -> Response:
    """The department's answer to the resident's 差评, and their one follow-up rating."""
    rect, rating = _own_rectification(session, principal, rectification_id)
    return render(request, "ratings/follow_up.html", {"rect": rect, "rating": rating, "title": pick(rating.item_title),
                                                      "levels": sorted(service.LEVELS.items(), reverse=True), "error": None})


@router.post("/ratings/follow-up/{rectification_id}")
def follow_up_post(request: Request, session: DbSession, principal: SignedIn, rectification_id: Id,
                   form: PostedForm) -> Response:
    try:
        service.follow_up(session, principal=principal, rectification_id=rectification_id, level=_int(form, "level"))
    except (Invalid, Conflict) as exc:
        session.rollback()
        rect, rating = _own_rectification(session, principal, rectification_id)
        return render(request, "ratings/follow_up.html", {
            "rect": rect, "rating": rating, "title": pick(rating.item_title),
            "levels": sorted(service.LEVELS.items(), reverse=True), "error": exc.translated()}, status_code=exc.status)
    return RedirectResponse(f"/ratings/follow-up/{rectification_id}", status_code=303)


# --- the counter's tablet (on-site) ----------------------------------------------------------------


@router.get("/workbench/ratings/counter")
def counter(request: Request, session: DbSession, principal: SignedIn, application: str | None = None,
            done: int | None = None) -> Response:
    """The officer types the application's number; the tablet then shows the rating page to the resident."""
    access.require(principal, service.COUNTER)
    error = None
    if application is not None:
        number = application.strip()
        if number.isdigit() and len(number) < 19:
            try:
                service.ratable(session, principal=principal, kind="application", subject_id=int(number), channel="onsite")
                return RedirectResponse(f"/workbench/ratings/counter/{int(number)}", status_code=303)
            except (TongbanError, access.Denied) as exc:
                session.rollback()
                error = exc.translated()
        else:
            error = gettext("Enter the application number")
    return render(request, "ratings/counter.html", {"error": error, "application": application or "", "done": done},
                  status_code=422 if error else 200)


@router.get("/workbench/ratings/counter/{application_id}")
def counter_tablet(request: Request, session: DbSession, principal: SignedIn, application_id: Id) -> Response:
    found = service.ratable(session, principal=principal, kind="application", subject_id=application_id,
                            channel="onsite")
    return render(request, "ratings/tablet.html", {"subject": found, "title": pick(found.title), "values": {},
                                                   "errors": {}, **_options(session)})


@router.post("/workbench/ratings/counter/{application_id}")
def counter_rate(request: Request, session: DbSession, principal: SignedIn, application_id: Id,
                 form: PostedForm) -> Response:
    rating, errors, values = _rate_or_errors(session, principal, "application", application_id, form, "onsite")
    if rating is None:
        found = service.ratable(session, principal=principal, kind="application", subject_id=application_id,
                                channel="onsite")
        return render(request, "ratings/tablet.html", {"subject": found, "title": pick(found.title), "values": values,
                                                       "errors": errors, **_options(session)}, status_code=422)
    return RedirectResponse("/workbench/ratings/counter?done=1", status_code=303)


# --- the department and the reviewer --------------------------------------------------------------


def _rect_rows(session: Session, rects: list[Rectification]) -> list[dict[str, Any]]:
    today = clock.today()
    ratings = {r.id: r for r in session.scalars(select(Rating).where(Rating.id.in_([x.rating_id for x in rects] or [0])))}
    return [{"rect": x, "rating": ratings.get(x.rating_id), "title": pick(ratings[x.rating_id].item_title),
             "status": gettext(service.RECTIFICATION_LABELS[x.status]), "due": service.due_of(x),
             "overdue": service.is_overdue(x, today)} for x in rects if x.rating_id in ratings]


@router.get("/workbench/ratings")
def workbench(request: Request, session: DbSession, principal: SignedIn) -> Response:
    """The department's rectifications and 差评 (with the appeal), and the reviewer's pending appeals."""
    access.require_any(principal, service.HANDLE, service.REVIEW)
    context: dict[str, Any] = {"rects": [], "bad": [], "appeals": [], "grounds": list(service.APPEAL_GROUNDS.items())}
    if principal.has(service.HANDLE):
        context["rects"] = _rect_rows(session, service.rectifications(session, principal=principal))
        bad = service.department_ratings(session, principal=principal)
        appealed = {a.rating_id: a for a in session.scalars(select(Appeal).where(
            Appeal.rating_id.in_([r.id for r in bad] or [0])))}
        context["bad"] = [{"rating": r, "title": pick(r.item_title), "appeal": appealed.get(r.id),
                           "appeal_status": gettext(service.APPEAL_LABELS[appealed[r.id].status]) if r.id in appealed else None}
                          for r in bad]
        if bad:
            record(session, actor=principal.actor, action="rating.read", subject=f"department:{principal.department_id}",
                   actor_department=principal.department_id, department_id=principal.department_id,
                   region_code=principal.region_code)
    if principal.has(service.REVIEW):
        try:
            pending = service.pending_appeals(session, principal=principal)
        except access.Denied:
            pending = []
        ratings = {r.id: r for r in session.scalars(select(Rating).where(Rating.id.in_([a.rating_id for a in pending] or [0])))}
        names = _departments(session, [a.department_id for a in pending])
        context["appeals"] = [{"appeal": a, "rating": ratings[a.rating_id], "title": pick(ratings[a.rating_id].item_title),
                               "department": names.get(a.department_id, a.department_id),
                               "grounds": gettext(service.APPEAL_GROUNDS[a.grounds])} for a in pending]
        for a in pending:
            record(session, actor=principal.actor, action="rating.read", subject=f"appeal:{a.id}",
                   actor_department=principal.department_id, department_id=a.department_id,
                   region_code=ratings[a.rating_id].region_code)
    return render(request, "ratings/workbench.html", context)


def _rect_page(request: Request, session: Session, principal: access.Principal, rect: Rectification,
               error: str | None = None, status_code: int = 200) -> Response:
    row = _rect_rows(session, [rect])[0]
    record(session, actor=principal.actor, action="rating.read", subject=f"rectification:{rect.id}",
           actor_department=principal.department_id, department_id=rect.department_id, region_code=rect.region_code)
    tags = {t["id"]: pick(t["title"]) for t in service.tags(session)}
    return render(request, "ratings/rectification.html", {
        **row, "error": error, "levels": service.LEVELS, "tags": [tags.get(t, t) for t in row["rating"].tags],
        "channel": gettext(service.CHANNEL_LABELS.get(row["rating"].channel, row["rating"].channel)),
        "dimensions": [(gettext(service.DIMENSIONS[k]), v) for k, v in row["rating"].dimensions.items()
                       if k in service.DIMENSIONS]}, status_code=status_code)


@router.get("/workbench/ratings/rectifications/{rectification_id}")
def rectification_page(request: Request, session: DbSession, principal: SignedIn, rectification_id: Id) -> Response:
    rect = service.rectification(session, principal=principal, rectification_id=rectification_id)
    return _rect_page(request, session, principal, rect)


@router.post("/workbench/ratings/rectifications/{rectification_id}/{step}")
def rectification_step(request: Request, session: DbSession, principal: SignedIn, rectification_id: Id, step: str,
                       form: PostedForm) -> Response:
    version = form_text(form, "version")
    try:
        service.advance(session, principal=principal, rectification_id=rectification_id, step=step,
                        text=form_text(form, "text"), version=int(version) if version and version.isdigit() else None)
    except (Invalid, Conflict) as exc:
        session.rollback()
        rect = service.rectification(session, principal=principal, rectification_id=rectification_id)
        return _rect_page(request, session, principal, rect, exc.translated(), exc.status)
    return RedirectResponse(f"/workbench/ratings/rectifications/{rectification_id}", status_code=303)


@router.post("/workbench/ratings/{rating_id}/appeal")
def appeal_post(request: Request, session: DbSession, principal: SignedIn, rating_id: Id, form: PostedForm) -> Response:
    service.file_appeal(session, principal=principal, rating_id=rating_id, grounds=form_text(form, "grounds") or "",
                        reason=form_text(form, "reason"))
    return RedirectResponse("/workbench/ratings", status_code=303)


@router.post("/workbench/ratings/appeals/{appeal_id}/decide")
def decide_post(request: Request, session: DbSession, principal: SignedIn, appeal_id: Id, form: PostedForm) -> Response:
    decision = form_text(form, "decision")
    if decision not in ("uphold", "dismiss"):
        raise Invalid(N_("Uphold or dismiss the appeal"), field="decision")
    service.decide_appeal(session, principal=principal, appeal_id=appeal_id, uphold=decision == "uphold",
                          note=form_text(form, "note"))
    return RedirectResponse("/workbench/ratings", status_code=303)


# --- public ---------------------------------------------------------------------------------------


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/ratings/stats")
def stats_page(request: Request, session: DbSession, day_from: str | None = None, day_to: str | None = None,
               by: str = "department") -> Response:
    """Public (公开): satisfaction per department or per item over a period, and the 差评 ranking."""
    end = _day(day_to) or clock.today()
    start = _day(day_from) or end - dt.timedelta(days=29)
    error = None
    if by not in ("department", "item"):
        by = "department"
    if not (service.EARLIEST <= start <= service.LATEST and service.EARLIEST <= end <= service.LATEST):
        error, start, end = gettext("Choose a date between %(first)s and %(last)s") % {
            "first": service.EARLIEST.isoformat(), "last": service.LATEST.isoformat()}, clock.today(), clock.today()
    elif end < start:
        error, start = gettext("The period ends before it starts"), end
    rows = service.statistics(session, day_from=start, day_to=end, by=by)
    names = _departments(session, [f.key for f in rows]) if by == "department" else {}
    shown: list[dict[str, Any]] = [{"f": f, "name": names.get(f.key, f.key) if by == "department" else (pick(f.title) if f.title else f.key)}
             for f in rows]
    ranking = sorted((r for r in shown if r["f"].bad), key=lambda r: (-r["f"].bad, r["name"]))
    return render(request, "ratings/stats.html", {"rows": shown, "ranking": ranking, "by": by, "day_from": start,
                                                  "day_to": end, "error": error},
                  status_code=422 if error else 200)

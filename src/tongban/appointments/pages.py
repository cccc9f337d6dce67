"""Appointments pages: choose a time and book (phone-first; reached from an item's guide, from a
place, or directly), my bookings (cancel, reschedule, calendar file), and the workbench of the
staff serving a resource (the day's bookings, attended / no-show, booking at the counter, rules)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tongban.appointments import service
from tongban.core import access, clock, slices
from tongban.core.errors import Conflict, Invalid, NotFound, TongbanError
from tongban.core.i18n import N_, gettext, pick
from tongban.core.ids import Id
from tongban.webkit.deps import DbSession, PagePrincipal, SignedIn
from tongban.webkit.templating import render

router = APIRouter(include_in_schema=False)


def _shown(exc: TongbanError) -> bool:
    """Refusals a form shows on its page; a permission refusal (and a booking not yours) goes to
    the app's handler instead, which records it in the audit chain."""
    return isinstance(exc, (Invalid, Conflict)) or (isinstance(exc, NotFound) and not isinstance(exc, access.NotYours))


def _choose(request: Request, session: DbSession, found: list[Any], heading: dict[str, str] | str,
            item_id: str | None) -> Response:
    if len(found) == 1:
        suffix = f"?item={item_id}" if item_id else ""
        return RedirectResponse(f"/appointments/r/{found[0].id}{suffix}", status_code=303)
    return render(request, "appointments/choose.html", {
        "heading": heading, "item_id": item_id,
        "resources": [service.resource_dict(session, r) for r in found]})


@router.get("/appointments/item/{item_id}")
def for_item(request: Request, session: DbSession, principal: PagePrincipal, item_id: str) -> Response:
    """预约到厅办理 (from an item's guide): where this item can be booked."""
    found = service.resources(session, item_id=item_id[:64])
    if not found:
        raise NotFound(N_("This service cannot be booked"), field="item_id")
    return _choose(request, session, found, N_("Book a visit to the hall"), item_id[:64])


@router.get("/appointments/place/{place_id}")
def for_place(request: Request, session: DbSession, principal: PagePrincipal, place_id: Id) -> Response:
    """预约 at a place (from the near-me list or the place's page)."""
    place = slices.read("places.place")(session, place_id)
    found = service.resources(session, place_key=place.key) if place is not None else []
    if not found:
        raise NotFound(N_("Nothing can be booked at this place"), field="place_id")
    return _choose(request, session, found, {"zh": place.name_zh, "en": place.name_en or place.name_zh}, None)


def _resource_page(request: Request, session: DbSession, principal: Any, resource_id: str, *, day: str | None,
                   item: str | None, reschedule: str | None, error: str | None = None,
                   status_code: int = 200) -> Response:
    r = service.resource(session, resource_id)
    every = service.days(session, r)
    chosen: dt.date | None = None
    if day:
        try:
            chosen = dt.date.fromisoformat(day)
        except ValueError:
            chosen = None
    if chosen is None or not any(d.day == chosen for d in every):
        chosen = next((d.day for d in every if d.open and any(s.left and not s.past for s in d.slots)), every[0].day)
    view = next(d for d in every if d.day == chosen)
    old = None
    if reschedule and reschedule.isdigit() and principal.kind != "anonymous":
        b, _r = service.booking(session, principal=principal, booking_id=int(reschedule))
        old = service.booking_dict(session, b)
    return render(request, "appointments/resource.html", {
        "r": service.resource_dict(session, r), "days": every, "view": view, "item": item or "",
        "reschedule": old, "error": error, "signed_in": principal.kind != "anonymous",
        "is_resident": principal.kind == "resident"}, status_code=status_code)


@router.get("/appointments/r/{resource_id}")
def resource_page(request: Request, session: DbSession, principal: PagePrincipal, resource_id: str,
                  day: str | None = None, item: str | None = None, reschedule: str | None = None) -> Response:
    """分时预约: the days, the chosen day's slots with places left, and booking."""
    return _resource_page(request, session, principal, resource_id[:64], day=day, item=item, reschedule=reschedule)


@router.post("/appointments/r/{resource_id}")
def book_form(request: Request, session: DbSession, principal: SignedIn, resource_id: str,
              day: Annotated[str, Form()] = "", start: Annotated[str, Form()] = "",
              item: Annotated[str, Form()] = "", reschedule: Annotated[str, Form()] = "") -> Response:
    try:
        if not start:
            raise Invalid(N_("Choose one of the day's times"), field="start")
        if reschedule:
            if not reschedule.isdigit():
                raise Invalid(N_("No such booking"), field="reschedule")
            b = service.reschedule(session, principal=principal, booking_id=int(reschedule), day=day, start=start)
        else:
            b = service.book(session, principal=principal, resource_id=resource_id[:64], day=day, start=start,
                             item_id=item or None)
    except TongbanError as exc:
        if not _shown(exc):
            raise
        session.rollback()
        return _resource_page(request, session, principal, resource_id[:64], day=day, item=item,
                              reschedule=reschedule, error=exc.translated(), status_code=exc.status)
    return RedirectResponse(f"/appointments/mine?booked={b.id}", status_code=303)


@router.get("/appointments/mine")
def mine(request: Request, session: DbSession, principal: SignedIn, booked: str | None = None) -> Response:
    """我的预约: upcoming and past bookings, with cancel, reschedule and the calendar file."""
    return _mine(request, session, principal, booked=booked)


def _mine(request: Request, session: DbSession, principal: Any, *, booked: str | None = None,
          error: str | None = None, status_code: int = 200) -> Response:
    rows = [service.booking_dict(session, b) for b in service.my_bookings(session, principal=principal)]
    today = clock.today().isoformat()
    return render(request, "appointments/mine.html", {
        "upcoming": [b for b in rows if b["status"] == "active" and b["day"] >= today][::-1],
        "past": [b for b in rows if not (b["status"] == "active" and b["day"] >= today)],
        "booked": int(booked) if booked and booked.isdigit() else None, "error": error}, status_code=status_code)


@router.post("/appointments/bookings/{booking_id}/cancel")
def cancel_form(request: Request, session: DbSession, principal: SignedIn, booking_id: Id) -> Response:
    try:
        service.cancel(session, principal=principal, booking_id=booking_id)
    except TongbanError as exc:
        if not _shown(exc):
            raise
        session.rollback()
        return _mine(request, session, principal, error=exc.translated(), status_code=exc.status)
    return RedirectResponse("/appointments/mine", status_code=303)


@router.get("/appointments/bookings/{booking_id}.ics")
def ics(session: DbSession, principal: SignedIn, booking_id: Id) -> Response:
    """The booking as an iCalendar file."""
    b, r = service.booking(session, principal=principal, booking_id=booking_id)
    return Response(service.ics(session, b, r), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="booking-{b.id}.ics"'})


# --- the workbench ------------------------------------------------------------------------------


@router.get("/workbench/appointments")
def workbench(request: Request, session: DbSession, principal: SignedIn, resource: str | None = None,
              day: str | None = None) -> Response:
    """预约管理: the day's bookings of a resource the caller's department serves."""
    return _workbench(request, session, principal, resource=resource, day=day)


def _workbench(request: Request, session: DbSession, principal: Any, *, resource: str | None, day: str | None,
               error: str | None = None, status_code: int = 200) -> Response:
    served = service.serving(session, principal=principal)
    chosen = next((r for r in served if r.id == resource), served[0] if served else None)
    try:
        the_day = dt.date.fromisoformat(day) if day else clock.today()
    except ValueError:
        the_day, error = clock.today(), gettext(N_("Give the day as YYYY-MM-DD"))
    rows: list[dict[str, Any]] = []
    view = None
    if chosen is not None:
        rows = service.day_bookings(session, principal=principal, resource_id=chosen.id, day=the_day)
        view = service.day_view(session, chosen, the_day)
    return render(request, "appointments/workbench.html", {
        "served": [{"id": r.id, "title": pick(service.title(r)),
                    "place": pick(service.place_title(service.place_of(session, r)))} for r in served],
        "r": chosen and service.resource_dict(session, chosen), "day": the_day.isoformat(), "rows": rows,
        "view": view, "error": error, "can_manage": chosen is not None and principal.has(service.MANAGE),
        "weekly_text": service.weekly_text(chosen.rules, zh=str(getattr(request.state, "locale", "zh")).startswith("zh")) if chosen else ""}, status_code=status_code)


def _back(request: Request, session: DbSession, principal: Any, resource: str, day: str,
          exc: TongbanError) -> Response:
    if not _shown(exc):
        raise exc
    session.rollback()
    return _workbench(request, session, principal, resource=resource, day=day, error=exc.translated(),
                     status_code=exc.status)


@router.post("/workbench/appointments/{booking_id}/mark")
def mark_form(request: Request, session: DbSession, principal: SignedIn, booking_id: Id,
              outcome: Annotated[str, Form()] = "", resource: Annotated[str, Form()] = "",
              day: Annotated[str, Form()] = "") -> Response:
    try:
        service.mark(session, principal=principal, booking_id=booking_id, outcome=outcome)
    except TongbanError as exc:
        return _back(request, session, principal, resource, day, exc)
    return RedirectResponse(f"/workbench/appointments?resource={resource}&day={day}", status_code=303)


@router.post("/workbench/appointments/counter")
def counter_form(request: Request, session: DbSession, principal: SignedIn, resource: Annotated[str, Form()] = "",
                 day: Annotated[str, Form()] = "", start: Annotated[str, Form()] = "",
                 id_number: Annotated[str, Form()] = "") -> Response:
    """An officer books for the resident at the counter."""
    try:
        access.require(principal, service.SERVE)
        if not start:
            raise Invalid(N_("Choose one of the day's times"), field="start")
        service.book_at_counter(session, principal=principal, resource_id=resource[:64], day=day, start=start,
                                id_number=id_number)
    except TongbanError as exc:
        return _back(request, session, principal, resource, day, exc)
    return RedirectResponse(f"/workbench/appointments?resource={resource}&day={day}", status_code=303)


@router.post("/workbench/appointments/rules")
def rules_form(request: Request, session: DbSession, principal: SignedIn, resource: Annotated[str, Form()] = "",
               day: Annotated[str, Form()] = "", weekly: Annotated[str, Form()] = "",
               capacity: Annotated[str, Form()] = "", slot_minutes: Annotated[str, Form()] = "") -> Response:
    """Staff with appointments.manage change the opening spans, capacity and slot length."""
    try:
        access.require(principal, service.MANAGE)
        for name, value in (("capacity", capacity), ("slot_minutes", slot_minutes)):
            if not value.strip().isdigit():
                raise Invalid(N_("Enter a whole number"), field=name)
        service.update_rules(session, principal=principal, resource_id=resource[:64],
                             weekly=service.parse_weekly_text(weekly), capacity=int(capacity),
                             slot_minutes=int(slot_minutes))
    except TongbanError as exc:
        return _back(request, session, principal, resource, day, exc)
    return RedirectResponse(f"/workbench/appointments?resource={resource}&day={day}", status_code=303)

"""Appointments API (/api/v1/appointments/…): resources and their days (public), booking,
cancelling and rescheduling (residents), the day's bookings, no-shows, counter bookings and rules
(staff serving the resource)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tongban.appointments import service
from tongban.core.ids import Id
from tongban.webkit.deps import CurrentPrincipal, DbSession
from tongban.webkit.schemas import refusals

router = APIRouter(tags=["appointments"])

ResourceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.-]*$")]
Start = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, Asia/Shanghai")]


def _day_out(d: service.DayView) -> dict[str, Any]:
    return {"day": d.day.isoformat(), "open": d.open, "holiday": d.holiday, "adjusted_workday": d.adjusted_workday,
            "slots": [{"start": s.start, "end": s.end, "capacity": s.capacity, "left": s.left, "past": s.past}
                      for s in d.slots]}


@router.get("/appointments/resources")
def list_resources(session: DbSession, item_id: str | None = None) -> list[dict[str, Any]]:
    """The bookable resources (public), or those that book `item_id`."""
    return [service.resource_dict(session, r) for r in service.resources(session, item_id=item_id)]


@router.get("/appointments/resources/{resource_id}/days", responses=refusals({
    404: "A `resource_id` that names no bookable resource", 422: "A `days` outside 1–62"}))
def resource_days(resource_id: ResourceId, session: DbSession, day_from: dt.date | None = None,
                  days: int | None = None) -> list[dict[str, Any]]:
    """The days one may book and each day's slots with the places left (public); closed days
    (public holidays, rest days) are listed with no slots."""
    return [_day_out(d) for d in service.days(session, service.resource(session, resource_id), day_from=day_from,
                                              count=days)]


class BookIn(BaseModel):
    resource_id: str = Field(min_length=1, max_length=64)
    day: dt.date
    start: Start
    item_id: str | None = Field(None, max_length=64)


@router.post("/appointments/bookings", status_code=201, responses=refusals({
    404: "A `resource_id` that names no bookable resource",
    409: "The slot is full, the resident already holds the day's bookings, or booking is paused after no-shows",
    422: "A day outside the booking window or closed (holiday), a time that is not one of the day's slots or has begun"}))
def book(body: BookIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Book a slot for oneself (a resident)."""
    b = service.book(session, principal=principal, resource_id=body.resource_id, day=body.day, start=body.start,
                     item_id=body.item_id)
    return service.booking_dict(session, b)


@router.get("/appointments/bookings")
def mine(session: DbSession, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Your bookings, latest day first."""
    return [service.booking_dict(session, b) for b in service.my_bookings(session, principal=principal)]


@router.get("/appointments/bookings/{booking_id}.ics", responses=refusals({404: "A booking that is not yours"}))
def booking_ics(booking_id: Id, session: DbSession, principal: CurrentPrincipal) -> Response:
    """The booking as an iCalendar file (for one's phone calendar)."""
    b, r = service.booking(session, principal=principal, booking_id=booking_id)
    return Response(service.ics(session, b, r), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="booking-{b.id}.ics"'})


@router.post("/appointments/bookings/{booking_id}/cancel", responses=refusals({
    404: "A booking that is not yours", 409: "A booking no longer active, or whose time has begun"}))
def cancel(booking_id: Id, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Cancel a booking before its time (the resident, or staff serving the resource)."""
    return service.booking_dict(session, service.cancel(session, principal=principal, booking_id=booking_id))


class RescheduleIn(BaseModel):
    day: dt.date
    start: Start


@router.post("/appointments/bookings/{booking_id}/reschedule", responses=refusals({
    404: "A booking that is not yours", 409: "The old booking is no longer active or has begun, or the new slot is full",
    422: "A new day or time that cannot be booked"}))
def reschedule(booking_id: Id, body: RescheduleIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Move a booking to another slot of the same resource, in one step (the old one stands if the new one fails)."""
    b = service.reschedule(session, principal=principal, booking_id=booking_id, day=body.day, start=body.start)
    return service.booking_dict(session, b)


@router.get("/appointments/resources/{resource_id}/bookings", responses=refusals({
    404: "A `resource_id` that names no bookable resource"}))
def day_bookings(resource_id: ResourceId, day: dt.date, session: DbSession,
                 principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """The day's bookings of a resource (staff serving it; audited): time, status, the resident's
    name and masked ID number."""
    return service.day_bookings(session, principal=principal, resource_id=resource_id, day=day)


class MarkIn(BaseModel):
    outcome: Literal["attended", "no_show"]


@router.post("/appointments/bookings/{booking_id}/mark", responses=refusals({
    404: "No such booking", 409: "A booking no longer active, or a no-show before its time"}))
def mark(booking_id: Id, body: MarkIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Record that the resident came or did not come (staff serving the resource)."""
    return service.booking_dict(session, service.mark(session, principal=principal, booking_id=booking_id,
                                                      outcome=body.outcome))


class CounterIn(BookIn):
    id_number: str = Field(min_length=18, max_length=18, pattern=r"^[0-9]{17}[0-9Xx]$")


@router.post("/appointments/counter", status_code=201, responses=refusals({
    404: "A `resource_id` that names no bookable resource, or no resident account with the ID number",
    409: "The slot is full, the resident already holds the day's bookings, or booking is paused after no-shows",
    422: "A day outside the booking window or closed (holiday), a time that is not one of the day's slots or has begun"}))
def counter(body: CounterIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, Any]:
    """Book a slot for a resident at the counter (staff serving the resource)."""
    b = service.book_at_counter(session, principal=principal, resource_id=body.resource_id, day=body.day,
                                start=body.start, id_number=body.id_number)
    return service.booking_dict(session, b)


class RulesIn(BaseModel):
    weekly: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                 list[Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")]]] | None = None
    capacity: int | None = Field(None, ge=1, le=10_000)
    slot_minutes: int | None = Field(None, ge=5, le=480)


@router.patch("/appointments/resources/{resource_id}", responses=refusals({
    404: "A `resource_id` that names no bookable resource", 422: "Spans that hold no slot or overlap"}))
def change_rules(resource_id: ResourceId, body: RulesIn, session: DbSession,
                 principal: CurrentPrincipal) -> dict[str, Any]:
    """Change a resource's opening spans, capacity or slot length (staff with appointments.manage)."""
    weekly = {str(d): s for d, s in body.weekly.items()} if body.weekly is not None else None
    r = service.update_rules(session, principal=principal, resource_id=resource_id, weekly=weekly,
                             capacity=body.capacity, slot_minutes=body.slot_minutes)
    return service.resource_dict(session, r)

"""Booking time slots (分时预约): the days and slots a resource opens, booking, cancelling,
rescheduling, recording no-shows, the pause after too many, the day's list for staff, reminders.

**No overbooking.** A slot row is made on first booking (`INSERT … ON CONFLICT DO NOTHING`), then
one guarded UPDATE takes a place: `UPDATE appt_slot SET booked = booked + 1 WHERE id = :id AND
booked < capacity`, the booking's last statement (everything else it writes comes first, so a
refusal rolls it all back and the row lock is held only until the commit). On PostgreSQL the UPDATE locks the row and, under READ COMMITTED, re-reads it
after a concurrent writer commits, so the condition is checked against the committed count; on
SQLite a unit of work holds the database's write lock from its start (BEGIN IMMEDIATE, core.db),
so bookings run one after another. Either way one answer per place: the UPDATE changes a row
(booked) or none (full). `tests/appointments/test_race.py` proves it with 50 threads.

**One active booking per resident, resource and day** (or the pack's `per_resident_per_day`):
each active booking holds a number `seq` in 1 … limit, and a partial unique index over
(resource, account, day, seq) for active rows refuses a second holder of the same number —
also when the same resident books twice at once.

Every function takes the caller's session and never commits (one unit of work per request)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban import messages
from tongban.appointments.models import Booking, Resource, Slot
from tongban.core import access, clock, masking, slices
from tongban.core.access import Denied, NotYours, Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_, pick
from tongban.core.identity.models import Account
from tongban.core.timeutil import WorkCalendar
from tongban.core.workdays import calendar
from tongban.places.service import DAYS, parse_spans

MESSAGE_KINDS = ("appointment.booked", "appointment.reminder", "appointment.cancelled")  # sent (`messages.kinds`)

SERVE = "appointments.serve"  # staff: the day's bookings, no-shows, booking at the counter
MANAGE = "appointments.manage"  # staff: change a resource's rules
STATUSES = ("active", "cancelled", "attended", "no_show")
MAX_RANGE_DAYS = 62


# --- rules ------------------------------------------------------------------------------------


class RulesProblem(Exception):
    """A resource's rules that cannot work; `field` names the rule (the pack's key)."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field, self.text = field, text


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_rules(rules: Mapping[str, Any]) -> None:
    """The checks a model alone cannot make: every span holds at least one slot, spans of a day
    do not overlap, numbers in range. Raises `RulesProblem`."""
    weekly = rules.get("weekly")
    if not isinstance(weekly, Mapping) or not weekly:
        raise RulesProblem("weekly", "at least one weekday needs opening spans")
    minutes = rules.get("slot_minutes")
    if not isinstance(minutes, int) or not 5 <= minutes <= 480:
        raise RulesProblem("slot_minutes", "a slot lasts 5 to 480 minutes")
    for name, key, lo, hi in (("capacity", "capacity", 1, 10_000), ("book_ahead_days", "book_ahead_days", 1, 366),
                              ("per_resident_per_day", "per_resident_per_day", 1, 20)):
        v = rules.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise RulesProblem(name, f"{name} is a whole number from {lo} to {hi}")
    for day, spans in weekly.items():
        if day not in DAYS:
            raise RulesProblem("weekly", f"{day!r} is not a weekday (mon … sun)")
        ordered = sorted(spans)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b[:5] < a[6:]:
                raise RulesProblem("weekly", f"the spans of {day} overlap")
        for s in spans:
            if _minutes(s[6:]) - _minutes(s[:5]) < minutes:
                raise RulesProblem("weekly", f"the span {s} on {day} is shorter than one slot")


ZH_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def parse_weekly_text(text: str) -> dict[str, list[str]]:
    """Staff's form: one line per weekday, "周一 09:00-12:00,13:30-16:30" or "mon 09:00-12:00"
    (a weekday without a line: closed)."""
    weekly: dict[str, list[str]] = {}
    for line in (x.strip() for x in text.replace(";", "\n").splitlines()):
        if not line:
            continue
        day, _, spans = line.partition(" ")
        key = DAYS[ZH_DAYS.index(day)] if day in ZH_DAYS else day.lower()[:3]
        if key not in DAYS:
            raise Invalid(N_("Each line starts with a weekday (Monday to Sunday)"), field="weekly")
        try:
            weekly[key] = parse_spans(spans)
        except Invalid:
            raise Invalid(N_("Opening spans are like 09:00-12:00"), field="weekly") from None
    return {d: s for d, s in weekly.items() if s}


def weekly_text(rules: Mapping[str, Any], *, zh: bool = True) -> str:
    names = ZH_DAYS if zh else DAYS
    return "\n".join(f"{names[i]} {','.join(rules['weekly'][d])}" for i, d in enumerate(DAYS) if rules["weekly"].get(d))


def day_spans(rules: Mapping[str, Any], day: dt.date, cal: WorkCalendar) -> list[str]:
    """The spans a resource opens on `day`: none on a public holiday (a Monday–Friday the calendar
    says is off) unless `holidays: open`; on a weekend day worked (调休) Monday's spans if it has
    none of its own that day."""
    weekly: Mapping[str, list[str]] = rules["weekly"]
    spans = list(weekly.get(DAYS[day.weekday()], []))
    workday = cal.is_workday(day)
    if day.weekday() < 5 and not workday and rules.get("holidays", "closed") == "closed":
        return []
    if day.weekday() >= 5 and workday and not spans:
        return list(weekly.get("mon", []))
    return spans


def slot_times(rules: Mapping[str, Any], spans: Sequence[str]) -> list[tuple[str, str]]:
    """Each span cut into slots of `slot_minutes` (a tail shorter than a slot is not offered)."""
    size = int(rules["slot_minutes"])
    out = []
    for s in sorted(spans):
        start, end = _minutes(s[:5]), _minutes(s[6:])
        while start + size <= end:
            out.append((_hhmm(start), _hhmm(start + size)))
            start += size
    return out


def starts_at(day: dt.date, hhmm: str) -> dt.datetime:
    """The aware instant a slot starts (Asia/Shanghai wall time)."""
    return dt.datetime.combine(day, dt.time(int(hhmm[:2]) % 24, int(hhmm[3:5])), tzinfo=clock.SHANGHAI)


# --- resources --------------------------------------------------------------------------------


def resource(session: Session, resource_id: str) -> Resource:
    found = session.get(Resource, resource_id) if isinstance(resource_id, str) and len(resource_id) <= 64 else None
    if found is None or not found.active:
        raise NotFound(N_("No such bookable service"), field="resource_id")
    return found


def resources(session: Session, *, item_id: str | None = None, place_key: str | None = None) -> list[Resource]:
    q = select(Resource).where(Resource.active.is_(True)).order_by(Resource.place_key, Resource.id)
    if place_key is not None:
        q = q.where(Resource.place_key == place_key)
    rows = list(session.scalars(q))
    return [r for r in rows if item_id is None or item_id in (r.items or [])]


def place_of(session: Session, r: Resource) -> Any:
    """The resource's place (the places slice's published read), or None if it was removed;
    read once per unit of work."""
    known: dict[str, Any] = session.info.setdefault("tongban.appointments.places", {})
    if r.place_key not in known:
        known[r.place_key] = slices.read("places.place_by_key")(session, r.place_key)
    return known[r.place_key]


def title(r: Resource) -> dict[str, str]:
    return {"zh": r.title_zh, "en": r.title_en}


def place_title(place: Any) -> dict[str, str]:
    if place is None:
        return {"zh": "—", "en": "—"}
    return {"zh": place.name_zh, "en": place.name_en or place.name_zh}


def resource_dict(session: Session, r: Resource) -> dict[str, Any]:
    place = place_of(session, r)
    return {"id": r.id, "kind": r.kind, "title": pick(title(r)), "place_key": r.place_key,
            "place_id": place.id if place is not None else None, "place": pick(place_title(place)),
            "address": place.address if place is not None else None, "department_id": r.department_id,
            "region_code": r.region_code, "items": list(r.items or []), "rules": r.rules}


# --- days and slots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotView:
    start: str
    end: str
    capacity: int
    left: int
    past: bool


@dataclass(frozen=True)
class DayView:
    day: dt.date
    open: bool
    holiday: bool  # a public holiday the resource is closed on
    adjusted_workday: bool  # a weekend day worked (调休)
    slots: list[SlotView]


def _window(r: Resource) -> tuple[dt.date, dt.date]:
    today = clock.today()
    return today, today + dt.timedelta(days=int(r.rules["book_ahead_days"]))


def day_view(session: Session, r: Resource, day: dt.date, cal: WorkCalendar | None = None) -> DayView:
    cal = cal or calendar(session)
    spans = day_spans(r.rules, day, cal)
    times = slot_times(r.rules, spans)
    made = {s.start: s for s in session.scalars(select(Slot).where(Slot.resource_id == r.id, Slot.day == day))}
    now = clock.now()
    cap = int(r.rules["capacity"])
    slots = []
    for start, end in times:
        row = made.get(start)
        capacity, booked = (row.capacity, row.booked) if row is not None else (cap, 0)
        slots.append(SlotView(start, end, capacity, max(0, capacity - booked), starts_at(day, start) <= now))
    return DayView(day, bool(slots), day.weekday() < 5 and not cal.is_workday(day) and not spans,
                   day.weekday() >= 5 and cal.is_workday(day), slots)


def days(session: Session, r: Resource, *, day_from: dt.date | None = None, count: int | None = None) -> list[DayView]:
    """The days one may book now (today … today + book_ahead_days), or a range of them."""
    first, last = _window(r)
    if day_from is not None:
        first = max(first, day_from)
    if count is not None:
        if not 1 <= count <= MAX_RANGE_DAYS:
            raise Invalid(N_("Ask for 1 to 62 days"), field="days")
        last = min(last, first + dt.timedelta(days=count - 1))
    cal = calendar(session)
    out = []
    day = first
    while day <= last:
        out.append(day_view(session, r, day, cal))
        day += dt.timedelta(days=1)
    return out


# --- the no-show pause ------------------------------------------------------------------------


def paused_until(session: Session, account_id: int, rules: Mapping[str, Any], today: dt.date) -> dt.date | None:
    """The day booking opens again for `account_id` (None: not paused): after `limit` no-shows
    within `within_days` (anywhere), booking pauses for `pause_days` after the last of them."""
    ns = rules.get("no_show") or {}
    limit, within, pause = int(ns.get("limit", 3)), int(ns.get("within_days", 90)), int(ns.get("pause_days", 30))
    recent = list(session.scalars(select(Booking.day).where(
        Booking.account_id == account_id, Booking.status == "no_show",
        Booking.day > today - dt.timedelta(days=within), Booking.day <= today)))
    if len(recent) < limit:
        return None
    until = max(recent) + dt.timedelta(days=pause + 1)
    return until if today < until else None


# --- booking ----------------------------------------------------------------------------------


def _insert_ignore(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(Slot)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(Slot)


FULL = N_("This time is fully booked: choose another")


def _slot_row(session: Session, r: Resource, day: dt.date, start: str, end: str) -> int:
    """The slot's id, its row made if this is its first booking (`INSERT … ON CONFLICT DO NOTHING`:
    two first bookings at once make one row)."""
    found = session.execute(select(Slot.id, Slot.booked, Slot.capacity).where(
        Slot.resource_id == r.id, Slot.day == day, Slot.start == start)).first()
    if found is not None:
        if found.booked >= found.capacity:  # the fast refusal; the guarded UPDATE is what decides
            raise Conflict(FULL, field="start")
        return int(found.id)
    stmt = _insert_ignore(session).values(resource_id=r.id, day=day, start=start, end=end,
                                          capacity=int(r.rules["capacity"]), booked=0)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["resource_id", "day", "start"]))
    return int(session.scalar(select(Slot.id).where(Slot.resource_id == r.id, Slot.day == day,  # type: ignore[arg-type]
                                                    Slot.start == start)))


def _take_place(session: Session, slot_id: int) -> None:
    """Take one place by the guarded UPDATE, or Conflict when the slot is full (the caller's
    transaction then rolls back everything the booking wrote). Run last, so the row lock it takes
    on PostgreSQL is held only until the commit that follows."""
    taken = session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked < Slot.capacity)
                            .values(booked=Slot.booked + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(FULL, field="start")


def _give_back(session: Session, slot_id: int) -> None:
    session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked > 0).values(booked=Slot.booked - 1)
                    .execution_options(synchronize_session=False))


def _check_time(session: Session, r: Resource, day: dt.date, start: str) -> str:
    """The slot's end, if `day`/`start` is a slot one may book now; else Invalid naming the field."""
    first, last = _window(r)
    if not first <= day <= last:
        raise Invalid(N_("Choose a day from today up to %(days)s days ahead"), field="day",
                      days=int(r.rules["book_ahead_days"]))
    spans = day_spans(r.rules, day, calendar(session))
    if not spans:
        raise Invalid(N_("This service is closed on that day (a holiday or a rest day)"), field="day")
    ends = dict(slot_times(r.rules, spans))
    if start not in ends:
        raise Invalid(N_("Choose one of the day's times"), field="start")
    if starts_at(day, start) <= clock.now():
        raise Invalid(N_("That time has already begun"), field="start")
    return ends[start]


def _free_seq(session: Session, r: Resource, account_id: int, day: dt.date) -> int:
    held = set(session.scalars(select(Booking.seq).where(Booking.resource_id == r.id, Booking.account_id == account_id,
                                                         Booking.day == day, Booking.status == "active")))
    limit = int(r.rules["per_resident_per_day"])
    for seq in range(1, limit + 1):
        if seq not in held:
            return seq
    if limit == 1:
        raise Conflict(N_("You already have a booking for this service on that day"), field="day")
    raise Conflict(N_("You already hold %(n)s bookings for this service on that day"), field="day", n=limit)


def _messages_params(session: Session, r: Resource, b: Booking) -> dict[str, Any]:
    return {"resource": title(r), "place": place_title(place_of(session, r)), "day": b.day.isoformat(),
            "start": b.start}


def _book(session: Session, *, actor: Principal, r: Resource, account_id: int, day: dt.date, start: str,
          item_id: str | None, at_counter: bool, notify: bool = True) -> Booking:
    end = _check_time(session, r, day, start)
    if item_id is not None and item_id not in (r.items or []):
        raise Invalid(N_("This service is not booked for that item"), field="item_id")
    until = paused_until(session, account_id, r.rules, clock.today())
    if until is not None:
        raise Conflict(N_("Booking is paused until %(day)s after missed appointments"), field="day",
                       day=until.isoformat())
    slot_id = _slot_row(session, r, day, start, end)
    seq = _free_seq(session, r, account_id, day)
    b = Booking(resource_id=r.id, slot_id=slot_id, account_id=account_id, day=day, start=start, end=end, seq=seq,
                status="active", item_id=item_id, region_code=r.region_code, booked_by=actor.actor,
                at_counter=at_counter, created_at=clock.now())
    session.add(b)
    try:
        session.flush()
    except IntegrityError:  # the same resident booked the same number at the same moment
        raise Conflict(N_("You already have a booking for this service on that day"), field="day") from None
    record(session, actor=actor.actor, actor_department=actor.department_id, action="appointment.book",
           subject=f"booking:{b.id}", department_id=r.department_id, region_code=r.region_code,
           details={"resource": r.id, "day": day.isoformat(), "start": start, "counter": at_counter})
    if notify:
        messages.send(session, to=account_id, kind="appointment.booked", params=_messages_params(session, r, b),
                      link="/appointments/mine")
    _take_place(session, slot_id)
    return b


def _day(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid(N_("Give the day as YYYY-MM-DD"), field="day") from None


def book(session: Session, *, principal: Principal, resource_id: str, day: str | dt.date, start: str,
         item_id: str | None = None, notify: bool = True) -> Booking:
    """A resident books a slot for themselves (`notify=False`: no confirmation message, for a
    booking the demo seeds as made earlier)."""
    access.require(principal, "self.apply")
    if principal.kind != "resident" or principal.account_id is None:
        raise Denied(N_("Only residents book for themselves; at the counter, book for the resident"),
                     principal=principal, action="appointment.book")
    r = resource(session, resource_id)
    return _book(session, actor=principal, r=r, account_id=principal.account_id, day=_day(day), start=start,
                 item_id=item_id, at_counter=False, notify=notify)


def require_serves(principal: Principal, r: Resource, permission: str = SERVE) -> None:
    """Staff of the resource's department within its region (a platform admin anywhere)."""
    access.require(principal, permission)
    access.require_department(principal, r.department_id)
    if r.region_code is not None:
        access.require_region(principal, r.region_code)


def resident_by_id_number(session: Session, *, principal: Principal, id_number: str) -> Account:
    """The resident's account, found at the counter by the ID number they show (audited)."""
    number = (id_number or "").strip().upper()
    if len(number) != 18:
        raise Invalid(N_("Give the resident's 18-character ID number"), field="id_number")
    acc = session.scalar(select(Account).where(Account.id_number == number, Account.kind == "resident",
                                               Account.active.is_(True)))
    record(session, actor=principal.actor, actor_department=principal.department_id, action="appointment.find_resident",
           subject=f"account:{acc.id}" if acc else None, outcome="ok" if acc else "not_found",
           details={"id_number": masking.pseudonym(number)})
    if acc is None:
        raise NotFound(N_("No resident account has this ID number"), field="id_number")
    return acc


def book_at_counter(session: Session, *, principal: Principal, resource_id: str, day: str | dt.date, start: str,
                    id_number: str) -> Booking:
    """An officer books a slot for a resident at the counter (their department's resource)."""
    r = resource(session, resource_id)
    require_serves(principal, r)
    acc = resident_by_id_number(session, principal=principal, id_number=id_number)
    return _book(session, actor=principal, r=r, account_id=acc.id, day=_day(day), start=start, item_id=None,
                 at_counter=True)


def booking(session: Session, *, principal: Principal, booking_id: int, staff: bool = False) -> tuple[Booking, Resource]:
    """The booking, for its resident (or, `staff`, for staff who serve its resource)."""
    b = session.get(Booking, booking_id)
    if b is None or b.account_id is None:
        raise NotYours(N_("No such booking"), principal=principal, action="appointment.read")
    r = session.get(Resource, b.resource_id)
    assert r is not None
    if principal.account_id is not None and principal.account_id == b.account_id:
        return b, r
    if staff and principal.kind == "staff":
        require_serves(principal, r)
        return b, r
    raise NotYours(N_("No such booking"), principal=principal, action="appointment.read")


def cancel(session: Session, *, principal: Principal, booking_id: int, notify: bool = True) -> Booking:
    """Cancel an active booking before its slot begins (the resident, or staff serving it)."""
    access.require_login(principal)
    b, r = booking(session, principal=principal, booking_id=booking_id, staff=True)
    if b.status != "active":
        raise Conflict(N_("This booking is no longer active"), field="booking_id")
    if starts_at(b.day, b.start) <= clock.now():
        raise Conflict(N_("This booking's time has begun: it can no longer be cancelled"), field="booking_id")
    b.status, b.cancelled_at = "cancelled", clock.now()
    session.flush()
    _give_back(session, b.slot_id)
    record(session, actor=principal.actor, actor_department=principal.department_id, action="appointment.cancel",
           subject=f"booking:{b.id}", department_id=r.department_id, region_code=r.region_code,
           details={"resource": r.id, "day": b.day.isoformat(), "start": b.start})
    if notify:
        messages.send(session, to=b.account_id, kind="appointment.cancelled", params=_messages_params(session, r, b),
                      link="/appointments/mine")
    return b


def reschedule(session: Session, *, principal: Principal, booking_id: int, day: str | dt.date, start: str) -> Booking:
    """Move a booking to another slot of the same resource: the old place is given back and the
    new one taken in one transaction (if the new one is full, the old booking stands)."""
    b, r = booking(session, principal=principal, booking_id=booking_id, staff=True)
    cancel(session, principal=principal, booking_id=booking_id, notify=False)
    assert b.account_id is not None
    new = _book(session, actor=principal, r=r, account_id=b.account_id, day=_day(day), start=start,
                item_id=b.item_id, at_counter=principal.kind == "staff")
    b.rescheduled_to = new.id
    return new


def mark(session: Session, *, principal: Principal, booking_id: int, outcome: str) -> Booking:
    """Staff record that the resident came (`attended`) or did not (`no_show`, once the slot began)."""
    if outcome not in ("attended", "no_show"):
        raise Invalid(N_("The outcome is attended or no_show"), field="outcome")
    b = session.get(Booking, booking_id)
    r = session.get(Resource, b.resource_id) if b is not None else None
    if b is None or r is None:
        raise NotFound(N_("No such booking"), field="booking_id")
    require_serves(principal, r)
    if b.status != "active":
        raise Conflict(N_("This booking is no longer active"), field="booking_id")
    if outcome == "no_show" and starts_at(b.day, b.start) > clock.now():
        raise Conflict(N_("A no-show is recorded once the booked time has begun"), field="booking_id")
    b.status, b.marked_at, b.marked_by = outcome, clock.now(), principal.actor
    record(session, actor=principal.actor, actor_department=principal.department_id, action=f"appointment.{outcome}",
           subject=f"booking:{b.id}", department_id=r.department_id, region_code=r.region_code,
           details={"resource": r.id, "day": b.day.isoformat()})
    return b


def my_bookings(session: Session, *, principal: Principal) -> list[Booking]:
    access.require(principal, "self.read")
    if principal.account_id is None:
        return []
    return list(session.scalars(select(Booking).where(Booking.account_id == principal.account_id)
                                .order_by(Booking.day.desc(), Booking.start.desc(), Booking.id.desc()).limit(200)))


def serving(session: Session, *, principal: Principal) -> list[Resource]:
    """The resources the caller's department serves within their region."""
    access.require(principal, SERVE)
    q = (select(Resource).where(Resource.active.is_(True), access.scope(principal, department=Resource.department_id))
         .order_by(Resource.id))
    return [r for r in session.scalars(q) if r.region_code is None or access.can_act_in_region(principal, r.region_code)]


def day_bookings(session: Session, *, principal: Principal, resource_id: str, day: str | dt.date) -> list[dict[str, Any]]:
    """The day's bookings of a resource for the staff serving it: time, status and the resident's
    name and masked ID number (a personal-data read, audited)."""
    r = resource(session, resource_id)
    require_serves(principal, r)
    d = _day(day)
    rows = session.execute(select(Booking, Account.display_name, Account.id_number)
                           .outerjoin(Account, Account.id == Booking.account_id)
                           .where(Booking.resource_id == r.id, Booking.day == d, Booking.status != "cancelled")
                           .order_by(Booking.start, Booking.id)).all()
    record(session, actor=principal.actor, actor_department=principal.department_id, action="appointment.day_read",
           subject=f"resource:{r.id}", department_id=r.department_id, region_code=r.region_code,
           purpose="appointments.serve", details={"day": d.isoformat(), "bookings": len(rows)})
    return [{"id": b.id, "start": b.start, "end": b.end, "status": b.status, "name": name or "—",
             "id_number": masking.id_number(idn) or "—", "at_counter": b.at_counter,
             "begun": starts_at(b.day, b.start) <= clock.now()} for b, name, idn in rows]


def update_rules(session: Session, *, principal: Principal, resource_id: str, weekly: Mapping[str, list[str]] | None = None,
                 capacity: int | None = None, slot_minutes: int | None = None) -> Resource:
    """Staff with `appointments.manage` change a resource's opening spans, capacity or slot length.
    Slots already booked keep their times; a lower capacity never drops below what is booked."""
    r = resource(session, resource_id)
    require_serves(principal, r, MANAGE)
    rules = dict(r.rules)
    if weekly is not None:
        rules["weekly"] = {d: list(s) for d, s in weekly.items()}
    if capacity is not None:
        rules["capacity"] = capacity
    if slot_minutes is not None:
        rules["slot_minutes"] = slot_minutes
    try:
        check_rules(rules)
    except RulesProblem as exc:
        raise Invalid(_RULE_MESSAGES.get(exc.field, N_("These rules cannot make slots")), field=exc.field) from None
    if capacity is not None:
        session.execute(update(Slot).where(Slot.resource_id == r.id, Slot.day >= clock.today())
                        .values(capacity=case((Slot.booked > capacity, Slot.booked), else_=capacity))
                        .execution_options(synchronize_session=False))
    before = r.rules
    r.rules, r.edited_at, r.edited_by = rules, clock.now(), principal.actor
    record(session, actor=principal.actor, actor_department=principal.department_id, action="appointment.rules",
           subject=f"resource:{r.id}", department_id=r.department_id, region_code=r.region_code,
           details={"before": before, "after": rules})
    return r


_RULE_MESSAGES = {"weekly": N_("Each opening span must hold at least one slot and spans must not overlap"),
                  "slot_minutes": N_("A slot lasts 5 to 480 minutes"),
                  "capacity": N_("The capacity is a whole number from 1 to 10000")}


# --- reminders --------------------------------------------------------------------------------


def remind_due(session: Session) -> int:
    """The day-before reminders (提醒): every active booking of tomorrow not reminded yet."""
    tomorrow = clock.today() + dt.timedelta(days=1)
    due = list(session.scalars(select(Booking).where(Booking.day == tomorrow, Booking.status == "active",
                                                     Booking.reminded_at.is_(None), Booking.account_id.is_not(None))
                               .order_by(Booking.id).limit(5000)))
    titles: dict[str, Resource] = {}
    with messages.batch(session):
        for b in due:
            r = titles.get(b.resource_id) or session.get(Resource, b.resource_id)
            assert r is not None
            titles[r.id] = r
            messages.send(session, to=b.account_id, kind="appointment.reminder",
                          params=_messages_params(session, r, b), link="/appointments/mine")
            b.reminded_at = clock.now()
    return len(due)


# --- the booking's calendar file --------------------------------------------------------------


def ics(session: Session, b: Booking, r: Resource) -> bytes:
    """An iCalendar (RFC 5545) file of one booking, with a reminder the evening before."""
    from icalendar import Alarm, Calendar, Event

    place = place_of(session, r)
    cal = Calendar()
    cal.add("prodid", "-//tongban//appointments//ZH")
    cal.add("version", "2.0")
    ev = Event()
    ev.add("uid", f"booking-{b.id}@tongban")
    ev.add("dtstamp", clock.now().astimezone(dt.UTC))
    ev.add("dtstart", starts_at(b.day, b.start))
    ev.add("dtend", starts_at(b.day, b.end) if b.end != "24:00" else starts_at(b.day, "23:59"))
    ev.add("summary", f"{pick(title(r))} · {pick(place_title(place))}")
    if place is not None and place.address:
        ev.add("location", place.address)
    ev.add("status", "CANCELLED" if b.status == "cancelled" else "CONFIRMED")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", pick(title(r)))
    alarm.add("trigger", dt.timedelta(hours=-12))
    ev.add_component(alarm)
    cal.add_component(ev)
    return bytes(cal.to_ical())


def booking_dict(session: Session, b: Booking, r: Resource | None = None) -> dict[str, Any]:
    r = r or session.get(Resource, b.resource_id)
    assert r is not None
    place = place_of(session, r)
    return {"id": b.id, "resource_id": b.resource_id, "resource": pick(title(r)), "place": pick(place_title(place)),
            "place_id": place.id if place is not None else None, "address": place.address if place is not None else None,
            "day": b.day.isoformat(), "start": b.start, "end": b.end, "status": b.status, "item_id": b.item_id,
            "at_counter": b.at_counter, "ics": f"/appointments/bookings/{b.id}.ics",
            "can_cancel": b.status == "active" and starts_at(b.day, b.start) > clock.now(),
            "rescheduled_to": b.rescheduled_to}


def counts(session: Session, resource_id: str, day: dt.date) -> dict[str, int]:
    """Active and booked-counter totals of a day (the overbooking check of tests and the bench)."""
    active = session.scalar(select(func.count()).select_from(Booking).where(
        Booking.resource_id == resource_id, Booking.day == day, Booking.status == "active")) or 0
    booked = session.scalar(select(func.coalesce(func.sum(Slot.booked), 0)).where(
        Slot.resource_id == resource_id, Slot.day == day)) or 0
    return {"active": int(active), "booked": int(booked)}

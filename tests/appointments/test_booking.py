"""Booking, cancelling, rescheduling, the per-day limit, holidays and 调休, the no-show pause,
reminders, the calendar file and the staff's day — each on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.appointments.conftest import CLINIC, FRI, HALL, THU, id_number
from tongban.appointments import service
from tongban.appointments.models import Booking, Slot
from tongban.core.access import NotYours
from tongban.core.audit.models import AuditEvent
from tongban.core.errors import Conflict, Forbidden, Invalid, NotFound
from tongban.messages.models import Message


def _book(db, principal, day=THU, start="09:00", resource=HALL, **kw):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        b = service.book(s, principal=principal, resource_id=resource, day=day, start=start, **kw)
        return b.id


def _counts(db, resource=HALL, day=THU):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.counts(s, resource, day)


def _bookings(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(Booking)) or 0


def _slot_left(db, resource=HALL, day=THU, start="09:00") -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        view = service.day_view(s, service.resource(s, resource), day)
        return next(x.left for x in view.slots if x.start == start)


def test_a_booking_takes_a_place_and_tells_the_resident(appt, who):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    assert _slot_left(appt) == 4
    bid = _book(appt, a)
    assert _slot_left(appt) == 3
    assert _counts(appt) == {"active": 1, "booked": 1}
    with appt.unit_of_work() as s:
        kinds = list(s.scalars(select(Message.kind).where(Message.account_id == a.account_id)))
        assert kinds == ["appointment.booked"]
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "appointment.book", AuditEvent.subject == f"booking:{bid}")) == 1


def test_a_full_slot_refuses_and_writes_nothing(appt, who):  # type: ignore[no-untyped-def]
    with appt.unit_of_work() as s:
        service.update_rules(s, principal=who("admin.hrss"), resource_id=HALL, capacity=1)
    _book(appt, who("resident.a"))
    before = _bookings(appt)
    with pytest.raises(Conflict) as e:
        _book(appt, who("resident.b"))
    assert e.value.field == "start"
    assert _bookings(appt) == before and _counts(appt) == {"active": 1, "booked": 1}


def test_a_booking_on_a_public_holiday_is_refused_and_on_an_adjusted_workday_accepted(appt, who, clock):  # type: ignore[no-untyped-def]
    clock.set(dt.date(2025, 9, 26))  # National Day 2025: Oct 1–8 off; Sun Sep 28 worked (调休)
    a = who("resident.a")
    holiday, adjusted = dt.date(2025, 10, 1), dt.date(2025, 9, 28)
    with pytest.raises(Invalid) as e:
        _book(appt, a, day=holiday)
    assert e.value.field == "day"
    assert _bookings(appt) == 0
    with appt.unit_of_work() as s:
        view = service.day_view(s, service.resource(s, HALL), holiday)
        assert view.holiday and not view.open
        sunday = service.day_view(s, service.resource(s, HALL), adjusted)
        assert sunday.adjusted_workday and sunday.open and sunday.slots[0].start == "09:00"
        plain_sunday = service.day_view(s, service.resource(s, HALL), dt.date(2025, 10, 12))
        assert not plain_sunday.open
    bid = _book(appt, a, day=adjusted)
    with appt.unit_of_work() as s:
        assert s.get(Booking, bid).day == adjusted


def test_one_active_booking_per_resident_resource_and_day(appt, who):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    _book(appt, a)
    with pytest.raises(Conflict) as e:
        _book(appt, a, start="10:00")
    assert e.value.field == "day"
    _book(appt, a, day=FRI)  # another day is fine
    _book(appt, who("resident.b"), start="10:00")  # another resident is fine
    assert _bookings(appt) == 3


def test_the_pack_may_allow_more_bookings_a_day(appt, who):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    _book(appt, a, resource=CLINIC, start="08:30")
    _book(appt, a, resource=CLINIC, start="08:45")
    with pytest.raises(Conflict):
        _book(appt, a, resource=CLINIC, start="09:00")
    assert _counts(appt, CLINIC) == {"active": 2, "booked": 2}


def test_cancel_gives_the_place_back_and_frees_the_day(appt, who):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    bid = _book(appt, a)
    with appt.unit_of_work() as s:
        service.cancel(s, principal=a, booking_id=bid)
    assert _slot_left(appt) == 4 and _counts(appt) == {"active": 0, "booked": 0}
    with pytest.raises(Conflict):
        with appt.unit_of_work() as s:
            service.cancel(s, principal=a, booking_id=bid)
    _book(appt, a, start="10:00")  # the day is free again
    with appt.unit_of_work() as s:
        kinds = sorted(s.scalars(select(Message.kind).where(Message.account_id == a.account_id)))
    assert kinds == ["appointment.booked", "appointment.booked", "appointment.cancelled"]


def test_nobody_else_cancels_a_booking(appt, who):  # type: ignore[no-untyped-def]
    bid = _book(appt, who("resident.a"))
    for other in ("resident.b", "officer.cdc"):
        with pytest.raises((NotYours, Forbidden)):
            with appt.unit_of_work() as s:
                service.cancel(s, principal=who(other), booking_id=bid)
    assert _counts(appt) == {"active": 1, "booked": 1}


def test_a_booking_that_has_begun_cannot_be_cancelled(appt, who, clock):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    bid = _book(appt, a)
    clock.set(dt.datetime(2025, 6, 12, 9, 5, tzinfo=service.clock.SHANGHAI))
    with pytest.raises(Conflict):
        with appt.unit_of_work() as s:
            service.cancel(s, principal=a, booking_id=bid)


def test_reschedule_moves_the_booking_and_a_full_target_leaves_it_standing(appt, who):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    bid = _book(appt, a)
    with appt.unit_of_work() as s:
        new = service.reschedule(s, principal=a, booking_id=bid, day=THU, start="10:00")
        new_id = new.id
    with appt.unit_of_work() as s:
        assert s.get(Booking, bid).status == "cancelled" and s.get(Booking, bid).rescheduled_to == new_id
    assert _slot_left(appt, start="09:00") == 4 and _slot_left(appt, start="10:00") == 3
    with appt.unit_of_work() as s:
        service.update_rules(s, principal=who("admin.hrss"), resource_id=HALL, capacity=1)
    _book(appt, who("resident.b"), start="13:30")
    with pytest.raises(Conflict):
        with appt.unit_of_work() as s:
            service.reschedule(s, principal=a, booking_id=new_id, day=THU, start="13:30")
    with appt.unit_of_work() as s:
        assert s.get(Booking, new_id).status == "active"
    assert _counts(appt) == {"active": 2, "booked": 2}


@pytest.mark.parametrize(("day", "start", "field"), [
    (THU, "09:10", "start"),  # not a slot's start
    (THU, "17:00", "start"),  # after closing
    (dt.date(2025, 6, 11), "09:00", "start"),  # today, already begun (the clock is at 10:00)
    (dt.date(2025, 6, 10), "09:00", "day"),  # yesterday
    (dt.date(2025, 6, 26), "09:00", "day"),  # beyond the 14 days one may book ahead
    (dt.date(2025, 6, 14), "09:00", "day"),  # a Saturday: closed
    ("2025-13-01", "09:00", "day"),  # not a date
])
def test_bad_times_are_refused_naming_the_field(appt, who, day, start, field):  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as e:
        _book(appt, who("resident.a"), day=day, start=start)
    assert e.value.field == field
    assert _bookings(appt) == 0


def test_unknown_resource_and_staff_booking_for_themselves_are_refused(appt, who):  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        _book(appt, who("resident.a"), resource="appt.nothing")
    with pytest.raises(Forbidden):
        _book(appt, who("officer.hrss"))
    with pytest.raises(Invalid) as e:
        _book(appt, who("resident.a"), item_id="item.dibao")
    assert e.value.field == "item_id"
    assert _bookings(appt) == 0


def test_no_shows_pause_booking_for_the_pack_period(appt, who, clock):  # type: ignore[no-untyped-def]
    a, officer = who("resident.a"), who("officer.hrss")
    days = [THU, FRI, dt.date(2025, 6, 16)]
    ids = [_book(appt, a, day=d) for d in days]
    with pytest.raises(Conflict):  # a no-show is recorded only once the time has begun
        with appt.unit_of_work() as s:
            service.mark(s, principal=officer, booking_id=ids[0], outcome="no_show")
    clock.set(dt.date(2025, 6, 17))
    for i, bid in enumerate(ids):
        with appt.unit_of_work() as s:
            service.mark(s, principal=officer, booking_id=bid, outcome="no_show")
        if i < 2:  # below the limit of 3: booking still open
            with appt.unit_of_work() as s:
                assert service.paused_until(s, a.account_id, service.resource(s, HALL).rules, service.clock.today()) is None
    with pytest.raises(Conflict) as e:
        _book(appt, a, day=dt.date(2025, 6, 18))
    assert e.value.field == "day" and e.value.params["day"] == "2025-07-17"  # the last no-show + 30 days + 1
    _book(appt, who("resident.b"), day=dt.date(2025, 6, 18))  # others are not paused
    clock.set(dt.date(2025, 7, 17))
    _book(appt, a, day=dt.date(2025, 7, 18))  # the pause is over


def test_staff_see_the_day_masked_and_audited_and_only_their_own(appt, who):  # type: ignore[no-untyped-def]
    _book(appt, who("resident.a"))
    with appt.unit_of_work() as s:
        rows = service.day_bookings(s, principal=who("officer.hrss"), resource_id=HALL, day=THU)
    assert [r["start"] for r in rows] == ["09:00"] and rows[0]["name"] == "resident.a"
    assert rows[0]["id_number"] != id_number(1) and rows[0]["id_number"][:3] == id_number(1)[:3]
    with appt.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "appointment.day_read")) == 1
    with pytest.raises(Forbidden):
        with appt.unit_of_work() as s:
            service.day_bookings(s, principal=who("officer.cdc"), resource_id=HALL, day=THU)
    with pytest.raises(Forbidden):
        with appt.unit_of_work() as s:
            service.day_bookings(s, principal=who("resident.a"), resource_id=HALL, day=THU)


def test_an_officer_books_for_a_resident_at_the_counter(appt, who):  # type: ignore[no-untyped-def]
    officer = who("officer.hrss")
    with appt.unit_of_work() as s:
        b = service.book_at_counter(s, principal=officer, resource_id=HALL, day=THU, start="09:30",
                                    id_number=id_number(2))
        assert b.at_counter and b.booked_by == officer.actor
    with appt.unit_of_work() as s:
        mine = service.my_bookings(s, principal=who("resident.b"))
        assert [(x.day, x.start) for x in mine] == [(THU, "09:30")]
    with pytest.raises(NotFound) as e:
        with appt.unit_of_work() as s:
            service.book_at_counter(s, principal=officer, resource_id=HALL, day=THU, start="09:30",
                                    id_number=id_number(99))
    assert e.value.field == "id_number"
    with pytest.raises(Forbidden):  # not their department's window
        with appt.unit_of_work() as s:
            service.book_at_counter(s, principal=who("officer.cdc"), resource_id=HALL, day=THU, start="09:30",
                                    id_number=id_number(3))
    assert _bookings(appt) == 1


def test_rules_changed_by_staff_with_the_permission_only(appt, who):  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden):
        with appt.unit_of_work() as s:
            service.update_rules(s, principal=who("officer.hrss"), resource_id=HALL, capacity=9)
    with pytest.raises(Invalid) as e:
        with appt.unit_of_work() as s:
            service.update_rules(s, principal=who("admin.hrss"), resource_id=HALL,
                                 weekly=service.parse_weekly_text("周一 09:00-09:10"))
    assert e.value.field == "weekly"
    with appt.unit_of_work() as s:
        service.update_rules(s, principal=who("admin.hrss"), resource_id=HALL, capacity=9,
                             weekly=service.parse_weekly_text("周四 14:00-15:00\nfri 09:00-10:00"))
    with appt.unit_of_work() as s:
        r = service.resource(s, HALL)
        assert r.rules["weekly"] == {"thu": ["14:00-15:00"], "fri": ["09:00-10:00"]} and r.edited_at is not None
        view = service.day_view(s, r, THU)
        assert [(x.start, x.capacity) for x in view.slots] == [("14:00", 9), ("14:30", 9)]
    with pytest.raises(Invalid):
        service.parse_weekly_text("someday 09:00-10:00")


def test_lowering_capacity_keeps_the_bookings_made(appt, who):  # type: ignore[no-untyped-def]
    _book(appt, who("resident.a"))
    _book(appt, who("resident.b"))
    with appt.unit_of_work() as s:
        service.update_rules(s, principal=who("admin.hrss"), resource_id=HALL, capacity=1)
    with appt.unit_of_work() as s:
        slot = s.scalars(select(Slot).where(Slot.resource_id == HALL, Slot.day == THU)).one()
        assert (slot.capacity, slot.booked) == (2, 2)
    assert _slot_left(appt) == 0


def test_reminders_go_the_day_before_once(appt, who, clock):  # type: ignore[no-untyped-def]
    a = who("resident.a")
    _book(appt, a, day=FRI)
    with appt.unit_of_work() as s:
        assert service.remind_due(s) == 0  # Friday is not tomorrow yet
    clock.set(dt.date(2025, 6, 12))
    with appt.unit_of_work() as s:
        assert service.remind_due(s) == 1
    with appt.unit_of_work() as s:
        assert service.remind_due(s) == 0
        kinds = list(s.scalars(select(Message.kind).where(Message.account_id == a.account_id,
                                                          Message.kind == "appointment.reminder")))
    assert kinds == ["appointment.reminder"]


def test_the_calendar_file_names_the_time_and_place(appt, who):  # type: ignore[no-untyped-def]
    from icalendar import Calendar

    bid = _book(appt, who("resident.a"))
    with appt.unit_of_work() as s:
        b, r = service.booking(s, principal=who("resident.a"), booking_id=bid)
        cal = Calendar.from_ical(service.ics(s, b, r))
    event = cal.walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start.astimezone(service.clock.SHANGHAI).replace(tzinfo=None) == dt.datetime(2025, 6, 12, 9, 0)
    assert "社保卡业务窗口" in str(event.get("summary")) and "海曙区望京路1号" in str(event.get("location"))
    with pytest.raises(NotYours):
        with appt.unit_of_work() as s:
            service.booking(s, principal=who("resident.b"), booking_id=bid)

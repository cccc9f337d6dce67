"""The appointments API and pages: problem+json naming the field, nothing written on a refusal,
the booking page, my bookings with cancel, the calendar file, the workbench (counter, no-show,
rules), and the links contributed to the guide and the places pages."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from tests.appointments.conftest import CLINIC, HALL, id_number
from tests.factories import refusal_count, token_for, web_login
from tongban.appointments import links, service
from tongban.appointments.models import Booking
from tongban.core import slices


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(Booking)) or 0


def _csrf(page) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_api_books_lists_cancels_and_gives_the_calendar_file(appt, client):  # type: ignore[no-untyped-def]
    h = token_for(client, "resident.a")
    days = client.get(f"/api/v1/appointments/resources/{HALL}/days", params={"day_from": "2025-06-12", "days": 3})
    assert days.status_code == 200
    assert [d["day"] for d in days.json()] == ["2025-06-12", "2025-06-13", "2025-06-14"]
    assert days.json()[2]["open"] is False and days.json()[0]["slots"][0] == {
        "start": "09:00", "end": "09:30", "capacity": 4, "left": 4, "past": False}
    made = client.post("/api/v1/appointments/bookings", headers=h,
                       json={"resource_id": HALL, "day": "2025-06-12", "start": "09:00",
                             "item_id": "item.social-security-card"})
    assert made.status_code == 201, made.text
    bid = made.json()["id"]
    assert made.json()["place"] == "海曙区行政服务中心"
    assert [b["id"] for b in client.get("/api/v1/appointments/bookings", headers=h).json()] == [bid]
    ics = client.get(f"/api/v1/appointments/bookings/{bid}.ics", headers=h)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content and b"DTSTART" in ics.content
    other = token_for(client, "resident.b")
    assert client.get(f"/api/v1/appointments/bookings/{bid}.ics", headers=other).status_code == 404
    assert client.post(f"/api/v1/appointments/bookings/{bid}/cancel", headers=other).status_code == 404
    done = client.post(f"/api/v1/appointments/bookings/{bid}/cancel", headers=h)
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/appointments/bookings/{bid}/cancel", headers=h)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")


def test_api_refusals_name_the_field_and_write_nothing(appt, client):  # type: ignore[no-untyped-def]
    h = token_for(client, "resident.a")
    cases = [
        ({"resource_id": HALL, "day": "2025-06-12", "start": "9:00"}, 422, "start"),  # the schema
        ({"resource_id": HALL, "day": "not-a-day", "start": "09:00"}, 422, "day"),
        ({"resource_id": HALL, "day": "2025-06-14", "start": "09:00"}, 422, "day"),  # Saturday: closed
        ({"resource_id": HALL, "day": "2025-06-12", "start": "09:10"}, 422, "start"),
        ({"resource_id": "appt.none", "day": "2025-06-12", "start": "09:00"}, 404, "resource_id"),
    ]
    for body, status, field in cases:
        r = client.post("/api/v1/appointments/bookings", headers=h, json=body)
        assert r.status_code == status, (body, r.text)
        problem = r.json()
        named = problem.get("field") or (problem.get("errors") or [{}])[0].get("field", "")
        assert named.endswith(field), (body, problem)
    assert client.post("/api/v1/appointments/bookings",
                       json={"resource_id": HALL, "day": "2025-06-12", "start": "09:00"}).status_code == 401
    msg = client.post("/api/v1/appointments/bookings", headers={**h, "Accept-Language": "zh-CN"},
                      json={"resource_id": HALL, "day": "2025-06-14", "start": "09:00"}).json()
    assert "休" in msg["detail"] or "不办理" in msg["detail"] or "不开放" in msg["detail"], msg
    assert _count(appt) == 0


def test_api_staff_day_mark_counter_and_rules(appt, client, clock):  # type: ignore[no-untyped-def]
    officer = token_for(client, "officer.hrss")
    made = client.post("/api/v1/appointments/counter", headers=officer,
                       json={"resource_id": HALL, "day": "2025-06-12", "start": "10:00", "id_number": id_number(1)})
    assert made.status_code == 201, made.text
    bad = client.post("/api/v1/appointments/counter", headers=officer,
                      json={"resource_id": HALL, "day": "2025-06-12", "start": "10:00", "id_number": "123"})
    assert bad.status_code == 422
    before = refusal_count(appt)
    resident = token_for(client, "resident.a")
    assert client.get(f"/api/v1/appointments/resources/{HALL}/bookings", params={"day": "2025-06-12"},
                      headers=resident).status_code == 403
    assert refusal_count(appt) == before + 1
    day = client.get(f"/api/v1/appointments/resources/{HALL}/bookings", params={"day": "2025-06-12"}, headers=officer)
    assert [b["start"] for b in day.json()] == ["10:00"]
    bid = made.json()["id"]
    early = client.post(f"/api/v1/appointments/bookings/{bid}/mark", headers=officer, json={"outcome": "no_show"})
    assert early.status_code == 409
    clock.set(dt.date(2025, 6, 13))
    officer, admin = token_for(client, "officer.hrss"), token_for(client, "admin.hrss")
    marked = client.post(f"/api/v1/appointments/bookings/{bid}/mark", headers=officer, json={"outcome": "no_show"})
    assert marked.status_code == 200 and marked.json()["status"] == "no_show"
    assert client.patch(f"/api/v1/appointments/resources/{HALL}", headers=officer,
                        json={"capacity": 6}).status_code == 403
    overlap = client.patch(f"/api/v1/appointments/resources/{HALL}", headers=admin,
                           json={"weekly": {"mon": ["09:00-11:00", "10:00-12:00"]}})
    assert overlap.status_code == 422 and overlap.json()["field"] == "weekly"
    ok = client.patch(f"/api/v1/appointments/resources/{HALL}", headers=admin, json={"capacity": 6})
    assert ok.status_code == 200 and ok.json()["rules"]["capacity"] == 6


def test_pages_book_show_mine_and_cancel(appt, client):  # type: ignore[no-untyped-def]
    page = client.get(f"/appointments/r/{HALL}?day=2025-06-12")
    assert page.status_code == 200 and "登录后预约" in page.text  # a visitor sees the times, signs in to book
    web_login(client, "resident.a")
    page = client.get(f"/appointments/r/{HALL}?day=2025-06-12")
    assert 'value="09:00"' in page.text
    done = client.post(f"/appointments/r/{HALL}", data={"day": "2025-06-12", "start": "09:00", "item": "",
                                                        "csrf_token": _csrf(page)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/appointments/mine?booked=")
    again = client.post(f"/appointments/r/{HALL}", data={"day": "2025-06-12", "start": "10:00", "item": "",
                                                         "csrf_token": _csrf(page)})
    assert again.status_code == 409 and "error-summary" in again.text
    no_csrf = client.post(f"/appointments/r/{HALL}", data={"day": "2025-06-12", "start": "10:30"})
    assert no_csrf.status_code == 403
    mine = client.get("/appointments/mine")
    bid = re.search(r'data-booking="(\d+)"', mine.text).group(1)  # type: ignore[union-attr]
    assert f"/appointments/bookings/{bid}.ics" in mine.text
    assert client.get(f"/appointments/bookings/{bid}.ics").headers["content-type"].startswith("text/calendar")
    gone = client.post(f"/appointments/bookings/{bid}/cancel", data={"csrf_token": _csrf(mine)},
                       follow_redirects=False)
    assert gone.status_code == 303
    with appt.unit_of_work() as s:
        assert s.get(Booking, int(bid)).status == "cancelled"


def test_workbench_page_lists_the_day_books_at_the_counter_and_changes_rules(appt, client):  # type: ignore[no-untyped-def]
    web_login(client, "admin.hrss")
    page = client.get(f"/workbench/appointments?resource={HALL}&day=2025-06-12")
    assert page.status_code == 200 and "rules-form" in page.text
    made = client.post("/workbench/appointments/counter", data={
        "resource": HALL, "day": "2025-06-12", "start": "09:00", "id_number": id_number(3),
        "csrf_token": _csrf(page)}, follow_redirects=False)
    assert made.status_code == 303
    listed = client.get(f"/workbench/appointments?resource={HALL}&day=2025-06-12")
    assert "resident.c" in listed.text and id_number(3) not in listed.text
    unknown = client.post("/workbench/appointments/counter", data={
        "resource": HALL, "day": "2025-06-12", "start": "09:00", "id_number": id_number(77),
        "csrf_token": _csrf(page)})
    assert unknown.status_code == 404 and "error-summary" in unknown.text
    bad = client.post("/workbench/appointments/rules", data={
        "resource": HALL, "day": "2025-06-12", "weekly": "周一 9点", "capacity": "5", "slot_minutes": "30",
        "csrf_token": _csrf(page)})
    assert bad.status_code == 422
    ok = client.post("/workbench/appointments/rules", data={
        "resource": HALL, "day": "2025-06-12", "weekly": "周四 09:00-10:00", "capacity": "5", "slot_minutes": "20",
        "csrf_token": _csrf(page)}, follow_redirects=False)
    assert ok.status_code == 303
    with appt.unit_of_work() as s:
        assert service.resource(s, HALL).rules["slot_minutes"] == 20
    assert _count(appt) == 1


def test_links_to_the_guide_and_the_places_pages(appt, client):  # type: ignore[no-untyped-def]
    assert links.guide_action in slices.contributed("services.guide_actions")
    assert links.place_action in slices.contributed("places.place_actions")
    with appt.unit_of_work() as s:
        link = links.guide_action(s, "item.vaccination")
        assert link is not None and link.href == "/appointments/item/item.vaccination"
        assert links.guide_action(s, "item.deed-tax") is None
        place = slices.read("places.place_by_key")(s, "place.clinic-001001")
        assert links.place_action(s, place.id).href == f"/appointments/place/{place.id}"  # type: ignore[union-attr]
        canteen = slices.read("places.place_by_key")(s, "place.canteen-001001")
        assert links.place_action(s, canteen.id) is None
    item = client.get("/appointments/item/item.vaccination")  # two clinics book it: a choice
    assert item.status_code == 200 and CLINIC in item.text
    one = client.get("/appointments/item/item.social-security-card", follow_redirects=False)
    assert one.status_code == 303 and one.headers["location"] == f"/appointments/r/{HALL}?item=item.social-security-card"
    assert client.get("/appointments/item/item.deed-tax").status_code == 404
    at_place = client.get(f"/appointments/place/{place.id}", follow_redirects=False)
    assert at_place.status_code == 303 and at_place.headers["location"] == f"/appointments/r/{CLINIC}"
    page = client.get(f"/places/{place.id}")
    assert page.status_code == 200 and f"/appointments/place/{place.id}" in page.text
    near = client.get("/places/near", params={"lat": place.latitude, "lon": place.longitude, "radius_m": 500})
    assert f"/appointments/place/{place.id}" in near.text
    assert client.get("/places/999999").status_code == 404


def test_the_pack_refuses_resources_that_cannot_work(appt, tmp_path):  # type: ignore[no-untyped-def]
    import shutil

    from tests.appointments.conftest import PACK
    from tongban.core.packs.loader import PackError, load_pack

    copy = tmp_path / "pack"
    shutil.copytree(PACK, copy)
    text = (copy / "appointments.yaml").read_text(encoding="utf-8")
    (copy / "appointments.yaml").write_text(text.replace('weekly: {tue: "08:30-11:30"', 'weekly: {tue: "08:30-08:40"')
                                            .replace("place: place.hall-nanmen", "place: place.nowhere"),
                                            encoding="utf-8")
    try:
        with appt.unit_of_work() as s:
            load_pack(s, copy)
        raise AssertionError("the pack loaded")
    except PackError as exc:
        text = str(exc)
    assert "place.nowhere" in text and "shorter than one slot" in text


def test_reschedule_through_the_api_and_the_page(appt, client):  # type: ignore[no-untyped-def]
    h = token_for(client, "resident.a")
    first = client.post("/api/v1/appointments/bookings", headers=h,
                        json={"resource_id": HALL, "day": "2025-06-12", "start": "09:00"}).json()["id"]
    moved = client.post(f"/api/v1/appointments/bookings/{first}/reschedule", headers=h,
                        json={"day": "2025-06-13", "start": "10:00"})
    assert moved.status_code == 200 and (moved.json()["day"], moved.json()["start"]) == ("2025-06-13", "10:00")
    closed = client.post(f"/api/v1/appointments/bookings/{moved.json()['id']}/reschedule", headers=h,
                         json={"day": "2025-06-14", "start": "10:00"})  # a Saturday: the booking stands
    assert closed.status_code == 422 and closed.json()["field"] == "day"
    web_login(client, "resident.a")
    page = client.get(f"/appointments/r/{HALL}?reschedule={moved.json()['id']}&day=2025-06-16")
    assert page.status_code == 200 and 'id="rescheduling"' in page.text
    done = client.post(f"/appointments/r/{HALL}", data={
        "day": "2025-06-16", "start": "13:30", "item": "", "reschedule": str(moved.json()["id"]),
        "csrf_token": _csrf(page)}, follow_redirects=False)
    assert done.status_code == 303
    with appt.unit_of_work() as s:
        active = list(s.scalars(select(Booking).where(Booking.status == "active")))
    assert [(b.day, b.start) for b in active] == [(dt.date(2025, 6, 16), "13:30")]
    assert _count(appt) == 3  # the moved ones stay, cancelled, pointing at their successor

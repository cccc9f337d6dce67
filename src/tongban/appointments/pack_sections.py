"""The `appointments.yaml` pack section (分时预约): the bookable resources of a region, each at a
place of the places section, served by a department, with its opening rules and slot template.

```yaml
resources:
  - id: appt.hall-haishu.social-security
    kind: window                      # window | clinic | venue | department
    title: {zh: 社保业务窗口, en: Social security window}
    place: place.hall-haishu          # a place of places.yaml
    department: dept.haishu.hrss      # whose staff serve it and see its bookings
    items: [item.social-security-card]  # the guide's "预约到厅办理" leads here
    weekly: {mon: "09:00-12:00,13:30-16:30", tue: …}   # opening spans per weekday
    slot_minutes: 30                  # each span is cut into slots of this length
    capacity: 4                       # places per slot
    holidays: closed                  # closed on public holidays (open: keeps its weekly spans)
    book_ahead_days: 14               # how far ahead one may book (today + 1 … today + N)
    per_resident_per_day: 1           # active bookings one resident may hold for one day
    no_show: {limit: 3, within_days: 90, pause_days: 30}
```

On a weekend day worked (调休) a resource without spans of its own that day opens with Monday's.
A pack reload leaves a resource whose rules staff changed (`edited_at`) as staff left it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from sqlalchemy.orm import Session

from tongban.appointments.models import Resource
from tongban.core import slices
from tongban.core.errors import Invalid
from tongban.core.packs.loader import Changes, Pack, PackFile, Problem, register_section
from tongban.core.packs.models import Defines, PackModel, RefersTo, SectionFile, StableId, Text
from tongban.places.service import parse_spans

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
KINDS = ("window", "clinic", "venue", "department")


class NoShowDecl(PackModel):
    """After `limit` no-shows within `within_days`, booking is paused for `pause_days` after the last."""

    limit: int = Field(3, ge=1, le=100)
    within_days: int = Field(90, ge=1, le=3660)
    pause_days: int = Field(30, ge=1, le=3660)


class ResourceDecl(PackModel):
    id: Annotated[StableId, Defines("appointment_resource")]
    kind: Literal["window", "clinic", "venue", "department"]
    title: Text
    place: Annotated[str, RefersTo("place")]
    department: Annotated[str, RefersTo("department")]
    items: Annotated[list[str], RefersTo("item")] = []
    weekly: dict[Day, list[str] | str] = Field(min_length=1)
    slot_minutes: int = Field(30, ge=5, le=480)
    capacity: int = Field(ge=1, le=10_000)
    holidays: Literal["open", "closed"] = "closed"
    book_ahead_days: int = Field(14, ge=1, le=366)
    per_resident_per_day: int = Field(1, ge=1, le=20)
    no_show: NoShowDecl = NoShowDecl()

    @field_validator("weekly")
    @classmethod
    def _spans(cls, v: dict[str, list[str] | str]) -> dict[str, list[str] | str]:
        for spans in v.values():
            try:
                parse_spans(spans)
            except Invalid:
                raise ValueError("opening spans are like 09:00-12:00") from None
        return v


class AppointmentsFile(SectionFile):
    resources: list[ResourceDecl]


def rules_of(r: ResourceDecl) -> dict[str, Any]:
    """The stored rules of a declared resource (the same shape staff edit, see `service.check_rules`)."""
    return {"weekly": {d: parse_spans(s) for d, s in r.weekly.items()}, "slot_minutes": r.slot_minutes,
            "capacity": r.capacity, "holidays": r.holidays, "book_ahead_days": r.book_ahead_days,
            "per_resident_per_day": r.per_resident_per_day, "no_show": r.no_show.model_dump()}


def check_appointments(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    from tongban.appointments.service import RulesProblem, check_rules

    model: AppointmentsFile = pf.model
    for i, r in enumerate(model.resources):
        if not r.id.startswith("appt."):
            yield pf.problem(("resources", i, "id"), "a resource's id starts with 'appt.'")
        try:
            check_rules(rules_of(r))
        except RulesProblem as exc:
            yield pf.problem(("resources", i, exc.field), exc.text)


def apply_appointments(session: Session, files: list[PackFile], pack: Pack) -> Changes:
    from tongban.core.packs.sections import upsert

    place_by_key = slices.read("places.place_by_key")
    changes = Changes()
    for pf in files:
        for r in pf.model.resources:
            place = place_by_key(session, r.place)
            values: dict[str, Any] = dict(
                id=r.id, kind=r.kind, title_zh=r.title.zh, title_en=r.title.en, place_key=r.place,
                region_code=place.region_code if place is not None else None, department_id=r.department,
                items=list(r.items), active=True, pack_id=pack.id)
            existing = session.get(Resource, r.id)
            if existing is None or existing.edited_at is None:
                values["rules"] = rules_of(r)
            changes.count(upsert(session, Resource, r.id, values))
    session.flush()
    return changes


register_section("appointments", AppointmentsFile, apply=apply_appointments, check=check_appointments, order=75,
                 description="Appointments (分时预约): bookable resources at places, opening rules, slots, limits.")

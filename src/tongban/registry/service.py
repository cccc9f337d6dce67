"""The registry's raw records, the resident's own view and corrections.

Staff reads of persons are the data hub's (`datahub.persons`: basis, release decision, audit);
this module keeps the raw, unreleased functions it calls and never imports the hub.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tongban.core import access, masking, paging, text
from tongban.core.access import Principal
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Account, Department
from tongban.core.timeutil import today_local, utcnow
from tongban.registry.identifiers import validate_resident_id
from tongban.registry.models import (
    Address,
    Certificate,
    CorrectionRequest,
    Guardianship,
    Household,
    HouseholdMember,
    Person,
)

MIN_PURPOSE = 4
MAX_RESULTS = 50


def address_text(session: Session, address_id: int | None, *, masked: bool) -> str | None:
    if address_id is None:
        return None
    a = session.get(Address, address_id)
    if a is None:
        return None
    if masked:
        return masking.address(a.road)
    parts = [a.road, a.number, a.building and f"{a.building}幢", a.unit and f"{a.unit}单元", a.room and f"{a.room}室"]
    return " ".join(p for p in parts if p)


def person_dict(session: Session, p: Person, *, masked: bool) -> dict[str, Any]:
    """A person as shown: masked by default."""
    return {
        "id": p.id,
        "id_number": masking.id_number(p.id_number) if masked else p.id_number,
        "name": masking.name(p.name) if masked else p.name,
        "sex": p.sex,
        "birth_date": p.birth_date.isoformat(),
        "phone": masking.phone(p.phone) if masked else p.phone,
        "hukou_region_code": p.hukou_region_code,
        "region_code": p.region_code,
        "address": address_text(session, p.address_id, masked=masked),
        "alive": p.alive,
        "death_date": p.death_date.isoformat() if p.death_date else None,
        "marital_status": p.marital_status,
        "disability_type": p.disability_type,
        "disability_grade": p.disability_grade,
        "employment_status": p.employment_status,
        "student_status": p.student_status,
        "household_id": p.household_id,
        "masked": masked,
    }


def check_purpose(purpose: str | None) -> str | None:
    if purpose is None:
        return None
    purpose = purpose.strip()
    if len(purpose) < MIN_PURPOSE:
        raise Invalid(N_("State the purpose of seeing the full record (at least 4 characters)"), field="purpose")
    return purpose


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(N_("No such person"))
    return person


# The fields of a person record (`id` always comes with them).
PERSON_FIELDS = ("id_number", "name", "sex", "birth_date", "phone", "hukou_region_code", "region_code", "address",
                 "alive", "death_date", "marital_status", "disability_type", "disability_grade",
                 "employment_status", "student_status", "household_id")


def person_search(
    *, id_number: str | None = None, name: str | None = None, birth_date: dt.date | None = None,
    region_code: str | None = None, road: str | None = None, number: str | None = None,
    phone: str | None = None,
) -> tuple[Select[Person], list[str]]:
    """The raw query behind a staff search (unscoped, unreleased: `datahub.persons` scopes it to
    the caller's region and releases what it finds) and the kinds of criteria it uses."""
    q = select(Person)
    kinds: list[str] = []
    if id_number:
        validate_resident_id(id_number.strip().upper(), field="id_number")
        q = q.where(Person.id_number == id_number.strip().upper())
        kinds.append("id_number")
    if name or birth_date:
        if not (name and birth_date):
            raise Invalid(N_("Search by name needs the birth date too"), field="birth_date" if name else "name")
        # a name is stored in its normal form (one kind of middle dot …), so it is searched in it
        q = q.where(Person.name == (text.normalise_name(name) or name.strip()), Person.birth_date == birth_date)
        kinds.append("name+birth_date")
    if phone:
        phone = phone.strip().replace(" ", "").replace("-", "")
        if not (phone.isdigit() and 7 <= len(phone) <= 20):
            raise Invalid(N_("Enter a phone number of digits only"), field="phone")
        q = q.where(Person.phone == phone)
        kinds.append("phone")
    if road or number:
        if not road:
            raise Invalid(N_("Search by address needs the road"), field="road")
        q = q.join(Address, Address.id == Person.address_id).where(Address.road == road.strip())
        if number:
            q = q.where(Address.number == number.strip())
        kinds.append("address")
    if region_code:
        q = q.where(access.within(Person.region_code, region_code))
        kinds.append("region")
    if not kinds or kinds == ["region"]:
        raise Invalid(N_("Give an ID number, a name with a birth date, a phone number or an address"),
                      field="id_number")
    return q, kinds


def household_members(session: Session, household_id: int) -> list[tuple[HouseholdMember, Person]]:
    rows = session.execute(
        select(HouseholdMember, Person).join(Person, Person.id == HouseholdMember.person_id)
        .where(HouseholdMember.household_id == household_id).order_by(Person.birth_date)
    )
    return [(m, p) for m, p in rows]


def household_dict(session: Session, household: Household, members: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": household.id, "household_number": household.household_number,
            "region_code": household.region_code, "housing_area_m2": household.housing_area_m2,
            "vehicles": household.vehicles, "members": members}


# --- the resident's own record ----------------------------------------------------------------


def own_person(session: Session, *, principal: Principal) -> Person:
    access.require(principal, "self.read")
    account = session.get(Account, principal.account_id) if principal.account_id else None
    if account is None or not account.id_number:
        raise NotFound(N_("No registry record is linked to your account"))
    person = session.scalar(select(Person).where(Person.id_number == account.id_number))
    if person is None:
        raise NotFound(N_("No registry record is linked to your account"))
    return person


def my_record(session: Session, *, principal: Principal) -> dict[str, Any]:
    person = own_person(session, principal=principal)
    record(session, actor=principal.actor, action="self.read", subject=masking.subject("person", person.id),
           region_code=person.region_code, details={"what": "record"})
    return person_dict(session, person, masked=False)


def my_household(session: Session, *, principal: Principal) -> dict[str, Any]:
    person = own_person(session, principal=principal)
    if person.household_id is None:
        raise NotFound(N_("You belong to no registered household"))
    household = session.get_one(Household, person.household_id)
    record(session, actor=principal.actor, action="self.read", subject=masking.subject("person", person.id),
           details={"what": "household"})
    # Members see each other's names (they share the 户口簿) but not each other's full ID numbers.
    members = []
    for m, p in household_members(session, household.id):
        d = person_dict(session, p, masked=p.id != person.id)
        if p.id != person.id:
            d["name"] = p.name
        members.append({"relationship": m.relationship, **d})
    return household_dict(session, household, members)


def wards(session: Session, person: Person) -> list[Person]:
    today = today_local()
    rows = session.scalars(
        select(Person).join(Guardianship, Guardianship.ward_person_id == Person.id)
        .where(Guardianship.guardian_person_id == person.id)
        .where((Guardianship.valid_to.is_(None)) | (Guardianship.valid_to >= today))
    )
    return list(rows)


def certificate_dict(c: Certificate) -> dict[str, Any]:
    return {"id": c.id, "type_code": c.type_code, "number": c.number, "issuer_name": c.issuer_name,
            "issuer_code": c.issuer_code, "issue_date": c.issue_date.isoformat(),
            "valid_from": c.valid_from.isoformat() if c.valid_from else None,
            "valid_to": c.valid_to.isoformat() if c.valid_to else None, "status": c.status, "data": c.data}


def my_wallet(session: Session, *, principal: Principal, limit: int = paging.DEFAULT_LIMIT,
              cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's certificates and their wards' (a guardian sees a child's wallet), newest
    first, one page (`core.paging`), with the next page's cursor."""
    person = own_person(session, principal=principal)
    holders = {person.id: (person, "self"), **{w.id: (w, "ward") for w in wards(session, person)}}
    rows, next_cursor = paging.keyset(
        session, select(Certificate).where(Certificate.holder_kind == "person",
                                           Certificate.holder_id.in_(list(holders))),
        Certificate.id, limit=limit, cursor=cursor)
    out = []
    for c in rows:
        holder, relation = holders[c.holder_id]
        out.append({**certificate_dict(c), "holder": {"relation": relation, "person_id": holder.id,
                                                      "name": holder.name}})
    record(session, actor=principal.actor, action="self.read", subject=masking.subject("person", person.id),
           details={"what": "wallet", "wards": len(holders) - 1})
    return out, next_cursor


# --- corrections ---------------------------------------------------------------------------------

# Which department (by id suffix, in the person's county) owns which field of the record.
CORRECTION_OWNERS: dict[str, str] = {
    "name": "police", "phone": "police", "marital_status": "mca",
    "disability_type": "disabled", "disability_grade": "disabled", "employment_status": "hrss",
}
MARITAL = {"single", "married", "divorced", "widowed"}
EMPLOYMENT = {"employed", "unemployed", "retired", "none", "unknown"}
DISABILITY = {"visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple"}


def _check_value(field_name: str, value: str) -> str:
    value = value.strip()
    if field_name == "name":  # the person-name rule of the data elements (docs/packs.md)
        return text.person_name(value, field="requested_value", max_length=50)
    ok = {
        "phone": value.isdigit() and len(value) == 11 and value.startswith("1"),
        "marital_status": value in MARITAL,
        "disability_type": value in DISABILITY,
        "disability_grade": value in {"1", "2", "3", "4"},
        "employment_status": value in EMPLOYMENT,
    }[field_name]
    if not ok:
        raise Invalid(N_("This value is not valid for the field"), field="requested_value")
    return value


def request_correction(
    session: Session, *, principal: Principal, field: str, requested_value: str, reason: str
) -> CorrectionRequest:
    """A resident asks the owning department to correct a field of their record."""
    person = own_person(session, principal=principal)
    if field not in CORRECTION_OWNERS:
        raise Invalid(N_("This field cannot be corrected here"), field="field")
    value = _check_value(field, text.free_text(requested_value, field="requested_value", max_length=200))
    text.free_text(reason, field="reason", max_length=500)
    if len(reason.strip()) < MIN_PURPOSE:
        raise Invalid(N_("Tell us why (at least 4 characters)"), field="reason")
    suffix = "." + CORRECTION_OWNERS[field]
    county = person.region_code[:6]
    dept = session.scalar(select(Department).where(Department.region_code == county,
                                                   Department.id.endswith(suffix, autoescape=True)))
    if dept is None:
        raise Conflict(N_("No department here handles corrections of this field"), field="field")
    cr = CorrectionRequest(person_id=person.id, field=field, requested_value=value, reason=reason.strip(),
                           department_id=dept.id)
    session.add(cr)
    session.flush()
    record(session, actor=principal.actor, action="correction.request", subject=masking.subject("person", person.id),
           department_id=dept.id, region_code=person.region_code, details={"field": field, "request": cr.id})
    return cr


def correction_dict(cr: CorrectionRequest) -> dict[str, Any]:
    return {"id": cr.id, "person_id": cr.person_id, "field": cr.field, "requested_value": cr.requested_value,
            "reason": cr.reason, "department_id": cr.department_id, "status": cr.status,
            "decision_reason": cr.decision_reason, "created_at": cr.created_at.isoformat(),
            "decided_at": cr.decided_at.isoformat() if cr.decided_at else None}


def my_corrections(session: Session, *, principal: Principal, limit: int = paging.DEFAULT_LIMIT,
                   cursor: str | None = None) -> tuple[list[CorrectionRequest], str | None]:
    """The caller's correction requests, newest first, one page."""
    person = own_person(session, principal=principal)
    return paging.keyset(session, select(CorrectionRequest).where(CorrectionRequest.person_id == person.id),
                         CorrectionRequest.id, limit=limit, cursor=cursor)


def correction_queue(session: Session, *, principal: Principal, status: str = "open") -> list[CorrectionRequest]:
    access.require(principal, "person.read")
    q = select(CorrectionRequest).where(CorrectionRequest.status == status)
    q = q.where(access.scope(principal, department=CorrectionRequest.department_id))
    return list(session.scalars(q.order_by(CorrectionRequest.id)))


def decide_correction(
    session: Session, *, principal: Principal, request_id: int, approve: bool, reason: str
) -> CorrectionRequest:
    """The owning department approves (the change is applied) or rejects, with a reason."""
    access.require(principal, "person.read")
    cr = session.get(CorrectionRequest, request_id)
    if cr is None:
        raise NotFound()
    access.require_department(principal, cr.department_id)
    person = get_person(session, cr.person_id)
    access.require_region(principal, person.region_code)
    if cr.status != "open":
        raise Conflict(N_("This request has already been decided"))
    text.free_text(reason, field="reason", max_length=500)
    if len(reason.strip()) < MIN_PURPOSE:
        raise Invalid(N_("Give a reason (at least 4 characters)"), field="reason")
    if approve:
        value: object = int(cr.requested_value) if cr.field == "disability_grade" else cr.requested_value
        setattr(person, cr.field, value)
    cr.status = "approved" if approve else "rejected"
    cr.decision_reason = reason.strip()
    cr.decided_by = principal.account_id
    cr.decided_at = utcnow()
    record(session, actor=principal.actor, actor_department=principal.department_id, action="correction.decide",
           subject=masking.subject("person", person.id), department_id=cr.department_id,
           region_code=person.region_code, details={"request": cr.id, "field": cr.field, "approved": approve})
    return cr

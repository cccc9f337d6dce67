"""Registry factories: persons with valid resident ID numbers, households, addresses, certificates."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core.audit.models import AuditEvent
from tongban.core.db import Database
from tongban.registry.identifiers import org_code_check_char, ric_check_char, uscc_check_char
from tongban.registry.models import Address, Certificate, Guardianship, Household, HouseholdMember, Person

_seq = itertools.count(11)


def id_number_for(birth: dt.date, sex: str, area: str = "330203") -> str:
    """A valid GB 11643 number: area + birth date + sequence (odd for men) + check character."""
    n = next(_seq) % 500
    seq = f"{n * 2 + (1 if sex == 'M' else 0):03d}"
    first17 = f"{area}{birth:%Y%m%d}{seq}"
    return first17 + ric_check_char(first17)


def uscc_for(n: int, area: str = "330203") -> str:
    """A valid 统一社会信用代码 of an enterprise (工商 9, 企业 1) in `area`."""
    body = f"{n:08d}"
    first17 = f"91{area}{body}{org_code_check_char(body)}"
    return first17 + uscc_check_char(first17)


def make_person(
    session: Session, name: str, *, birth: dt.date = dt.date(1985, 6, 1), sex: str = "F",
    region_code: str = "330203001001", phone: str | None = "13912345678", id_number: str | None = None,
    road: str | None = "解放南路", number: str = "88", household: Household | None = None,
    relationship: str = "head",
) -> Person:
    address = None
    if road:
        address = Address(region_code=region_code, road=road, number=number, building="3", unit="2", room="501")
        session.add(address)
        session.flush()
    person = Person(
        id_number=id_number or id_number_for(birth, sex), name=name, sex=sex, birth_date=birth, phone=phone,
        hukou_region_code=region_code[:6], region_code=region_code, address_id=address.id if address else None,
        household_id=household.id if household else None, marital_status="married",
        employment_status="employed",
    )
    session.add(person)
    session.flush()
    if household is not None:
        session.add(HouseholdMember(household_id=household.id, person_id=person.id, relationship=relationship))
        if relationship == "head":
            household.head_person_id = person.id
        session.flush()
    return person


def make_household(session: Session, number: str = "330203000001", region_code: str = "330203001001") -> Household:
    h = Household(household_number=number, region_code=region_code, housing_area_m2=78, vehicles=1)
    session.add(h)
    session.flush()
    return h


def make_certificate(session: Session, holder: Person, type_code: str = "cert.birth-medical",
                     number: str = "Q330203000001") -> Certificate:
    c = Certificate(holder_kind="person", holder_id=holder.id, type_code=type_code, number=number,
                    issuer_name="宁波市妇女儿童医院", issue_date=dt.date(2026, 3, 1))
    session.add(c)
    session.flush()
    return c


def make_guardian(session: Session, guardian: Person, ward: Person) -> None:
    session.add(Guardianship(guardian_person_id=guardian.id, ward_person_id=ward.id, kind="parent"))
    session.flush()


PERSON_FIELDS = ["id", "id_number", "name", "sex", "birth_date", "phone", "region_code", "hukou_region_code",
                 "household_id", "alive", "marital_status", "employment_status", "student_status"]


def make_grant(session: Session, department_id: str, *, dataset_id: str = "ds.person",
               fields: list[str] | None = None, clear: list[str] | None = None, days: int = 30) -> None:
    """A live sharing grant (as if requested and approved)."""
    from tongban.datahub import sharing
    from tongban.datahub.models import SharingRequest

    req = SharingRequest(dataset_id=dataset_id, consumer_department_id=department_id,
                         fields=fields or PERSON_FIELDS, clear_fields=clear or [], purpose="测试用途",
                         legal_basis="测试", period_days=days, requested_by="test", status="pending")
    session.add(req)
    session.flush()
    sharing.approve_request(session, req, decided_by="test", reason="test")


PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


def seed_people(db: Database) -> dict[str, Any]:
    """The demo pack (datasets, departments) and a small cast: a family of three in 海曙 南门
    (mother 李婷 guards the baby, who holds a birth certificate), a stranger 王五 on another road,
    residents' accounts for the mother and the stranger, and officers of 海曙 民政 (granted
    ds.person with id_number, name and phone in clear), 江北 民政 (outside the region) and
    海曙 公安 (owner of ds.person)."""
    from tests.factories import make_resident, make_staff
    from tongban.core.packs.loader import load_pack

    with db.unit_of_work() as s:
        load_pack(s, PACK)
        make_grant(s, "dept.haishu.mca", clear=["id_number", "name", "phone"])
        hh = make_household(s)
        mother = make_person(s, "李婷", birth=dt.date(1994, 8, 21), household=hh)
        father = make_person(s, "张明", birth=dt.date(1992, 3, 15), sex="M", household=hh, relationship="spouse",
                             phone="13800000101")
        baby = make_person(s, "张小宝", birth=dt.date(2026, 3, 1), sex="M", household=hh, relationship="child",
                           phone=None)
        make_guardian(s, mother, baby)
        make_certificate(s, baby)
        stranger = make_person(s, "王五", birth=dt.date(1970, 1, 1), sex="M", road="中山西路")
        make_certificate(s, stranger, number="Q330203000099")
        make_resident(s, "li.ting", id_number=mother.id_number)
        make_resident(s, "wang.wu", id_number=stranger.id_number)
        make_staff(s, "officer.mca", department_id="dept.haishu.mca", roles=["officer"])
        make_staff(s, "officer.jb", department_id="dept.jiangbei.mca", roles=["officer"])
        make_staff(s, "officer.police", department_id="dept.haishu.police", roles=["officer"])
        return {"mother": mother.id, "father": father.id, "baby": baby.id, "stranger": stranger.id,
                "mother_idn": mother.id_number, "father_phone": father.phone, "stranger_idn": stranger.id_number}


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))

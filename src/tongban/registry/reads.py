"""The registry's published read functions: how a scenario (services, screening) reads persons,
households, guardianships and addresses without touching the registry's tables itself (an
import-linter contract keeps `registry.models` out of the scenarios). They return the registry's
records as they are; releasing fields to a caller stays the data hub's decision.

Named in the registry's declaration (registry/slice.py, `reads`) so a slice that may not import
the registry finds them with `core.slices.read("registry.<name>")`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from tongban.core.identity.models import Account
from tongban.registry.geography import Shapes
from tongban.registry.geography import shapes as _shapes
from tongban.registry.models import (
    Address,
    AssetRecord,
    BenefitEnrolment,
    Certificate,
    Guardianship,
    Household,
    HouseholdMember,
    IncomeRecord,
    MedicalSettlement,
    Person,
)

# One query (not the account with its roles, then the person), built once: this is on every
# submission, and building a select with a join costs more than running it.
_PERSON_OF_ACCOUNT = (select(Person).join(Account, Account.id_number == Person.id_number)
                      .where(Account.id == bindparam("account_id")))


def person_of_account(session: Session, account_id: int) -> Person | None:
    """The registry record linked to an account (by its resident ID number)."""
    return session.scalar(_PERSON_OF_ACCOUNT, {"account_id": account_id})


def person(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def person_that_exists(session: Session, person_id: int) -> Person:
    """A person the caller knows exists (a reference held in its own table); raises otherwise."""
    return session.get_one(Person, person_id)


def person_by_id_number(session: Session, id_number: str) -> Person | None:
    return session.scalar(select(Person).where(Person.id_number == id_number))


def household_of(session: Session, person: Person) -> Household | None:
    return session.get(Household, person.household_id) if person.household_id else None


def household_members(session: Session, household_id: int) -> list[tuple[HouseholdMember, Person]]:
    """Each member of the household with their person record."""
    rows = session.execute(select(HouseholdMember, Person).join(Person, Person.id == HouseholdMember.person_id)
                           .where(HouseholdMember.household_id == household_id)).all()
    return [(m, p) for m, p in rows]


def guardianship_in_force(session: Session, *, guardian_id: int, ward_id: int, today: dt.date) -> bool:
    g = session.get(Guardianship, (guardian_id, ward_id))
    return g is not None and (g.valid_to is None or g.valid_to >= today)


def resident_accounts(session: Session, person_ids: Sequence[int], *, active_only: bool = False) -> dict[int, int]:
    """person id → the resident account linked to it (by resident ID number)."""
    out: dict[int, int] = {}
    for chunk in range(0, len(person_ids), 5000):
        q = (select(Person.id, Account.id).join(Account, Account.id_number == Person.id_number)
             .where(Person.id.in_(person_ids[chunk:chunk + 5000]), Account.kind == "resident"))
        if active_only:
            q = q.where(Account.active.is_(True))
        out.update({int(p): int(a) for p, a in session.execute(q)})
    return out


def persons_by_address(session: Session, person_ids: Iterable[int] | Select[Any]
                       ) -> list[tuple[int, Person, Address | None]]:
    """The persons with their addresses, in street order (road, then number; the database's own
    ordering and collation), each with its rank in that order (equal for one road and number).
    `person_ids` may be a select of ids, so a long list stays in the database."""
    ids = person_ids if isinstance(person_ids, Select) else list(person_ids)
    rows = session.execute(select(Person, Address).outerjoin(Address, Address.id == Person.address_id)
                           .where(Person.id.in_(ids)).order_by(Address.road, Address.number, Person.id)).all()
    out: list[tuple[int, Person, Address | None]] = []
    rank, last = -1, None
    for p, a in rows:
        key = (a.road, a.number) if a is not None else None
        if not out or key != last:
            rank, last = rank + 1, key
        out.append((rank, p, a))
    return out


def enrolments_in_force(session: Session, codes: Sequence[str], as_of: dt.date) -> list[tuple[str, str, int]]:
    """(subject kind, benefit code, subject id) of every enrolment in one of `codes` in force on
    `as_of` (started, not ended): who already holds a benefit, for screening."""
    if not codes:
        return []
    q = select(BenefitEnrolment.subject_kind, BenefitEnrolment.benefit_code, BenefitEnrolment.subject_id).where(
        BenefitEnrolment.benefit_code.in_(list(codes)), BenefitEnrolment.start_date <= as_of,
        or_(BenefitEnrolment.end_date.is_(None), BenefitEnrolment.end_date >= as_of))
    return [(str(k), str(c), int(s)) for k, c, s in session.execute(q)]


def persons_present(session: Session, person_ids: Sequence[int]) -> set[int]:
    """Those of `person_ids` that are persons of the registry (a Parquet city's ids may not be)."""
    found: set[int] = set()
    for chunk in range(0, len(person_ids), 5000):
        found.update(int(i) for i in session.scalars(select(Person.id).where(
            Person.id.in_(list(person_ids[chunk:chunk + 5000])))))
    return found


def household_heads(session: Session, household_ids: Sequence[int]) -> dict[int, int]:
    """household id → its head's person id (households without a head are left out)."""
    heads: dict[int, int] = {}
    for chunk in range(0, len(household_ids), 5000):
        heads.update({int(i): int(h) for i, h in session.execute(select(Household.id, Household.head_person_id)
                      .where(Household.id.in_(household_ids[chunk:chunk + 5000]))) if h is not None})
    return heads


def wards_of(session: Session, guardian_id: int) -> list[int]:
    """The person ids of the guardian's wards (any guardianship on record, as wallets show them)."""
    return list(session.scalars(select(Guardianship.ward_person_id).where(Guardianship.guardian_person_id == guardian_id)))


def guardians_of(session: Session, ward_id: int) -> list[int]:
    return list(session.scalars(select(Guardianship.guardian_person_id).where(Guardianship.ward_person_id == ward_id)))


def id_numbers(session: Session, person_ids: Iterable[int]) -> list[str]:
    """The resident ID numbers of the persons."""
    return list(session.scalars(select(Person.id_number).where(Person.id.in_(list(person_ids)))))


def certificate(session: Session, certificate_id: int) -> Certificate | None:
    return session.get(Certificate, certificate_id)


def certificate_that_exists(session: Session, certificate_id: int) -> Certificate:
    return session.get_one(Certificate, certificate_id)


def certificate_by_public_id(session: Session, public_id: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.public_id == public_id))


def certificates_by_number(session: Session, number: str) -> list[Certificate]:
    """The certificates printed with `number` (unique within a type; a few types may share one)."""
    return list(session.scalars(select(Certificate).where(Certificate.number == number).order_by(Certificate.id)))


def certificates_by_id(session: Session, certificate_ids: Iterable[int]) -> dict[int, Certificate]:
    ids = sorted(set(certificate_ids))
    return {c.id: c for c in session.scalars(select(Certificate).where(Certificate.id.in_(ids)))} if ids else {}


def certificates_held(session: Session, holder_ids: Iterable[int], *, after: int | None, limit: int) -> list[Certificate]:
    """The persons' certificates (a wallet), in id order after `after`, at most `limit`."""
    q = select(Certificate).where(Certificate.holder_kind == "person", Certificate.holder_id.in_(list(holder_ids)))
    if after is not None:
        q = q.where(Certificate.id > after)
    return list(session.scalars(q.order_by(Certificate.id).limit(limit)))


class ViewTables(NamedTuple):
    """The registry tables the policy views read in place (the hub's sanctioned bulk path,
    docs/datahub.md): mapped classes, for the views' own aggregate selects."""

    person: type[Person]
    household: type[Household]
    income: type[IncomeRecord]
    assets: type[AssetRecord]
    medical: type[MedicalSettlement]


def view_tables() -> ViewTables:
    return ViewTables(Person, Household, IncomeRecord, AssetRecord, MedicalSettlement)


def shapes(session: Session) -> Shapes:
    """Community centres and district outlines (WGS-84), and the communities' cells."""
    return _shapes(session)


class HouseholdPoints(NamedTuple):
    """Where households live, and nothing else: no id, no name, no address text."""

    region_code: list[str]
    longitude: list[float]
    latitude: list[float]


def household_points(session: Session, region_prefix: str = "") -> HouseholdPoints:
    """The location of every household with a located address (under `region_prefix`), for
    aggregates only: the data hub counts them (`datahub.coverage`) and releases the counts."""
    stmt = (select(Household.region_code, Address.longitude, Address.latitude)
            .join(Address, Address.id == Household.address_id)
            .where(Address.longitude.is_not(None), Address.latitude.is_not(None)))
    if region_prefix:
        stmt = stmt.where(Household.region_code.startswith(region_prefix, autoescape=True))
    codes: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    for code, lon, lat in session.execute(stmt):
        if lon is not None and lat is not None:  # the query's filter: for the type checker
            codes.append(code)
            lons.append(lon)
            lats.append(lat)
    return HouseholdPoints(codes, lons, lats)


def living_residents(session: Session) -> list[tuple[int, str]]:
    """(id, community) of every resident alive, in id order: whom the service-history generator
    (`core.indicators.History`) draws its applicants and callers from. No personal data."""
    return [(int(i), str(r)) for i, r in session.execute(
        select(Person.id, Person.region_code).where(Person.alive.is_(True)).order_by(Person.id))]

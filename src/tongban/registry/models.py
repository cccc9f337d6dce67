"""Registry tables. Money is integer fen; dates are calendar dates in Asia/Shanghai.

The column names here are also the column names of the synthetic city's Parquet files
(`tongban demo generate`), so a generated city loads into these tables as it is.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class Division(Base):
    """An administrative division code of GB/T 2260 (6 digits), current or historical."""

    __tablename__ = "division"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))  # province | city | county
    valid_from: Mapped[int | None] = mapped_column(Integer)  # first year in force, if known
    valid_to: Mapped[int | None] = mapped_column(Integer)  # last year in force; None = current


class Address(Base):
    """统一地址库: a standard address, down to the room."""

    __tablename__ = "address"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)  # community (12 digits)
    road: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(20))
    building: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(20))
    room: Mapped[str | None] = mapped_column(String(20))
    # Where it is, WGS-84 (core.geo): the synthetic city draws a point inside the community's cell.
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)


class RegionShape(Base):
    """A region's place on the map (`geography.yaml`): a community's centre, a district's outline
    (ring of [lon, lat], WGS-84). The demo's shapes are invented (`demo`): real ones come from the
    region's own GIS data, with its 审图号, in its pack."""

    __tablename__ = "region_shape"

    code: Mapped[str] = mapped_column(ForeignKey("region.code", ondelete="CASCADE"), primary_key=True)
    centre_lon: Mapped[float | None] = mapped_column(Float)
    centre_lat: Mapped[float | None] = mapped_column(Float)
    outline: Mapped[list[list[float]] | None] = mapped_column(JSON)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Household(Base):
    """户: a registered household."""

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    household_number: Mapped[str] = mapped_column(String(20), unique=True)  # 户号
    head_person_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    housing_area_m2: Mapped[int | None] = mapped_column(Integer)
    vehicles: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    """A resident of the city (人口库)."""

    __tablename__ = "person"
    __table_args__ = (Index("ix_person_name_birth", "name", "birth_date"), Index("ix_person_phone", "phone"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(1))  # M | F, agrees with the ID number
    birth_date: Mapped[dt.date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    hukou_region_code: Mapped[str] = mapped_column(String(12), index=True)  # may lie outside the city
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)  # residence community
    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    alive: Mapped[bool] = mapped_column(Boolean, default=True)
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    marital_status: Mapped[str] = mapped_column(String(10), default="single")  # single|married|divorced|widowed
    disability_type: Mapped[str | None] = mapped_column(String(12))  # visual|hearing|speech|physical|intellectual|mental|multiple
    disability_grade: Mapped[int | None] = mapped_column(Integer)  # 1 (most severe) … 4
    employment_status: Mapped[str] = mapped_column(String(12), default="unknown")  # employed|unemployed|retired|none|unknown
    student_status: Mapped[str | None] = mapped_column(String(12))  # preschool|primary|junior|senior|vocational|university
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class HouseholdMember(Base):
    """A person's place in a household: 户主, 配偶, 子女, 父母, 孙子女, 兄弟姐妹, 其他."""

    __tablename__ = "household_member"

    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, unique=True)
    relationship: Mapped[str] = mapped_column(String(12))  # head|spouse|child|parent|grandchild|sibling|other


class Guardianship(Base):
    """A guardian may act for a ward (see the ward's wallet, apply on their behalf)."""

    __tablename__ = "guardianship"

    guardian_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    ward_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(12), default="parent")  # parent | appointed
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class LegalEntity(Base):
    """法人库: an organisation with a 统一社会信用代码."""

    __tablename__ = "legal_entity"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(20))  # company|individual|social_org|institution|government
    legal_rep_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    status: Mapped[str] = mapped_column(String(12), default="active")  # active|revoked|cancelled
    established_on: Mapped[dt.date | None] = mapped_column(Date)


class IncomeRecord(Base):
    """One month's income of one person from one source, in fen."""

    __tablename__ = "income_record"
    __table_args__ = (UniqueConstraint("person_id", "month", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    source: Mapped[str] = mapped_column(String(12))  # wage|business|pension|transfer|property|other
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class MedicalSettlement(Base):
    """One medical-insurance settlement (医保结算) of one person: the bill, what the funds paid
    and what the person paid themselves (个人负担: 自付 and 自费), in fen."""

    __tablename__ = "medical_settlement"
    __table_args__ = (Index("ix_medical_settlement_person", "person_id", "settled_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    settled_on: Mapped[dt.date] = mapped_column(Date)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    fund_paid_fen: Mapped[int] = mapped_column(BigInteger)  # basic insurance, serious-illness insurance, aid
    out_of_pocket_fen: Mapped[int] = mapped_column(BigInteger)


class AssetRecord(Base):
    """An asset of a person or household: real estate, vehicle, deposit, securities."""

    __tablename__ = "asset_record"
    __table_args__ = (Index("ix_asset_owner", "owner_kind", "owner_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_kind: Mapped[str] = mapped_column(String(10))  # person | household
    owner_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))  # real_estate|vehicle|deposit|securities
    value_fen: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[dt.date] = mapped_column(Date)


class BenefitEnrolment(Base):
    """A person or household enrolled in a benefit (code from the pack) from a date, until a date."""

    __tablename__ = "benefit_enrolment"
    __table_args__ = (
        Index("ix_enrolment_subject", "subject_kind", "subject_id"),
        # The natural key imports upsert on (migration 0003_registry_api).
        Index("uq_enrolment_natural_key", "subject_kind", "subject_id", "benefit_code", "start_date", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(10))  # person | household
    subject_id: Mapped[int] = mapped_column(BigInteger)
    benefit_code: Mapped[str] = mapped_column(String(64), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # monthly amount, where there is one


def new_public_id() -> str:
    """A certificate's public id: 128 random bits as 32 hex digits, never all digits (so a verify
    link tells it from an old numeric id). Verify links carry it, not the sequential id."""
    while (token := secrets.token_hex(16)).isdigit():
        pass
    return token


class Certificate(Base):
    """电子证照 in a holder's wallet (GB/T 36901–36906 core fields)."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("type_code", "number"), Index("ix_cert_holder", "holder_kind", "holder_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    holder_kind: Mapped[str] = mapped_column(String(10))  # person | entity
    holder_id: Mapped[int] = mapped_column(BigInteger)
    type_code: Mapped[str] = mapped_column(String(64))  # e.g. cert.birth-medical
    number: Mapped[str] = mapped_column(String(64))
    issuer_name: Mapped[str] = mapped_column(String(200))
    issuer_code: Mapped[str | None] = mapped_column(String(18))  # issuer's 统一社会信用代码
    issue_date: Mapped[dt.date] = mapped_column(Date)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="valid")  # valid|revoked|expired
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CorrectionRequest(Base):
    """A resident's request to correct their record, decided by the owning department."""

    __tablename__ = "correction_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    requested_value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open|approved|rejected
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

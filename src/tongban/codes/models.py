"""Code tables: the code types (from packs), the codes issued, and the demo subject datasets.

The subject tables (`code_farm`, `code_product`, `code_domestic_worker`, `code_talent`,
`code_rented_flat`) hold the catalog datasets the demo pack declares for its code types, each
owned by a department in the catalog (datasets.yaml); every read of them goes through the data
hub's release decision. A region with its own systems points its catalog entries at its own
tables instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime


class CodeType(Base):
    """A code type of a pack (`codes.yaml`): its subject dataset, public card and status rules."""

    __tablename__ = "code_type"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. code.domestic-worker
    family_zh: Mapped[str] = mapped_column(String(100))  # 浙农码, 安心码, …
    family_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(200))
    issuer_department_id: Mapped[str] = mapped_column(String(64), index=True)
    dataset_id: Mapped[str] = mapped_column(String(64))  # the subjects (ids) and the public card
    status_dataset_id: Mapped[str] = mapped_column(String(64))  # what the status rules read
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # card fields, rules, green reason
    pack_id: Mapped[str | None] = mapped_column(String(64))


class IssuedCode(Base):
    """One code issued to one subject: the signed payload's parts, and its revocation."""

    __tablename__ = "code_issued"
    __table_args__ = (UniqueConstraint("type_id", "subject_id", name="uq_code_issued_subject"),
                      Index("ix_code_issued_issuer", "issuer_department_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type_id: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    issuer_department_id: Mapped[str] = mapped_column(String(64))
    issued_epoch: Mapped[int] = mapped_column(BigInteger)  # seconds since 1970 UTC, as signed
    kid: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(90))  # base64url, no padding
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    revoke_reason: Mapped[str | None] = mapped_column(String(500))


# --- the demo subject datasets --------------------------------------------------------------------


class Farm(Base):
    """农业经营主体 (farms, co-operatives) for 浙农码."""

    __tablename__ = "code_farm"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(12))
    main_product: Mapped[str] = mapped_column(String(50))
    credit_grade: Mapped[str] = mapped_column(String(2))  # A, B, C, D (信用等级)
    green_certified: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_person_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    inspection_result: Mapped[str] = mapped_column(String(10))  # pass | fail
    inspected_on: Mapped[dt.date] = mapped_column(Date)


class FarmProduct(Base):
    """农产品批次 (product batches) for 浙农码: origin and residue tests."""

    __tablename__ = "code_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    farm_id: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str] = mapped_column(String(50))
    origin: Mapped[str] = mapped_column(String(100))
    harvested_on: Mapped[dt.date] = mapped_column(Date)
    residue_test: Mapped[str] = mapped_column(String(10))  # pass | fail | pending
    tested_on: Mapped[dt.date | None] = mapped_column(Date)


class DomesticWorker(Base):
    """家政服务人员 for 安心码: their public card and their health certificate (健康证)."""

    __tablename__ = "code_domestic_worker"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(20))  # 王阿姨: how they are known, no full name
    services: Mapped[str] = mapped_column(String(100))
    agency: Mapped[str] = mapped_column(String(100))
    star_level: Mapped[int] = mapped_column(Integer)  # 1–5 (星级)
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    health_cert_no: Mapped[str] = mapped_column(String(30))
    health_cert_valid_to: Mapped[dt.date | None] = mapped_column(Date)
    background_check: Mapped[str] = mapped_column(String(10))  # pass | fail | pending


class Talent(Base):
    """认定人才 for 人才码: tier and the term of the recognition."""

    __tablename__ = "code_talent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(20))  # 张先生
    tier: Mapped[str] = mapped_column(String(2))  # A … E (人才分类)
    field: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    employer: Mapped[str] = mapped_column(String(100))
    recognised_on: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)


class RentedFlat(Base):
    """出租房屋 for 出租房一码通: registration, fire check and occupancy."""

    __tablename__ = "code_rented_flat"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    community: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(12))
    rooms: Mapped[int] = mapped_column(Integer)
    max_tenants: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(200))
    landlord_name: Mapped[str] = mapped_column(String(50))
    landlord_phone: Mapped[str] = mapped_column(String(20))
    tenants: Mapped[int] = mapped_column(Integer)
    registered: Mapped[bool] = mapped_column(Boolean, default=True)  # 已备案
    fire_check: Mapped[str] = mapped_column(String(10))  # pass | fail | overdue
    fire_checked_on: Mapped[dt.date | None] = mapped_column(Date)

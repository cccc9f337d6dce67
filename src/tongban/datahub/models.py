"""Data hub tables: catalog datasets and fields, sharing requests and grants, consents, data uses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow

SHARING_TYPES = ("unconditional", "conditional", "none")  # 无条件共享 / 有条件共享 / 不予共享
OPENING_TYPES = ("open", "restricted", "closed")  # 无条件开放 / 受限开放 / 禁止开放


class Dataset(Base):
    """A catalog entry (数据资源目录): what a department holds and on what terms it is shared."""

    __tablename__ = "dataset"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. ds.person
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    owner_department_id: Mapped[str] = mapped_column(ForeignKey("department.id"), index=True)
    source_system: Mapped[str] = mapped_column(String(200), default="")
    update_frequency: Mapped[str] = mapped_column(String(20))  # realtime|daily|weekly|monthly|yearly
    sharing_type: Mapped[str] = mapped_column(String(16))
    legal_basis: Mapped[str | None] = mapped_column(String(500))
    opening_type: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(20), default="1")
    table_name: Mapped[str | None] = mapped_column(String(64))  # the registry table behind it
    parquet_path: Mapped[str | None] = mapped_column(String(500))  # … or a folder of Parquet files
    subject_field: Mapped[str | None] = mapped_column(String(64))  # column naming the person
    pack_id: Mapped[str | None] = mapped_column(String(64))
    # DCAT-AP theme: a code of the EU data-theme vocabulary (SOCI, GOVE, ECON, …); migration 0013
    theme: Mapped[str | None] = mapped_column(String(8))
    # Aggregates over the dataset suppress counts below this (the pack's `aggregates.min_count`); 0021
    min_count: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DatasetField(Base):
    """A field of a dataset with its grade (L1–L4, DB33/T 2350) and display mask."""

    __tablename__ = "dataset_field"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))  # string|integer|date|boolean|money
    grade: Mapped[int] = mapped_column(Integer)  # 1..4
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    mask: Mapped[str | None] = mapped_column(String(16))  # a core.masking mask name
    filterable: Mapped[bool] = mapped_column(Boolean, default=False)


class SharingRequest(Base):
    """A consumer department's request to use a dataset (共享申请)."""

    __tablename__ = "sharing_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id"), index=True)
    consumer_department_id: Mapped[str] = mapped_column(ForeignKey("department.id"), index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    clear_fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # L3 fields asked in clear
    purpose: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str] = mapped_column(String(500))
    period_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|approved|rejected
    requested_by: Mapped[str] = mapped_column(String(80))
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    wait_seconds: Mapped[int | None] = mapped_column(BigInteger)  # request → decision


class Grant(Base):
    """An approved right to read fields of a dataset, for a purpose, until a date (共享授权)."""

    __tablename__ = "data_grant"
    __table_args__ = (Index("ix_grant_lookup", "dataset_id", "consumer_department_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_request.id"), unique=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id"))
    consumer_department_id: Mapped[str] = mapped_column(ForeignKey("department.id"))
    fields: Mapped[list[str]] = mapped_column(JSON)
    clear_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_to: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(80))


class Consent(Base):
    """A resident's authorisation (授权) for a department to use a dataset about them.

    A one-click prefill consent (一键授权) is scoped to a one-thing instead (`scope`): no
    department or dataset, it lets the one-thing's form read the datasets its data elements are
    prefilled from, for the one application it is then used for (`application_ref`)."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_lookup", "person_id", "grantee_department_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    grantee_department_id: Mapped[str | None] = mapped_column(ForeignKey("department.id"))
    dataset_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))
    scope: Mapped[str | None] = mapped_column(String(64))  # e.g. onething.birth: a prefill consent
    purpose: Mapped[str] = mapped_column(String(500))
    application_ref: Mapped[str | None] = mapped_column(String(64))  # one-click consent for one application
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_to: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DataUse(Base):
    """One subject's data in one exchange read: what "who used my data" lists (beside the audit chain)."""

    __tablename__ = "data_use"
    __table_args__ = (Index("ix_data_use_subject", "subject", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    audit_event_id: Mapped[int] = mapped_column(BigInteger, index=True)
    subject: Mapped[str] = mapped_column(String(128))  # person:<pseudonym>
    department_id: Mapped[str | None] = mapped_column(String(64))
    dataset_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DataExport(Base):
    """A Parquet snapshot of granted fields, made by one audited read (e.g. for a screening run)."""

    __tablename__ = "data_export"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id"), index=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"), index=True)
    fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(String(500))
    audit_event_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

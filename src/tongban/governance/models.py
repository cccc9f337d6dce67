"""Governance tables: quality rules as loaded from the pack, runs with per-rule results and
per-dataset scores, quality issues owned by a department; the open-data service halls and
applications for 受限开放 datasets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow

SEVERITY_WEIGHTS = {"low": 1, "medium": 2, "high": 3, "critical": 5}
# 反馈 → 整改 → 核验 → closed
ISSUE_STATUSES = ("reported", "rectifying", "verifying", "closed")


class QualityRule(Base):
    """A quality rule declared in the pack (quality.yaml) for one dataset."""

    __tablename__ = "quality_rule"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(10))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    description_zh: Mapped[str] = mapped_column(String(500))
    description_en: Mapped[str] = mapped_column(String(500))
    pack_id: Mapped[str | None] = mapped_column(String(64))


class QualityRun(Base):
    """One run of the quality rules (all, or one dataset's), as a job."""

    __tablename__ = "quality_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued|done
    requested_by: Mapped[str] = mapped_column(String(80))
    rules: Mapped[int] = mapped_column(Integer, default=0)
    failed_rules: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class QualityResult(Base):
    """What one rule found in one run: rows checked and rows failing."""

    __tablename__ = "quality_result"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("quality_run.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    dataset_id: Mapped[str] = mapped_column(String(64))
    checked: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float | None] = mapped_column(Float)


class QualityScore(Base):
    """A dataset's quality score (0–100) after a run: share of rows passing, weighted by severity."""

    __tablename__ = "quality_score"
    __table_args__ = (Index("ix_quality_score_dataset_at", "dataset_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("quality_run.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    rows: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QualityIssue(Base):
    """问题数据: a failing rule, reported to the dataset's owner department and tracked to closure."""

    __tablename__ = "quality_issue"
    __table_args__ = (Index("ix_quality_issue_dept_status", "department_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    dataset_id: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"))
    status: Mapped[str] = mapped_column(String(12), default="reported")
    checked: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    samples: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # masked
    plan: Mapped[str | None] = mapped_column(Text)
    verifications: Mapped[int] = mapped_column(Integer, default=0)
    last_run_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ServiceHall(Base):
    """A public service hall (政务服务大厅/便民服务中心): open data of the demo (无条件开放)."""

    __tablename__ = "service_hall"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    region_code: Mapped[str] = mapped_column(String(12))
    address: Mapped[str] = mapped_column(String(300))
    opening_hours: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(30))  # the hall's public line, not a person's
    longitude: Mapped[float] = mapped_column(Float)
    latitude: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OpenApplication(Base):
    """An application to download a 受限开放 dataset, decided by its owner department."""

    __tablename__ = "open_application"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(500))
    terms_version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|approved|rejected
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

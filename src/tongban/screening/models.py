"""Tables of proactive services (应享尽享): screening runs and their per policy × region counts,
the eligible-but-not-enrolled cases of each run, the offers made from them (inbox or a
community worker's visit list) and the risk alerts (返贫风险预警) on 民政's worklist.

Per-subject outcomes of a run live in Parquet under the var dir, not here: a city of ten
million people times ten policies is far too many rows for the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class ScreeningRun(Base):
    """筛查批次: one evaluation of the policies over one audited snapshot of the views."""

    __tablename__ = "scr_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(10))  # running | done | failed
    as_of: Mapped[dt.date] = mapped_column(Date)
    backend: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str | None] = mapped_column(String(12))  # None: the whole city
    policy_ids: Mapped[list[str]] = mapped_column(JSON)
    pack_id: Mapped[str | None] = mapped_column(String(64))
    pack_version: Mapped[str | None] = mapped_column(String(32))
    # The content digest of every policy evaluated (`PolicySet.digests`), each the loaded pack's.
    policy_hashes: Mapped[dict[str, str] | None] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # values in force, by region
    snapshot_id: Mapped[str] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(400))  # None: the registry; parquet:<folder>
    previous_run_id: Mapped[int | None] = mapped_column(BigInteger)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_by: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[str | None] = mapped_column(String(64))  # whose grant the snapshot was read on
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ScreeningCount(Base):
    """How many were screened, eligible, enrolled and eligible-but-not-enrolled, per policy and community."""

    __tablename__ = "scr_count"

    run_id: Mapped[int] = mapped_column(ForeignKey("scr_run.id", ondelete="CASCADE"), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    subjects: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[int] = mapped_column(Integer)
    enrolled: Mapped[int] = mapped_column(Integer)
    not_enrolled: Mapped[int] = mapped_column(Integer)


class ScreeningCase(Base):
    """One person found eligible for a policy and not enrolled in its benefit, in one run.

    No foreign key to `person`: a run over views held as Parquet lists subjects by their ids
    there, which the registry of this platform need not hold (the synthetic city)."""

    __tablename__ = "scr_case"
    __table_args__ = (UniqueConstraint("run_id", "policy_id", "person_id"),
                      Index("ix_scr_case_region", "run_id", "region_code"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scr_run.id", ondelete="CASCADE"))
    policy_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    criteria: Mapped[int] = mapped_column(BigInteger)  # bitmap of the criteria met
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    newly_eligible: Mapped[bool] = mapped_column(default=False)


class Offer(Base):
    """主动推送: an offer of a benefit to an eligible person, by inbox message or a home visit.

    sent → seen → applied | declined | expired (a visit-list offer starts at sent too)."""

    __tablename__ = "scr_offer"
    __table_args__ = (Index("ix_scr_offer_visit", "channel", "status", "region_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scr_run.id"), index=True)
    policy_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # inbox | visit
    region_code: Mapped[str] = mapped_column(String(12))
    apply_via: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10))
    application_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_on: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


class RiskAlert(Base):
    """返贫风险预警: a monitoring rule that fired for a person between two snapshots."""

    __tablename__ = "scr_alert"
    __table_args__ = (Index("ix_scr_alert_worklist", "status", "region_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scr_run.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    severity: Mapped[str] = mapped_column(String(8))  # low | medium | high
    status: Mapped[str] = mapped_column(String(12))  # open | acknowledged | closed
    explanation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acted_by: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)

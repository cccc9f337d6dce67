"""Tables of the services layer: the pack's data elements, items (事项), one-things (一件事)
and certificate types as loaded; applications (办件) with one task per item, their timeline,
prefill consents. The inbox is the messaging slice's (tongban.messages).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow


class DataElement(Base):
    """数据元: one piece of data a form asks for, the same wherever it appears."""

    __tablename__ = "svc_element"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(64))


class CertificateType(Base):
    """A kind of 电子证照 the pack's items issue (出生医学证明, 预防接种证 …)."""

    __tablename__ = "svc_certificate_type"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(64))


class ServiceItem(Base):
    """事项: a service item of one department, as declared in the pack."""

    __tablename__ = "svc_item"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(64))


class OneThing(Base):
    """一件事: items applied for together, with their dependencies and computed savings."""

    __tablename__ = "svc_onething"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    savings: Mapped[dict[str, Any]] = mapped_column(JSON)
    pack_id: Mapped[str] = mapped_column(String(64))


class Application(Base):
    """办件: one submission by a resident, for a one-thing or a single item.

    The applicant is the person the application is for; `filed_by_account_id` is who filed it:
    the applicant, their authorised proxy (代办), their guardian, or a counter officer
    (一窗受理). Idempotency keys are the filer's. A resident filed for at a counter may have no
    account (`applicant_account_id` is then empty)."""

    __tablename__ = "svc_application"
    __table_args__ = (UniqueConstraint("filed_by_account_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    applicant_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    applicant_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    onething_id: Mapped[str | None] = mapped_column(String(64))
    item_id: Mapped[str | None] = mapped_column(String(64))
    # draft | submitted | in_progress | completed | partly_completed | rejected | withdrawn
    status: Mapped[str] = mapped_column(String(20), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    items: Mapped[list[str] | None] = mapped_column(JSON)  # a one-thing's items applied for (None: all)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    pack_id: Mapped[str | None] = mapped_column(String(64))
    pack_version: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    consent_id: Mapped[int | None] = mapped_column(Integer)
    filed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    filing: Mapped[str] = mapped_column(String(12), default="self")  # self | proxy | guardian | counter
    filing_consent: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # counter: how the resident agreed
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Task(Base):
    """One item's work inside an application, routed to the item's department."""

    __tablename__ = "svc_task"
    __table_args__ = (Index("ix_svc_task_queue", "department_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("svc_application.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"))
    # blocked | ready | claimed | returned | public_notice | approved | rejected | cancelled
    status: Mapped[str] = mapped_column(String(20))
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    requires: Mapped[list[str]] = mapped_column(JSON)  # item ids this task waits for
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # outputs of prerequisites
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assignee_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    clock_started_on: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    statutory_due_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # 80 % of the time limit flagged
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # past due flagged
    notice_ends_on: Mapped[dt.date | None] = mapped_column(Date)  # last day of the 公示, while in it


class ApplicationEvent(Base):
    """The application's timeline as both sides see it (the audit chain holds the proof)."""

    __tablename__ = "svc_application_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("svc_application.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(BigId)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApplicationMaterial(Base):
    """材料: an upload (content-addressed in the storage) or a wallet certificate given in its place."""

    __tablename__ = "svc_application_material"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("svc_application.id"), index=True)
    material_id: Mapped[str] = mapped_column(String(64))  # the item's material declaration id
    sha256: Mapped[str | None] = mapped_column(String(64), info={"blob": True})  # kept from the orphan sweep
    size: Mapped[int] = mapped_column(Integer, default=0)
    media_type: Mapped[str | None] = mapped_column(String(64))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Authorisation(Base):
    """代办授权: a resident lets another resident apply for them, for one scope, until a date."""

    __tablename__ = "svc_authorisation"
    __table_args__ = (Index("ix_svc_authorisation_proxy", "proxy_person_id", "grantor_person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    grantor_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    proxy_person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    scope: Mapped[str] = mapped_column(String(64))  # "all", a one-thing id or an item id
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CertificateRevocation(Base):
    """A certificate's revocation (吊销/注销) by its issuing department, with the reason."""

    __tablename__ = "svc_certificate_revocation"

    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"))
    reason: Mapped[str] = mapped_column(String(500))
    revoked_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

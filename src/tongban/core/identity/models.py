"""Tables for regions, departments, roles, accounts, API clients and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.core.db import Base, BigId, UTCDateTime
from tongban.core.timeutil import utcnow

# Significant prefix length of a region code at each level (GB/T 2260 and statistical codes).
LEVEL_PREFIX = {"province": 2, "city": 4, "county": 6, "street": 9, "community": 12}


class Region(Base):
    """A node of the one region tree: province → city → county → street → community."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    level: Mapped[str] = mapped_column(String(12))
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    # 帮办热线: the number residents of this region (and below it) call for help; shown on every page
    help_line: Mapped[str | None] = mapped_column(String(20))


class Department(Base):
    """部门: a government department, street office or utility, sitting in one region."""

    __tablename__ = "department"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # stable pack id, e.g. dept.haishu.mca
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="government")
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    pack_id: Mapped[str | None] = mapped_column(String(64))


class Role(Base):
    """A named bundle of permissions (permission codes are fixed in `core.access`)."""

    __tablename__ = "role"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. officer
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    staff: Mapped[bool] = mapped_column(Boolean, default=True)


class Account(Base):
    """A login: a resident (linked to a person by ID number) or a staff member."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))  # resident | staff
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    department_id: Mapped[str | None] = mapped_column(ForeignKey("department.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # 长辈版: the simpler, larger, high-contrast pages, kept on across sessions
    elder_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    roles: Mapped[list[AccountRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="account"
    )

    @property
    def role_ids(self) -> list[str]:
        return sorted(r.role_id for r in self.roles)


class AccountRole(Base):
    __tablename__ = "account_role"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("role.id"), primary_key=True)
    account: Mapped[Account] = relationship(back_populates="roles")


class ApiClient(Base):
    """A machine client of one department (client id + argon2-hashed secret, scopes)."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuthToken(Base):
    """A bearer token or a web session; only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_token"
    __table_args__ = (Index("ix_auth_token_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # bearer | session
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SigningKey(Base):
    """Public half of a signing key; the private half stays in the key directory."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), index=True)  # audit | certificate | code
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519")
    public_key_pem: Mapped[str] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PackRecord(Base):
    """A loaded pack: what later runs record as the content version they used."""

    __tablename__ = "pack"
    __table_args__ = (UniqueConstraint("pack_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

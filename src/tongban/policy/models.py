"""The policies of each loaded pack, by content digest: what a screening run compares the policy
files it reads with, so that it evaluates exactly the loaded pack's policies (and records their
digests), never a folder edited since."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.core.db import Base


class PolicyDigest(Base):
    """One policy (or monitoring rule) of a loaded pack version and the digest of its content
    (`PolicySet.digests`)."""

    __tablename__ = "pol_policy_digest"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))

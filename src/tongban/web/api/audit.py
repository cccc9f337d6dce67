"""Audit log browsing for auditors (filled in by the audit-chain work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["audit"])

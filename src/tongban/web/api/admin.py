"""Operator API: departments, staff, roles, API clients, signing keys."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["admin"])

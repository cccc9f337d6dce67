"""Registry API: staff search and person view through the one read path; residents' own record."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["registry"])

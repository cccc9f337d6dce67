"""Surrogate ids as they arrive from outside: a positive 64-bit signed integer, no more.

Both databases store ids as BIGINT; a larger number from a path, a query or a body would reach
the driver and fail there (a 500). `Id` refuses it at validation instead (422 naming the field).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A record's surrogate id, for path, query and body parameters."""


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID

Version = Annotated[int, Field(ge=0, le=MAX_ID)]
"""An optimistic-locking version a client sends back (see docs/api-conventions.md)."""

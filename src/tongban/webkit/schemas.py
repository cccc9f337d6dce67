"""Response shapes shared by every API router (see docs/api-conventions.md)."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list: `items`, and `next_cursor` (opaque) when more follow."""

    items: list[T]
    next_cursor: str | None = None

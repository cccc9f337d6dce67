"""Keyset pages of a list (docs/api-conventions.md, "Lists and cursor pagination").

A cursor is the id of the last item of a page, opaque to clients (base64 of the decimal id). A
list ordered by id, newest or oldest first, takes `limit + 1` rows after the cursor: the extra
row says whether another page follows. Ids are unique and never reused, so a page is stable
under inserts: an item is never skipped or repeated while a client pages.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import Field

from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.core.ids import valid_id

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
"""How many items a page holds (a query parameter: `limit: Limit = DEFAULT_LIMIT`)."""

T = TypeVar("T")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor stands for; None for no cursor (the first page). A cursor this module did
    not make — not base64, not a number, or no id a table can hold — is `Invalid` (`cursor`)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        if not raw.isdigit() or len(raw) > 19 or not valid_id(int(raw)):
            raise ValueError(raw)
        return int(raw)
    except (ValueError, UnicodeError, binascii.Error):
        raise Invalid(N_("The cursor is not valid"), field="cursor") from None


def check_limit(limit: int) -> int:
    """For callers that are not a request model: the same bound `Limit` holds."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(N_("limit must be between 1 and 200"), field="limit")
    return limit


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], int]) -> tuple[list[T], str | None]:
    """The first `limit` of the `limit + 1` rows fetched, and the cursor of the next page: the
    `key` (id) of the page's last row, or None on the last page."""
    if len(rows) > limit:
        return list(rows[:limit]), encode_cursor(key(rows[limit - 1]))
    return list(rows), None


def keyset(session: Any, query: Any, column: Any, *, limit: int, cursor: str | None,
           newest_first: bool = True) -> tuple[list[Any], str | None]:
    """One page of `query` (a `select` of one entity) ordered by `column` (its id): the rows after
    `cursor` (an `Invalid` naming `cursor` if it is not one of ours), at most `limit` (an
    `Invalid` naming `limit` beyond 1…200), and the next page's cursor or None."""
    check_limit(limit)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(column < after if newest_first else column > after)
    rows = list(session.scalars(query.order_by(column.desc() if newest_first else column).limit(limit + 1)))
    name = column.key
    return page_of(rows, limit, key=lambda r: int(getattr(r, name)))

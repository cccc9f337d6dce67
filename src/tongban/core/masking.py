"""Masking and pseudonymisation: the one module every display of personal data goes through.

Display formats follow common Chinese practice (GB/T 35273 display limits): 姓名 张*,
身份证 first 6 + last 4, 手机 138****1234, address cut after the road, bank card last 4.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_key: bytes = b""


def configure(secret_key: str) -> None:
    """Set the key for pseudonyms (the app factory and the CLI call this with TONGBAN_SECRET_KEY)."""
    global _key
    _key = secret_key.encode()


@dataclass(frozen=True)
class Piece:
    """One shape of a masked value: `prefix` + the first `head` characters (None: all) + stars +
    the last `tail` characters + `suffix`. Stars: `stars` of them, or (None) as many as the
    characters hidden, at least `min_stars`."""

    head: int | None = 0
    tail: int = 0
    stars: int | None = None
    min_stars: int = 0
    prefix: str = ""
    suffix: str = ""


# Each mask is a list of (minimum length, shape), longest first: the first whose minimum the
# value reaches applies. The per-record Python form (`apply`) and the per-column Polars form
# (`mask_expr`) are both built from this one table, so they cannot drift apart. None stays None
# and an empty value stays empty under every mask.
SHAPES: dict[str, tuple[tuple[int, Piece], ...]] = {
    # 姓名 张* / 张**
    "name": ((1, Piece(head=1, min_stars=1)),),
    # 身份证 first 6 + last 4; a short (malformed) number keeps only its first and last character
    "id_number": ((11, Piece(head=6, tail=4)), (3, Piece(head=1, tail=1)), (1, Piece())),
    # 手机 138****1234
    "phone": ((7, Piece(head=3, tail=4, stars=4)), (1, Piece())),
    # an address shown only up to its road: the number, building and room are cut
    "address": ((1, Piece(head=None, stars=0, suffix=" ***")),),
    # bank card: last 4
    "bank_card": ((1, Piece(tail=4, stars=0, prefix="**** ")),),
    # a date generalised to its year (quasi-identifier)
    "year": ((1, Piece(head=4, stars=0)),),
}
# A field with no named mask is shown as `***`.
DEFAULT_SHAPE: tuple[tuple[int, Piece], ...] = ((1, Piece(stars=0, prefix="***")),)


def _shapes(mask: str | None) -> tuple[tuple[int, Piece], ...]:
    return SHAPES.get(mask or "", DEFAULT_SHAPE)


def _apply_piece(p: Piece, text: str) -> str:
    n = len(text)
    head = n if p.head is None else min(p.head, n)
    tail = min(p.tail, n - head)
    stars = p.stars if p.stars is not None else max(p.min_stars, n - head - tail)
    return p.prefix + text[:head] + "*" * stars + (text[n - tail:] if tail else "") + p.suffix


def apply(mask: str | None, value: object) -> str | None:
    """Mask one value for display (the per-record form of `mask_expr`)."""
    if value is None:
        return None
    text = str(value)
    if not text:
        return text
    for minimum, piece in _shapes(mask):
        if len(text) >= minimum:
            return _apply_piece(piece, text)
    return "*" * len(text)  # unreachable: every table ends with a minimum of 1


def name(value: str | None) -> str | None:
    return apply("name", value)


def id_number(value: str | None) -> str | None:
    return apply("id_number", value)


def phone(value: str | None) -> str | None:
    return apply("phone", value)


def address(road: str | None) -> str | None:
    """An address shown only up to its road: the number, building and room are cut."""
    return apply("address", road)


def bank_card(value: str | None) -> str | None:
    return apply("bank_card", value)


def date_to_year(value: object) -> str | None:
    """Generalise a date to its year (quasi-identifier)."""
    return apply("year", value)


MASKS: dict[str, Callable[..., str | None]] = {
    "name": name, "id_number": id_number, "phone": phone, "address": address, "bank_card": bank_card,
    "year": date_to_year,
}


def mask_expr(mask: str | None, column: str) -> Any:
    """The same display masks as a Polars expression over a whole column, named after it."""
    return _mask_expr(mask, column).alias(column)


def _piece_expr(p: Piece, c: Any) -> Any:
    import polars as pl

    n = c.str.len_chars()
    head = n if p.head is None else pl.min_horizontal(n, pl.lit(p.head))
    tail = pl.min_horizontal(pl.lit(p.tail), n - head)
    stars = pl.lit(p.stars) if p.stars is not None else pl.max_horizontal(pl.lit(p.min_stars), n - head - tail)
    out = c.str.slice(0, head) + pl.lit("*").repeat_by(stars).list.join("") + c.str.slice(n - tail, tail)
    if p.prefix:
        out = pl.lit(p.prefix) + out
    if p.suffix:
        out = out + pl.lit(p.suffix)
    return out


def _mask_expr(mask: str | None, column: str) -> Any:
    import polars as pl

    c = pl.col(column).cast(pl.String)
    n = c.str.len_chars()
    expr = pl.when(c.is_null()).then(pl.lit(None, dtype=pl.String)).when(n == 0).then(pl.lit(""))
    for minimum, piece in _shapes(mask):
        expr = expr.when(n >= minimum).then(_piece_expr(piece, c))
    return expr.otherwise(pl.lit(None, dtype=pl.String))


def pseudonym(value: str, *, key: bytes | None = None) -> str:
    """A deterministic keyed pseudonym (HMAC-SHA256, 24 hex characters) for analytic exports and logs."""
    k = key if key is not None else _key
    if not k:
        raise RuntimeError("masking.configure(secret_key) has not been called")
    return hmac.new(k, value.encode(), hashlib.sha256).hexdigest()[:24]


def subject(kind: str, record_id: int | str) -> str:
    """How the audit chain names a record about a person without naming them: `person:<pseudonym>`."""
    return f"{kind}:{pseudonym(f'{kind}:{record_id}')}"

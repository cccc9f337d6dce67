"""Masking and pseudonymisation: the one module every display of personal data goes through.

Display formats follow common Chinese practice (GB/T 35273 display limits): 姓名 张*,
身份证 first 6 + last 4, 手机 138****1234, address cut after the road, bank card last 4.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

_key: bytes = b""


def configure(secret_key: str) -> None:
    """Set the key for pseudonyms (the app factory and the CLI call this with TONGBAN_SECRET_KEY)."""
    global _key
    _key = secret_key.encode()


def name(value: str | None) -> str | None:
    if not value:
        return value
    return value[0] + "*" * max(1, len(value) - 1)


def id_number(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) <= 10:
        return value[:1] + "*" * (len(value) - 2) + value[-1:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def phone(value: str | None) -> str | None:
    if not value:
        return value
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "****" + value[-4:]


def address(road: str | None) -> str | None:
    """An address shown only up to its road: the number, building and room are cut."""
    if not road:
        return road
    return road + " ***"


def bank_card(value: str | None) -> str | None:
    if not value:
        return value
    return "**** " + value[-4:]


def date_to_year(value: object) -> str | None:
    """Generalise a date to its year (quasi-identifier)."""
    return None if value is None else str(value)[:4]


MASKS: dict[str, Callable[..., str | None]] = {
    "name": name, "id_number": id_number, "phone": phone, "address": address, "bank_card": bank_card,
    "year": date_to_year,
}


def mask_expr(mask: str | None, column: str) -> Any:
    """The same display masks as a Polars expression over a whole column, named after it."""
    return _mask_expr(mask, column).alias(column)


def _mask_expr(mask: str | None, column: str) -> Any:
    # A field with no named mask is shown as `***`.
    import polars as pl

    c = pl.col(column).cast(pl.String)
    stars = pl.lit("*")
    if mask == "id_number":
        return pl.when(c.str.len_chars() > 10).then(
            c.str.slice(0, 6) + stars.repeat_by(c.str.len_chars() - 10).list.join("") + c.str.slice(-4)
        ).otherwise(c.str.slice(0, 1) + pl.lit("****") + c.str.slice(-1))
    if mask == "name":
        return c.str.slice(0, 1) + stars.repeat_by(pl.max_horizontal(c.str.len_chars() - 1, 1)).list.join("")
    if mask == "phone":
        return pl.when(c.str.len_chars() >= 7).then(c.str.slice(0, 3) + pl.lit("****") + c.str.slice(-4)).otherwise(
            stars.repeat_by(c.str.len_chars()).list.join(""))
    if mask == "year":
        return c.str.slice(0, 4)
    if mask == "bank_card":
        return pl.lit("**** ") + c.str.slice(-4)
    if mask == "address":
        return c + pl.lit(" ***")
    return pl.when(c.is_null()).then(None).otherwise(pl.lit("***"))


def pseudonym(value: str, *, key: bytes | None = None) -> str:
    """A deterministic keyed pseudonym (HMAC-SHA256, 24 hex characters) for analytic exports and logs."""
    k = key if key is not None else _key
    if not k:
        raise RuntimeError("masking.configure(secret_key) has not been called")
    return hmac.new(k, value.encode(), hashlib.sha256).hexdigest()[:24]


def subject(kind: str, record_id: int | str) -> str:
    """How the audit chain names a record about a person without naming them: `person:<pseudonym>`."""
    return f"{kind}:{pseudonym(f'{kind}:{record_id}')}"

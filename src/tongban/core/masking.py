"""Masking and pseudonymisation: the one module every display of personal data goes through.

Display formats follow common Chinese practice (GB/T 35273 display limits): 姓名 张*,
身份证 first 6 + last 4, 手机 138****1234, address cut after the road, bank card last 4.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

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


def pseudonym(value: str, *, key: bytes | None = None) -> str:
    """A deterministic keyed pseudonym (HMAC-SHA256, 24 hex characters) for analytic exports and logs."""
    k = key if key is not None else _key
    if not k:
        raise RuntimeError("masking.configure(secret_key) has not been called")
    return hmac.new(k, value.encode(), hashlib.sha256).hexdigest()[:24]


def subject(kind: str, record_id: int | str) -> str:
    """How the audit chain names a record about a person without naming them: `person:<pseudonym>`."""
    return f"{kind}:{pseudonym(f'{kind}:{record_id}')}"

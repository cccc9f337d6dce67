"""The code itself: a compact payload signed with Ed25519, as it goes into a QR code.

    payload   = "1|<type>|<subject>|<issuer>|<issued, epoch seconds>|<key id>"   (UTF-8)
    signature = Ed25519 over b"tongban-code\\n" + payload                      (the code key)
    code      = base64url(payload) "." base64url(signature)                   (no padding)

Nothing but the published public keys is needed to check a code (`verify`); the payload holds no
personal data (the subject is a record id of the type's dataset). This module imports no database.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = "1"
DOMAIN = b"tongban-code\n"
MAX_CODE = 400  # a longer string is not a code (and is not decoded)
_TYPE = re.compile(r"^[a-z][a-z0-9.\-]{0,63}$")
_DEPT = re.compile(r"^[a-z][a-z0-9.\-]{0,63}$")
_KID = re.compile(r"^[A-Za-z0-9\-]{1,80}$")


class BadCode(ValueError):
    """Not a code tongban issued: malformed, or its signature does not hold. `reason` is a key
    of REASONS (stable, for callers and tests); the message says it for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(REASONS[reason])
        self.reason = reason


REASONS = {
    "malformed": "not a code: it cannot be read",
    "unknown_key": "signed with a key that is not among the public keys",
    "bad_signature": "the signature does not match: the code was altered or forged",
}


@dataclass(frozen=True)
class Payload:
    type_id: str
    subject_id: int
    issuer: str
    issued_epoch: int
    kid: str

    def bytes(self) -> bytes:
        return "|".join((VERSION, self.type_id, str(self.subject_id), self.issuer, str(self.issued_epoch),
                         self.kid)).encode()

    @property
    def identifier(self) -> str:
        """How the revocation list names the code (one code per type and subject)."""
        return identifier(self.type_id, self.subject_id)

    @property
    def issued_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.issued_epoch, dt.UTC)


def identifier(type_id: str, subject_id: int) -> str:
    return f"code:{type_id}:{subject_id}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: Ed25519PrivateKey, payload: Payload) -> str:
    """The base64url signature of `payload`."""
    return b64(key.sign(DOMAIN + payload.bytes()))


def assemble(payload: Payload, signature: str) -> str:
    return f"{b64(payload.bytes())}.{signature}"


def parse(code: str) -> tuple[Payload, bytes]:
    """The payload and the raw signature of `code`, unchecked. BadCode("malformed") if unreadable."""
    code = code.strip()
    if not code or len(code) > MAX_CODE or code.count(".") != 1:
        raise BadCode("malformed")
    head, _, sig = code.partition(".")
    try:
        parts = unb64(head).decode().split("|")
        signature = unb64(sig)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCode("malformed") from None
    if len(parts) != 6 or parts[0] != VERSION or len(signature) != 64:
        raise BadCode("malformed")
    _, type_id, subject, issuer, epoch, kid = parts
    if not (_TYPE.match(type_id) and _DEPT.match(issuer) and _KID.match(kid) and subject.isdigit()
            and epoch.isdigit() and len(subject) <= 18 and len(epoch) <= 12):
        raise BadCode("malformed")
    payload = Payload(type_id, int(subject), issuer, int(epoch), kid)
    if b64(payload.bytes()) != head:  # one spelling only (no leading zeros, no padding tricks)
        raise BadCode("malformed")
    return payload, signature


def verify(code: str, public_keys: Mapping[str, str | Ed25519PublicKey]) -> Payload:
    """The payload of `code` if it is signed by one of `public_keys` (kid → PEM or key); else BadCode."""
    payload, signature = parse(code)
    key = public_keys.get(payload.kid)
    if key is None:
        raise BadCode("unknown_key")
    if isinstance(key, str):
        loaded = serialization.load_pem_public_key(key.encode())
        if not isinstance(loaded, Ed25519PublicKey):
            raise BadCode("unknown_key")
        key = loaded
    try:
        key.verify(signature, DOMAIN + payload.bytes())
    except InvalidSignature:
        raise BadCode("bad_signature") from None
    return payload

"""电子证照: certificates issued into a holder's wallet as signed documents.

A certificate's document holds the GB/T 36901 core fields (identifier, type, number, holder and
holder code, issuer and issuer code, issue date, validity) and the surface data of its type; it
is signed with Ed25519 over its canonical JSON and names the key id. `verify_document` checks a
document with nothing but the published public keys (offline); `verify_online` also rebuilds
the document from the stored row and reports revocation.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from tongban.core import masking
from tongban.core.audit.log import record
from tongban.core.errors import NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Department
from tongban.core.keys import Keyring
from tongban.registry.models import Certificate, Person
from tongban.services.models import CertificateType

DOCUMENT_FIELDS = ("identifier", "type", "type_name", "number", "holder", "holder_code", "holder_code_type",
                   "issuer", "issuer_code", "issue_date", "valid_from", "valid_to", "data")


def canonical(document: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: the document's fields (not kid/signature), keys sorted, UTF-8."""
    return orjson.dumps({k: document.get(k) for k in DOCUMENT_FIELDS}, option=orjson.OPT_SORT_KEYS)


def issue(session: Session, *, keyring: Keyring, type_id: str, holder: Person, values: Mapping[str, Any],
          issue_date: dt.date, actor: str, application_id: int | None = None) -> Certificate:
    """Issue a certificate of `type_id` to `holder`, signed, with the type's fields from `values`."""
    ctype = session.get(CertificateType, type_id)
    if ctype is None:
        raise NotFound(N_("No such certificate type"))
    definition = ctype.definition
    issuer = session.get_one(Department, definition["issuer"])
    number = f"{definition['number_prefix']}{issue_date:%Y%m%d}{secrets.randbelow(10**8):08d}"
    valid_to = None
    if definition.get("valid_years"):
        valid_to = issue_date.replace(year=issue_date.year + int(definition["valid_years"]))
    surface = {f: values.get(f) for f in definition.get("fields", [])}
    cert = Certificate(holder_kind="person", holder_id=holder.id, type_code=type_id, number=number,
                       issuer_name=issuer.name_zh, issuer_code=definition.get("issuer_code"),
                       issue_date=issue_date, valid_from=issue_date, valid_to=valid_to, status="valid",
                       data={})
    doc = _document(cert, type_name=definition["title"]["zh"], holder_name=holder.name,
                    holder_code=holder.id_number, surface=surface)
    kid, signature = keyring.sign("certificate", canonical(doc))
    cert.data = {"type_name": doc["type_name"], "holder": holder.name, "holder_code": holder.id_number,
                 "surface": surface, "application_id": application_id, "kid": kid, "signature": signature}
    session.add(cert)
    session.flush()
    record(session, actor=actor, action="certificate.issue", subject=masking.subject("person", holder.id),
           department_id=issuer.id, details={"certificate": cert.id, "type": type_id, "kid": kid,
                                             "application": application_id})
    return cert


def _document(cert: Certificate, *, type_name: str, holder_name: str, holder_code: str,
              surface: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "identifier": f"{cert.type_code}:{cert.issuer_code or '-'}:{cert.number}",
        "type": cert.type_code, "type_name": type_name, "number": cert.number,
        "holder": holder_name, "holder_code": holder_code, "holder_code_type": "resident_id",
        "issuer": cert.issuer_name, "issuer_code": cert.issuer_code,
        "issue_date": cert.issue_date.isoformat(),
        "valid_from": cert.valid_from.isoformat() if cert.valid_from else None,
        "valid_to": cert.valid_to.isoformat() if cert.valid_to else None,
        "data": dict(surface),
    }


def document(cert: Certificate) -> dict[str, Any]:
    """The signed document of a stored certificate, as the holder downloads it."""
    d = cert.data or {}
    doc = _document(cert, type_name=d.get("type_name", ""), holder_name=d.get("holder", ""),
                    holder_code=d.get("holder_code", ""), surface=d.get("surface", {}))
    doc.update(kid=d.get("kid"), signature=d.get("signature"), algorithm="Ed25519")
    return doc


def verify_document(doc: Mapping[str, Any], public_keys: Mapping[str, str]) -> bool:
    """Offline check: is `doc` signed by one of `public_keys` (kid → PEM), unchanged since?"""
    kid, signature = doc.get("kid"), doc.get("signature")
    if not isinstance(kid, str) or not isinstance(signature, str) or kid not in public_keys:
        return False
    try:
        key = serialization.load_pem_public_key(public_keys[kid].encode())
        if not isinstance(key, Ed25519PublicKey):
            return False
        key.verify(base64.b64decode(signature), canonical(doc))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_online(session: Session, *, keyring: Keyring, certificate_id: int,
                  today: dt.date) -> dict[str, Any]:
    """What a verifier sees: valid only if the signature holds, it is not revoked and not expired."""
    cert = session.get(Certificate, certificate_id)
    if cert is None:
        raise NotFound(N_("No such certificate"))
    doc = document(cert)
    signature_ok = bool(doc["kid"] and doc["signature"]) and keyring.verify(doc["kid"], canonical(doc),
                                                                             doc["signature"])
    expired = cert.valid_to is not None and cert.valid_to < today
    status = "expired" if cert.status == "valid" and expired else cert.status
    return {"valid": signature_ok and status == "valid", "signature_valid": signature_ok, "status": status,
            "kid": doc["kid"], "type": cert.type_code, "type_name": doc["type_name"], "number": cert.number,
            "issuer": cert.issuer_name, "issue_date": doc["issue_date"], "valid_to": doc["valid_to"]}

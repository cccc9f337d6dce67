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
from typing import TYPE_CHECKING, Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban import messages
from tongban.core import access, clock, masking
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_
from tongban.core.identity.models import Account, Department
from tongban.core.keys import Keyring
from tongban.core.timeutil import utcnow
from tongban.registry import reads, writes
from tongban.services.models import CertificateRevocation, CertificateType

if TYPE_CHECKING:  # the record types only; the registry's functions do the reading and writing
    from tongban.registry.models import Certificate, Person

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
    cert = writes.new_certificate(holder_id=holder.id, type_code=type_id, number=number,
                                  issuer_name=issuer.name_zh, issuer_code=definition.get("issuer_code"),
                                  issue_date=issue_date, valid_to=valid_to)
    doc = _document(cert, type_name=definition["title"]["zh"], holder_name=holder.name,
                    holder_code=holder.id_number, surface=surface)
    kid, signature = keyring.sign("certificate", canonical(doc))
    cert.data = {"type_name": doc["type_name"], "holder": holder.name, "holder_code": holder.id_number,
                 "surface": surface, "application_id": application_id, "kid": kid, "signature": signature}
    writes.put_in_wallet(session, certificate=cert)
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
    try:
        data = canonical(doc)
    except TypeError:  # a field JSON cannot hold: not a document anyone signed
        return False
    return _signed_by(data, doc.get("kid"), doc.get("signature"), public_keys)


def _signed_by(data: bytes, kid: Any, signature: Any, public_keys: Mapping[str, str]) -> bool:
    """Is `signature` over `data` by the key `kid` of `public_keys`? Malformed input is simply no."""
    if not isinstance(kid, str) or not isinstance(signature, str) or kid not in public_keys:
        return False
    try:
        key = serialization.load_pem_public_key(public_keys[kid].encode())
        if not isinstance(key, Ed25519PublicKey):
            return False
        key.verify(base64.b64decode(signature), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def verify_online(session: Session, *, keyring: Keyring, certificate_id: int,
                  today: dt.date) -> dict[str, Any]:
    """What a verifier sees: valid only if the signature holds, it is not revoked and not expired."""
    cert = reads.certificate(session, certificate_id)
    if cert is None:
        raise NotFound(N_("No such certificate"))
    doc = document(cert)
    signature_ok = bool(doc["kid"] and doc["signature"]) and keyring.verify(doc["kid"], canonical(doc),
                                                                             doc["signature"])
    expired = cert.valid_to is not None and cert.valid_to < today
    status = "expired" if cert.status == "valid" and expired else cert.status
    revocation = session.get(CertificateRevocation, cert.id) if cert.status == "revoked" else None
    return {"valid": signature_ok and status == "valid", "signature_valid": signature_ok, "status": status,
            "revoked_at": revocation.revoked_at.isoformat() if revocation else None, "kid": doc["kid"], "type": cert.type_code, "type_name": doc["type_name"], "number": cert.number,
            "issuer": cert.issuer_name, "issue_date": doc["issue_date"], "valid_to": doc["valid_to"]}


# --- QR codes, the public verify page, revocation -------------------------------------------------


def verify_path(cert: Certificate) -> str:
    """The public verify page of a certificate, by its opaque public id (the sequential id would
    let anyone walk every certificate), carrying its signature so the page can check that the
    code was made from the certificate as issued (a code copied onto another paper fails)."""
    signature = (cert.data or {}).get("signature") or ""
    sig = base64.urlsafe_b64encode(base64.b64decode(signature)).decode().rstrip("=") if signature else ""
    return f"/verify/{cert.public_id}?sig={sig}"


def by_public_ref(session: Session, ref: str) -> Certificate | None:
    """The certificate a verify link names: its opaque public id, or — on codes printed before
    public ids existed — its numeric id. None when there is none."""
    if ref.isdigit():
        return reads.certificate(session, int(ref)) if len(ref) <= 18 else None
    return reads.certificate_by_public_id(session, ref) if len(ref) <= 32 else None


def qr_svg(url: str) -> bytes:
    """The QR code (error correction M) of `url` as an SVG image."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue()


def signature_matches(cert: Certificate, sig: str | None) -> bool:
    """Does the signature from a verify URL belong to this certificate?"""
    stored = (cert.data or {}).get("signature")
    if not sig or not stored:
        return False
    try:
        given = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        return secrets.compare_digest(given, base64.b64decode(stored))
    except (ValueError, TypeError):
        return False


def public_view(session: Session, *, keyring: Keyring, ref: str, sig: str | None,
                today: dt.date) -> dict[str, Any]:
    """What the public verify page shows: valid / invalid / revoked / expired and the minimum
    about the holder (a masked name). Unknown ids and codes that do not match read "invalid",
    with nothing about the certificate (the page shows details only for a matching code)."""
    cert = by_public_ref(session, ref)
    if cert is None:
        return {"state": "invalid", "found": False}
    result = verify_online(session, keyring=keyring, certificate_id=cert.id, today=today)
    state = ("invalid" if not (result["signature_valid"] and signature_matches(cert, sig))
             else result["status"] if result["status"] != "valid" else "valid")
    if state == "invalid":  # a code that does not match learns nothing of the certificate
        return {"state": "invalid", "found": False}
    view = {**result, "state": state, "found": True, "holder": masking.name((cert.data or {}).get("holder"))}
    view.pop("kid", None)
    return view


LEGACY_FIELDS = ("valid", "signature_valid", "status")


def verify_by_number(session: Session, *, keyring: Keyring, certificate_id: int, sig: str | None,
                     today: dt.date) -> dict[str, Any]:
    """The API check by sequential id (what old clients and codes printed before public ids use).
    Ids can be walked, so without the certificate's own signature (`sig`, as on its QR code) it
    answers only whether the certificate is valid — not its type, number, issuer or dates."""
    result = verify_online(session, keyring=keyring, certificate_id=certificate_id, today=today)
    cert = reads.certificate_that_exists(session, certificate_id)
    if signature_matches(cert, sig):
        return {**result, "public_id": cert.public_id}
    return {k: result[k] for k in LEGACY_FIELDS}


def _issuing_department(session: Session, cert: Certificate) -> str | None:
    ctype = session.get(CertificateType, cert.type_code)
    return str(ctype.definition["issuer"]) if ctype is not None else None


def revoke(session: Session, *, principal: access.Principal, certificate_id: int, reason: str | None,
           now: dt.datetime | None = None) -> Certificate:
    """Revoke (注销) a certificate: staff of the issuing department, with the reason."""
    access.require(principal, "task.decide")
    cert = reads.certificate(session, certificate_id)
    if cert is None:
        raise NotFound(N_("No such certificate"))
    access.require_department(principal, _issuing_department(session, cert))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(N_("Give the reason for the revocation"), field="reason")
    if len(reason) > 500:
        raise Invalid(N_("This value is too long"), field="reason")
    if cert.status == "revoked":
        raise Conflict(N_("This certificate is already revoked"), field="status")
    now = now or utcnow()
    writes.revoke_certificate(certificate=cert)
    session.add(CertificateRevocation(certificate_id=cert.id, department_id=principal.department_id or "",
                                      reason=reason, revoked_by=principal.actor, revoked_at=now))
    session.flush()
    record(session, actor=principal.actor, actor_department=principal.department_id, action="certificate.revoke",
           subject=masking.subject("person", cert.holder_id), department_id=principal.department_id,
           details={"certificate": cert.id, "type": cert.type_code, "reason": reason})
    for account_id in _wallet_accounts(session, cert):
        messages.send(session, to=account_id, kind="certificate.revoked", link="/portal/wallet",
                      params={"certificate": cert.id, "type": cert.type_code, "reason": reason,
                              "name": (cert.data or {}).get("type_name") or cert.type_code})
    return cert


def _wallet_accounts(session: Session, cert: Certificate) -> list[int]:
    """The resident accounts whose wallet shows the certificate: its holder's and, for a ward
    (a newborn), each guardian's."""
    if cert.holder_kind != "person":
        return []
    numbers = reads.id_numbers(session, [cert.holder_id, *reads.guardians_of(session, cert.holder_id)])
    return sorted(session.scalars(select(Account.id).where(Account.kind == "resident",
                                                           Account.id_number.in_(numbers))))


def _revocations_body(session: Session, now: dt.datetime) -> dict[str, Any]:
    revocations = list(session.scalars(select(CertificateRevocation).order_by(CertificateRevocation.certificate_id)))
    certs = reads.certificates_by_id(session, [r.certificate_id for r in revocations])
    rows = [(r, certs[r.certificate_id]) for r in revocations if r.certificate_id in certs]
    return {"issued_at": now.isoformat(), "revoked": [
        {"id": c.id, "identifier": f"{c.type_code}:{c.issuer_code or '-'}:{c.number}", "type": c.type_code,
         "number": c.number, "revoked_at": r.revoked_at.isoformat()} for r, c in rows]}


def _revocations_bytes(body: Mapping[str, Any]) -> bytes:
    return orjson.dumps({"issued_at": body.get("issued_at"), "revoked": body.get("revoked")},
                        option=orjson.OPT_SORT_KEYS)


def revocation_list(session: Session, *, keyring: Keyring, now: dt.datetime | None = None) -> dict[str, Any]:
    """The public list of revoked certificates, signed with the certificate key (for offline verifiers)."""
    body = _revocations_body(session, now or utcnow())
    kid, signature = keyring.sign("certificate", _revocations_bytes(body))
    return {**body, "kid": kid, "signature": signature, "algorithm": "Ed25519"}


def verify_revocation_list(rl: Mapping[str, Any], public_keys: Mapping[str, str]) -> bool:
    return isinstance(rl.get("revoked"), list) and _signed_by(_revocations_bytes(rl), rl.get("kid"),
                                                              rl.get("signature"), public_keys)


def verify_offline(doc: Mapping[str, Any], public_keys: Mapping[str, str],
                   revocations: Mapping[str, Any] | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Offline check of a document: signature, expiry, and — given a signed revocation list —
    revocation. Raises ValueError if the revocation list itself is not validly signed."""
    signature_ok = verify_document(doc, public_keys)
    revoked: bool | None = None
    if revocations is not None:
        if not verify_revocation_list(revocations, public_keys):
            raise ValueError("the revocation list is not signed by a known key")
        revoked = any(r.get("identifier") == doc.get("identifier") for r in revocations["revoked"])
    valid_to = doc.get("valid_to")
    expired = bool(valid_to) and dt.date.fromisoformat(str(valid_to)) < (today or clock.today())
    status = "revoked" if revoked else "expired" if expired else "valid"
    return {"valid": signature_ok and status == "valid", "signature_valid": signature_ok, "status": status,
            "revocation_checked": revocations is not None,
            "revocations_issued_at": revocations.get("issued_at") if revocations is not None else None}

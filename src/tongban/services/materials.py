"""材料: the files and certificates an application comes with.

An upload is typed by its content (PDF, JPEG, PNG magic bytes; a name that claims another type
is refused), limited to the size its item declares, stored once by SHA-256 in the `Storage`,
and linked to the application. In place of an upload the applicant may name a certificate of
the accepted type from their own wallet (or a ward's). Only the application's parties may list
and download them; every staff read is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tongban.core import access, masking
from tongban.core.audit.log import record
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_, pick
from tongban.core.storage import Storage
from tongban.core.timeutil import utcnow
from tongban.registry import reads as registry_reads
from tongban.services import onething
from tongban.services.models import Application, ApplicationMaterial, ServiceItem

# kind → (media type, magic bytes, file name endings that claim it)
KINDS: dict[str, tuple[str, bytes, tuple[str, ...]]] = {
    "pdf": ("application/pdf", b"%PDF-", (".pdf",)),
    "jpg": ("image/jpeg", b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n", (".png",)),
}
MAX_BYTES = 51200 * 1024  # the largest a pack may declare (max_kb ≤ 51200)
EDITABLE = ("draft", "submitted", "in_progress")


def sniff(data: bytes) -> str | None:
    """The kind of file `data` is by its first bytes: pdf, jpg, png, or None."""
    for kind, (_, magic, _) in KINDS.items():
        if data.startswith(magic):
            return kind
    return None


def declared(items: Sequence[ServiceItem]) -> dict[str, dict[str, Any]]:
    """The materials the items ask for, each once; those a sibling item itself issues are not asked."""
    issued = {i.definition["outputs"].get("certificate") for i in items} - {None}
    out: dict[str, dict[str, Any]] = {}
    for i in items:
        for m in i.definition.get("materials", []):
            if m.get("certificate") in issued:
                continue
            seen = out.get(m["id"])
            if seen is None:
                out[m["id"]] = {**m, "required": bool(m.get("required", True)), "items": [i.id]}
            else:  # declared by several items: the strictest declaration holds
                seen["required"] = seen["required"] or bool(m.get("required", True))
                seen["max_kb"] = min(seen["max_kb"], m["max_kb"])
                seen["types"] = [t for t in seen["types"] if t in m["types"]]
                seen["items"].append(i.id)
    return out


def _items(session: Session, app: Application) -> list[ServiceItem]:
    if app.onething_id is not None:
        return onething.items_of(session, onething.get_onething(session, app.onething_id), app.items)
    return [onething.get_item(session, str(app.item_id))]


def _attached(session: Session, application_id: int) -> list[ApplicationMaterial]:
    return list(session.scalars(select(ApplicationMaterial).where(ApplicationMaterial.application_id == application_id)
                                .order_by(ApplicationMaterial.id)))


def require_complete(session: Session, *, application: Application | None, items: Sequence[ServiceItem]) -> None:
    """Refuse a submission while a required material is neither uploaded nor given by certificate."""
    have = {m.material_id for m in _attached(session, application.id)} if application is not None else set()
    for mid, decl in declared(items).items():
        if decl["required"] and mid not in have:
            raise Invalid(N_("Attach the material: %(name)s"), field=f"materials.{mid}", name=pick(decl["title"]))


def _for_upload(session: Session, principal: access.Principal, application_id: int,
                material_id: str) -> tuple[Application, dict[str, Any]]:
    """The application a party may add materials to, and the material's declaration: the
    applicant, or whoever filed it (a proxy, a guardian, the counter officer)."""
    access.require_any(principal, "self.apply", "counter.file")
    app = session.get(Application, application_id)
    own = app is not None and (app.filed_by_account_id == principal.account_id or (
        app.status != "draft" and app.applicant_account_id == principal.account_id))
    if app is None or not own:
        raise access.NotYours(N_("No such application"), principal=principal, action="application.material")
    if app.status not in EDITABLE:
        raise Conflict(N_("This application is no longer open"), field="status")
    decl = declared(_items(session, app)).get(material_id)
    if decl is None:
        raise Invalid(N_("This application asks for no such material"), field="material_id")
    return app, decl


def attach_upload(session: Session, *, storage: Storage, principal: access.Principal, application_id: int,
                  material_id: str, filename: str | None, data: bytes) -> ApplicationMaterial:
    """Check an uploaded file by its content and size, store it, link it to the application."""
    app, decl = _for_upload(session, principal, application_id, material_id)
    if not data:
        raise Invalid(N_("The file is empty"), field="file")
    if len(data) > int(decl["max_kb"]) * 1024:
        raise Invalid(N_("The file is larger than %(kb)s KB"), field="file", kb=decl["max_kb"])
    kind = sniff(data)
    if kind is None:
        raise Invalid(N_("The file is not a PDF, JPEG or PNG document"), field="file")
    name = (filename or "").lower()
    claimed = next((k for k, (_, _, ends) in KINDS.items() if name.endswith(ends)), None)
    if claimed is not None and claimed != kind:
        raise Invalid(N_("The file's content does not match its name"), field="file")
    if kind not in decl["types"]:
        raise Invalid(N_("This material must be one of: %(types)s"), field="file", types=", ".join(decl["types"]))
    digest = storage.put(data)
    row = ApplicationMaterial(application_id=app.id, material_id=material_id, sha256=digest, size=len(data),
                              media_type=KINDS[kind][0], uploaded_by=principal.actor, created_at=utcnow())
    session.add(row)
    session.flush()
    record(session, actor=principal.actor, action="material.upload", subject=f"application:{app.id}",
           region_code=app.region_code, details={"material": material_id, "row": row.id, "sha256": digest,
                                                 "size": len(data), "media_type": row.media_type})
    return row


def attach_certificate(session: Session, *, principal: access.Principal, application_id: int, material_id: str,
                       certificate_id: int) -> ApplicationMaterial:
    """Give a wallet certificate (the applicant's own or their ward's) in place of an upload."""
    app, decl = _for_upload(session, principal, application_id, material_id)
    if not decl.get("certificate"):
        raise Invalid(N_("This material cannot be given by a certificate"), field="certificate_id")
    cert = registry_reads.certificate(session, certificate_id)
    applicant = app.applicant_person_id
    holders = {applicant} | (set(registry_reads.wards_of(session, applicant)) if applicant is not None else set())
    if cert is None or cert.holder_kind != "person" or cert.holder_id not in holders:
        raise access.Denied(N_("This certificate is not in the applicant's wallet"), principal=principal,
                            action="material.certificate", field="certificate_id")
    if cert.type_code != decl["certificate"]:
        raise Invalid(N_("This certificate is not of the accepted type"), field="certificate_id")
    if cert.status != "valid":
        raise Invalid(N_("This certificate is not valid"), field="certificate_id")
    row = ApplicationMaterial(application_id=app.id, material_id=material_id, certificate_id=cert.id, size=0,
                              uploaded_by=principal.actor, created_at=utcnow())
    session.add(row)
    session.flush()
    record(session, actor=principal.actor, action="material.certificate", subject=f"application:{app.id}",
           region_code=app.region_code, details={"material": material_id, "row": row.id,
                                                 "certificate": cert.id})
    return row


def _readable(session: Session, principal: access.Principal, application_id: int) -> Application:
    from tongban.services.applications import get_application

    return get_application(session, principal=principal, application_id=application_id, audit=False)


def _audit_staff_read(session: Session, principal: access.Principal, app: Application,
                      details: Mapping[str, Any]) -> None:
    if principal.kind != "resident":
        record(session, actor=principal.actor, actor_department=principal.department_id, action="material.read",
               subject=masking.subject("person", app.applicant_person_id or 0), region_code=app.region_code,
               purpose="application review", details={"application": app.id, **details})


def list_materials(session: Session, *, principal: access.Principal, application_id: int) -> list[ApplicationMaterial]:
    """The application's materials, for its parties (a staff read is audited)."""
    app = _readable(session, principal, application_id)
    rows = _attached(session, app.id)
    _audit_staff_read(session, principal, app, {"list": len(rows)})
    return rows


def open_material(session: Session, *, storage: Storage, principal: access.Principal, application_id: int,
                  material_row_id: int) -> tuple[ApplicationMaterial, bytes]:
    """Download one uploaded material (a staff read is audited)."""
    app = _readable(session, principal, application_id)
    row = session.get(ApplicationMaterial, material_row_id)
    if row is None or row.application_id != app.id or row.sha256 is None:
        raise NotFound(N_("No such material"))
    _audit_staff_read(session, principal, app, {"material": row.material_id, "row": row.id})
    return row, storage.get(row.sha256)


def material_dict(row: ApplicationMaterial) -> dict[str, Any]:
    return {"id": row.id, "material_id": row.material_id, "sha256": row.sha256, "size": row.size,
            "media_type": row.media_type, "certificate_id": row.certificate_id, "uploaded_by": row.uploaded_by,
            "created_at": row.created_at}


# --- what the pages show -------------------------------------------------------------------------


def asked(items: Sequence[ServiceItem]) -> dict[str, dict[str, Any]]:
    """The materials a form of `items` asks (`declared`), each with its title in the reader's language."""
    return {mid: {**d, "title_text": pick(d["title"])} for mid, d in declared(items).items()}


def wallet_offers(session: Session, *, principal: access.Principal,
                  asked_: Mapping[str, Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each material that a certificate may stand in for: the valid certificates of that type
    held by the caller or their wards (what `attach_certificate` takes), newest first. Reading
    the wallet is recorded as the wallet page records it (`self.read`)."""
    wanted = {d["certificate"] for d in asked_.values() if d.get("certificate")}
    me = registry_reads.person_of_account(session, principal.account_id) if principal.account_id else None
    if me is None or not wanted:
        return {}
    person_id = me.id
    holders = {person_id, *registry_reads.wards_of(session, person_id)}
    certs = [c for c in registry_reads.certificates_held(session, holders, after=None, limit=500)
             if c.type_code in wanted and c.status == "valid"]
    names = {}
    for h in holders:
        p = registry_reads.person(session, h)
        names[h] = p.name if p is not None else ""
    record(session, actor=principal.actor, action="self.read", subject=masking.subject("person", person_id),
           details={"what": "wallet", "for": "materials", "wards": len(holders) - 1})
    out: dict[str, list[dict[str, Any]]] = {}
    for mid, d in asked_.items():
        if d.get("certificate"):
            out[mid] = [{"id": c.id, "type_name": (c.data or {}).get("type_name") or c.type_code, "number": c.number,
                         "holder": names.get(c.holder_id, ""), "own": c.holder_id == person_id}
                        for c in sorted(certs, key=lambda c: -c.id) if c.type_code == d["certificate"]]
    return out


def rows_view(session: Session, app: Application, rows: Sequence[ApplicationMaterial]) -> list[dict[str, Any]]:
    """The attached materials as a page lists them: the material's title, the file's kind and
    size or the certificate given (its type, number and state)."""
    titles = {mid: d["title_text"] for mid, d in asked(_items(session, app)).items()}
    certs = registry_reads.certificates_by_id(session, [r.certificate_id for r in rows if r.certificate_id])
    out = []
    for r in rows:
        cert = certs.get(r.certificate_id) if r.certificate_id else None
        kind = next((k for k, (media, _, _) in KINDS.items() if media == r.media_type), None)
        out.append({"id": r.id, "material_id": r.material_id, "title": titles.get(r.material_id, r.material_id),
                    "kind": {"jpg": "JPEG"}.get(kind, kind.upper()) if kind else None, "kb": max(1, (r.size + 1023) // 1024) if r.size else 0,
                    "certificate": None if cert is None else {
                        "id": cert.id, "type_name": (cert.data or {}).get("type_name") or cert.type_code,
                        "number": cert.number, "status": cert.status},
                    "created_at": r.created_at, "file": r.sha256 is not None})
    return out

"""材料: uploads checked by content and size, stored once by SHA-256, linked to the application,
read only by its parties (staff reads audited); a wallet certificate in place of an upload; a
required material missing stops the submission, naming it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tests.services.conftest import CHEN_ID, ZHANG_ID, birth_data, person_id
from tongban.core.audit.models import AuditEvent
from tongban.core.storage import LocalStorage
from tongban.registry.models import Certificate
from tongban.services.models import ApplicationMaterial, ServiceItem

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def draft(client, headers) -> int:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/applications", headers=headers,
                       json={"onething_id": "onething.birth", "draft": True, "data": birth_data()})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


def upload(client, headers, app_id: int, material_id: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/applications/{app_id}/materials", headers=headers,
                       data={"material_id": material_id}, files={"file": (name, data, "application/octet-stream")})


def certificate(db, holder_id: int, type_code: str = "cert.marriage") -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        c = Certificate(holder_kind="person", holder_id=holder_id, type_code=type_code, number=f"N{holder_id}",
                        issuer_name="海曙区民政局", issue_date=dt.date(2020, 5, 20), status="valid", data={})
        s.add(c)
        s.flush()
        return int(c.id)


def test_an_upload_is_stored_by_its_hash_and_read_back_only_by_the_parties(client, login, demo, settings) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app_id = draft(client, zhang)
    resp = upload(client, zhang, app_id, "mat.delivery-record", "record.pdf", PDF)
    assert resp.status_code == 201, resp.text
    row = resp.json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row["sha256"], row["size"], row["media_type"]) == (digest, len(PDF), "application/pdf")
    assert LocalStorage(Path(settings.var_dir) / "blobs").get(digest) == PDF
    listed = client.get(f"/api/v1/applications/{app_id}/materials", headers=zhang).json()["items"]
    assert [m["material_id"] for m in listed] == ["mat.delivery-record"]
    got = client.get(f"/api/v1/applications/{app_id}/materials/{row['id']}", headers=zhang)
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    chen = login("resident.chen")
    assert client.get(f"/api/v1/applications/{app_id}/materials/{row['id']}", headers=chen).status_code == 404
    assert client.get(f"/api/v1/applications/{app_id}/materials", headers=chen).status_code == 404
    assert upload(client, chen, app_id, "mat.delivery-record", "x.pdf", PDF).status_code == 404


def test_storage_writes_atomically_and_once_per_content(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    a, b = store.put(PNG), store.put(PNG)
    assert a == b == hashlib.sha256(PNG).hexdigest() and store.get(a) == PNG
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [a]  # no temporary file left


def test_uploads_too_big_or_of_the_wrong_kind_are_refused_and_nothing_is_kept(client, login, demo, settings) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app_id = draft(client, zhang)
    cases = [("mat.photo", "photo.png", PNG + b"\x00" * (1024 * 1024)),  # declared max 1024 KB
             ("mat.delivery-record", "record.pdf", PNG),  # a .pdf name holding a PNG
             ("mat.delivery-record", "record.txt", b"just some text"),
             ("mat.photo", "photo.pdf", PDF),  # a photo must be JPEG or PNG
             ("mat.delivery-record", "empty.pdf", b"")]
    for material, name, data in cases:
        resp = upload(client, zhang, app_id, material, name, data)
        assert resp.status_code == 422 and resp.json()["field"] == "file", (name, resp.text)
    resp = upload(client, zhang, app_id, "mat.nothing", "x.pdf", PDF)
    assert resp.status_code == 422 and resp.json()["field"] == "material_id"
    assert count(demo, ApplicationMaterial) == 0
    assert not (Path(settings.var_dir) / "blobs").exists()
    assert upload(client, zhang, app_id, "mat.photo", "photo.jpg", JPEG).status_code == 201


def test_a_wallet_certificate_stands_in_for_an_upload_but_only_the_applicants_own(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app_id = draft(client, zhang)
    others = certificate(demo, person_id(demo, CHEN_ID))
    url = f"/api/v1/applications/{app_id}/materials"
    resp = client.post(url, headers=zhang, data={"material_id": "mat.marriage-certificate", "certificate_id": others})
    assert resp.status_code == 403 and resp.json()["field"] == "certificate_id"
    wrong_type = certificate(demo, person_id(demo, ZHANG_ID), "cert.vaccination")
    resp = client.post(url, headers=zhang, data={"material_id": "mat.marriage-certificate", "certificate_id": wrong_type})
    assert resp.status_code == 422 and resp.json()["field"] == "certificate_id"
    resp = client.post(url, headers=zhang, data={"material_id": "mat.delivery-record", "certificate_id": wrong_type})
    assert resp.status_code == 422 and resp.json()["field"] == "certificate_id"
    assert count(demo, ApplicationMaterial) == 0
    own = certificate(demo, person_id(demo, ZHANG_ID))
    resp = client.post(url, headers=zhang, data={"material_id": "mat.marriage-certificate", "certificate_id": own})
    assert resp.status_code == 201 and resp.json()["certificate_id"] == own and resp.json()["sha256"] is None


def _require_photo(db) -> None:  # type: ignore[no-untyped-def]
    """Make the social-security card's photo a required material (the demo pack waives it)."""
    with db.unit_of_work() as s:
        item = s.get_one(ServiceItem, "item.social-security-card")
        d = json.loads(json.dumps(item.definition))
        for m in d["materials"]:
            if m["id"] == "mat.photo":
                m["required"] = True
        item.definition = d


def test_a_missing_required_material_stops_the_submission_naming_it(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    _require_photo(demo)
    zhang = login("resident.zhang")
    direct = client.post("/api/v1/applications", headers={**zhang, "Idempotency-Key": "k-1"},
                         json={"onething_id": "onething.birth", "data": birth_data()})
    assert direct.status_code == 422 and direct.json()["field"] == "materials.mat.photo"
    assert "证件照片" in direct.json()["detail"]  # the material by its title
    app_id = draft(client, zhang)
    refused = client.post(f"/api/v1/applications/{app_id}/submit", headers={**zhang, "Idempotency-Key": "s-1"})
    assert refused.status_code == 422 and refused.json()["field"] == "materials.mat.photo"
    assert upload(client, zhang, app_id, "mat.photo", "me.png", PNG).status_code == 201
    done = client.post(f"/api/v1/applications/{app_id}/submit", headers={**zhang, "Idempotency-Key": "s-1"})
    assert done.status_code == 201 and len(done.json()["tasks"]) == 5


def test_staff_of_an_involved_department_read_materials_and_every_read_is_audited(client, login, demo) -> None:  # type: ignore[no-untyped-def]
    zhang = login("resident.zhang")
    app_id = draft(client, zhang)
    row = upload(client, zhang, app_id, "mat.delivery-record", "r.pdf", PDF).json()
    assert client.get(f"/api/v1/applications/{app_id}/materials", headers=login("officer.health")).status_code == 404
    assert client.post(f"/api/v1/applications/{app_id}/submit",
                       headers={**zhang, "Idempotency-Key": "s-1"}).status_code == 201
    health = login("officer.health")
    assert client.get(f"/api/v1/applications/{app_id}/materials", headers=health).status_code == 200
    assert client.get(f"/api/v1/applications/{app_id}/materials/{row['id']}", headers=health).content == PDF
    assert client.get(f"/api/v1/applications/{app_id}/materials", headers=login("officer.tax")).status_code == 404
    client.get(f"/api/v1/applications/{app_id}/materials", headers=zhang)
    with demo.unit_of_work() as s:
        reads: list[Any] = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "material.read")))
    assert len(reads) == 2 and {r.actor_department for r in reads} == {"dept.haishu.health"}

"""Certificates: the QR code for the holder, the public verify page (no login; a masked holder
name), revocation by the issuing department, the signed public revocation list, and
`tongban cert verify FILE [--revocations FILE]` offline."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from tests.services.test_clock_and_certificates import _issued
from tongban.core.audit.models import AuditEvent
from tongban.core.keys import keyring_for
from tongban.registry.models import Certificate
from tongban.services import certificates


def _path(demo, cert_id: int) -> str:  # type: ignore[no-untyped-def]
    with demo.unit_of_work() as s:
        return certificates.verify_path(s.get_one(Certificate, cert_id))


def test_the_holder_gets_a_qr_code_of_the_verify_url(client, login, demo, settings) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    resp = client.get(f"/api/v1/certificates/{cert_id}/qr.svg", headers=login("resident.zhang"))
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/svg+xml"
    assert resp.content == certificates.qr_svg("http://testserver" + _path(demo, cert_id))
    assert _path(demo, cert_id).startswith(f"/verify/{cert_id}?sig=")
    assert client.get(f"/api/v1/certificates/{cert_id}/qr.svg", headers=login("resident.chen")).status_code == 404
    assert client.get(f"/api/v1/certificates/{cert_id}/qr.svg").status_code == 401


def test_the_public_page_says_valid_with_a_masked_name_and_invalid_for_a_foreign_code(client, demo, settings) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    page = client.get(_path(demo, cert_id))
    assert page.status_code == 200 and 'data-state="valid"' in page.text
    assert "张明" not in page.text and "张*" in page.text and "330203199203150314" not in page.text
    forged = client.get(f"/verify/{cert_id}?sig=AAAA")
    assert 'data-state="invalid"' in forged.text and "张*" not in forged.text
    assert 'data-state="invalid"' in client.get(f"/verify/{cert_id}").text
    assert 'data-state="invalid"' in client.get("/verify/999999?sig=AAAA").text


def test_the_issuing_department_revokes_with_a_reason_and_verifiers_see_it(client, login, demo, settings) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)  # a vaccination certificate, issued by the CDC
    url = f"/api/v1/certificates/{cert_id}/revoke"
    assert client.post(url, headers=login("officer.health"), json={"reason": "错误签发"}).status_code == 403
    assert client.post(url, headers=login("resident.zhang"), json={"reason": "不要了"}).status_code == 403
    blank = client.post(url, headers=login("officer.cdc"), json={"reason": "  "})
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    assert client.get(f"/api/v1/certificates/{cert_id}/verify").json()["valid"] is True
    done = client.post(url, headers=login("officer.cdc"), json={"reason": "信息有误，重新签发"})
    assert done.status_code == 200 and (done.json()["valid"], done.json()["status"]) == (False, "revoked")
    assert client.post(url, headers=login("officer.cdc"), json={"reason": "again"}).status_code == 409
    assert client.get(f"/api/v1/certificates/{cert_id}/verify").json()["status"] == "revoked"
    assert 'data-state="revoked"' in client.get(_path(demo, cert_id)).text
    with demo.unit_of_work() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.revoke"))
        assert event.actor_department == "dept.haishu.cdc"


def test_the_revocation_list_is_public_signed_and_checked_offline(client, login, demo, settings, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    doc = client.get(f"/api/v1/me/certificates/{cert_id}/document", headers=login("resident.zhang")).json()
    doc_file, rl_file = tmp_path / "cert.json", tmp_path / "revocations.json"
    doc_file.write_text(json.dumps(doc, ensure_ascii=False))
    rl_file.write_text(client.get("/api/v1/certificates/revocations").text)
    result = cli("cert", "verify", str(doc_file), "--revocations", str(rl_file))
    assert result.exit_code == 0 and "VALID" in result.output

    client.post(f"/api/v1/certificates/{cert_id}/revoke", headers=login("officer.cdc"), json={"reason": "信息有误"})
    rl = client.get("/api/v1/certificates/revocations").json()
    assert [r["id"] for r in rl["revoked"]] == [cert_id] and "reason" not in rl["revoked"][0]
    public = {k.kid: k.public_key_pem for k in keyring_for(settings).list()}
    assert certificates.verify_revocation_list(rl, public)
    assert not certificates.verify_revocation_list({**rl, "revoked": []}, public)  # dropping an entry breaks it
    rl_file.write_text(json.dumps(rl))
    revoked = cli("cert", "verify", str(doc_file), "--revocations", str(rl_file))
    assert revoked.exit_code == 1 and "revoked" in revoked.output
    unchecked = cli("cert", "verify", str(doc_file))  # offline without a list cannot know
    assert unchecked.exit_code == 0 and "not checked" in unchecked.output
    rl_file.write_text(json.dumps({**rl, "revoked": []}))
    assert cli("cert", "verify", str(doc_file), "--revocations", str(rl_file)).exit_code not in (0, 1)
    doc_file.write_text(json.dumps({**doc, "holder": "王五"}, ensure_ascii=False))
    assert cli("cert", "verify", str(doc_file)).exit_code == 1

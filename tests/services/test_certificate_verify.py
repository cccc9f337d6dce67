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
    with demo.unit_of_work() as s:
        public_id = s.get_one(Certificate, cert_id).public_id
    assert _path(demo, cert_id).startswith(f"/verify/{public_id}?sig=")  # opaque, not the sequential id
    assert len(public_id) == 32 and not public_id.isdigit()
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


def _legacy_path(demo, cert_id: int) -> str:  # type: ignore[no-untyped-def]
    """The link QR codes printed before public ids carried: the numeric id and the signature."""
    return f"/verify/{cert_id}?" + _path(demo, cert_id).split("?", 1)[1]


def test_numeric_links_already_printed_keep_verifying_but_show_nothing_without_their_code(client, demo, settings) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    old_code = client.get(_legacy_path(demo, cert_id))
    assert 'data-state="valid"' in old_code.text and "张*" in old_code.text
    walked = client.get(f"/verify/{cert_id}")  # enumerating ids without their codes
    assert 'data-state="invalid"' in walked.text and "张*" not in walked.text
    with demo.unit_of_work() as s:
        number = s.get_one(Certificate, cert_id).number
    assert number not in walked.text and number in old_code.text


def test_the_numeric_api_check_tells_only_validity_without_the_signature(client, demo, settings) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    bare = client.get(f"/api/v1/certificates/{cert_id}/verify").json()
    assert bare == {"valid": True, "signature_valid": True, "status": "valid"}  # no type, number, issuer
    sig = _path(demo, cert_id).split("sig=", 1)[1]
    full = client.get(f"/api/v1/certificates/{cert_id}/verify?sig={sig}").json()
    assert full["valid"] is True and full["number"] and full["type"] and full["public_id"]
    by_public = client.get(f"/api/v1/certificates/public/{full['public_id']}/verify")
    assert by_public.status_code == 200 and by_public.json()["number"] == full["number"]
    assert client.get("/api/v1/certificates/public/0123456789abcdef0123456789abcdef/verify").status_code == 404
    assert client.get(f"/api/v1/certificates/public/{cert_id}/verify").status_code == 404  # not by number


def test_the_migration_gives_existing_certificates_a_public_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    import pytest
    from sqlalchemy import exc, text

    from tongban.core import migrate
    from tongban.core.db import Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(db, "0020_merge")
    with db.engine.begin() as conn:
        for n in ("A1", "A2"):
            conn.execute(text("INSERT INTO certificate (holder_kind, holder_id, type_code, number, issuer_name, "
                              "issue_date, status, data, created_at) VALUES ('person', 1, 'cert.x', :n, 'x', "
                              ":d, 'valid', '{}', :d)"), {"n": n, "d": dt.date(2026, 1, 1)})
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT public_id FROM certificate"))]
    assert len(ids) == 2 and len(set(ids)) == 2 and all(len(i) == 32 and not i.isdigit() for i in ids)
    with db.engine.begin() as conn, pytest.raises(exc.IntegrityError):
        conn.execute(text("UPDATE certificate SET public_id = :p"), {"p": ids[0]})  # unique
    db.dispose()

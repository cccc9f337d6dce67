"""A revoked certificate's holder — and whoever sees it in their wallet as a guardian — gets an
inbox message with the reason; nobody else does."""

from __future__ import annotations

from tests.services.conftest import person_id
from tests.services.test_clock_and_certificates import _issued
from tests.services.test_pages import as_user
from tongban.registry.models import Guardianship


def _messages(client, headers) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return client.get("/api/v1/me/messages", headers={**headers, "Accept-Language": "en"}).json()["items"]


def test_the_holder_and_a_guardian_are_told_of_a_revocation(client, login, demo, db, settings) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)  # held by resident.zhang
    zhang, chen = person_id(db, "330203199203150314"), person_id(db, "330203198511020285")
    with demo.unit_of_work() as s:  # chen sees zhang's wallet as an appointed guardian
        s.add(Guardianship(guardian_person_id=chen, ward_person_id=zhang, kind="appointed"))
    zhang_h, chen_h, wang_h = login("resident.zhang"), login("resident.chen"), login("resident.wang")
    before = {"zhang": len(_messages(client, zhang_h)), "wang": len(_messages(client, wang_h))}
    done = client.post(f"/api/v1/certificates/{cert_id}/revoke", headers=login("officer.cdc"),
                       json={"reason": "信息有误，重新签发"})
    assert done.status_code == 200, done.text
    for headers in (zhang_h, chen_h):
        revoked = [m for m in _messages(client, headers) if m["kind"] == "certificate.revoked"]
        assert len(revoked) == 1
        assert revoked[0]["title"] == "A certificate in your wallet was revoked"
        assert revoked[0]["params"] == {"certificate": cert_id, "type": "cert.vaccination", "reason": "信息有误，重新签发",
                                        "name": "预防接种证"}
        assert revoked[0]["link"] == "/portal/wallet" and "信息有误，重新签发" in revoked[0]["body"]
    assert len(_messages(client, zhang_h)) == before["zhang"] + 1
    assert len(_messages(client, wang_h)) == before["wang"]  # not his certificate
    as_user(client, "resident.zhang")
    page = client.get("/portal/messages")
    assert page.status_code == 200
    assert "您数字证件中的一份证照已被注销" in page.text and "信息有误，重新签发" in page.text

"""Issue, scan, revoke and verify codes: the live colour follows the data, tampered and revoked
codes fail, the revocation list carries revoked codes, bulk issue resumes without duplicates."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select, update

from tests.factories import token_for, web_login
from tongban.codes import bulk, service, token
from tongban.codes.models import DomesticWorker, IssuedCode, RentedFlat
from tongban.core.access import Principal
from tongban.core.audit.models import AuditEvent

HRSS = Principal(kind="staff", client_id="test", department_id="dept.haishu.hrss",
                 permissions=frozenset({"task.decide"}))


def _issue(db, keyring, type_id: str = "code.domestic-worker", **kw):  # type: ignore[no-untyped-def]
    principal = kw.pop("principal", HRSS)
    return bulk.issue_bulk(db, keyring=keyring, principal=principal, type_id=type_id, processes=1, **kw)


def _code(db, type_id: str, subject_id: int) -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        row = s.scalars(select(IssuedCode).where(IssuedCode.type_id == type_id,
                                                 IssuedCode.subject_id == subject_id)).one()
        return service.code_string(row)


def _set_health(db, worker: int, valid_to: dt.date | None) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        s.execute(update(DomesticWorker).where(DomesticWorker.id == worker).values(health_cert_valid_to=valid_to))


def test_status_change_shows_the_new_colour_on_the_next_scan(codes_city, keyring, client, clock):  # type: ignore[no-untyped-def]
    db = codes_city
    result = _issue(db, keyring, batch=5)
    assert (result.issued, result.batches) == (12, 3)
    _set_health(db, 3, dt.date(2025, 12, 31))
    code = _code(db, "code.domestic-worker", 3)

    first = client.get(f"/api/v1/codes/scan/{code}", headers={"Accept-Language": "en"}).json()
    assert (first["state"], first["colour"], first["reason"]) == ("valid", "green", "Health certificate valid")
    card = {c["name"]: c["value"] for c in first["card"]}
    assert set(card) == {"display_name", "services", "agency", "star_level"}  # the open card, nothing else
    assert "id_number" not in json.dumps(first) and "health_cert" not in json.dumps(first)

    _set_health(db, 3, dt.date(2025, 6, 10))  # expired yesterday (the clock is at 2025-06-11)
    page = client.get(f"/c/{code}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert 'data-colour="yellow"' in page.text and "健康证明已过期" in page.text
    _set_health(db, 3, None)
    assert client.get(f"/api/v1/codes/scan/{code}").json()["colour"] == "yellow"
    _set_health(db, 3, dt.date(2026, 6, 30))  # renewed
    assert client.get(f"/api/v1/codes/scan/{code}").json()["colour"] == "green"

    with db.unit_of_work() as s:
        issues = s.scalars(select(AuditEvent).where(AuditEvent.action == "code.issue")).all()
        reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "code.status_read")).all()
    assert len(issues) == 3 and sum(json.loads(e.details)["count"] for e in issues) == 12
    # the status was read on hrss's grant of the health bureau's dataset, and audited each time
    assert len(reads) == 4 and all(json.loads(e.details)["basis"].startswith("grant:") for e in reads)
    assert {e.department_id for e in reads} == {"dept.haishu.health"}


def test_owner_basis_and_red_rule(codes_city, keyring, client, clock):  # type: ignore[no-untyped-def]
    db = codes_city
    housing = Principal(kind="staff", client_id="test", department_id="dept.haishu.housing",
                        permissions=frozenset({"task.decide"}))
    _issue(db, keyring, "code.rented-flat", principal=housing)
    with db.unit_of_work() as s:
        s.execute(update(RentedFlat).where(RentedFlat.id == 1).values(fire_check="fail", registered=False))
    scan = client.get(f"/api/v1/codes/scan/{_code(db, 'code.rented-flat', 1)}",
                      headers={"Accept-Language": "en"}).json()
    assert (scan["colour"], scan["reason"]) == ("red", "Failed the fire check")  # the worst rule wins
    assert {c["name"] for c in scan["card"]} == {"community", "rooms", "max_tenants"}


def test_without_a_grant_the_status_is_grey_not_guessed(codes_city, keyring, client, clock):  # type: ignore[no-untyped-def]
    from tongban.datahub.models import Grant

    db = codes_city
    _issue(db, keyring, limit=1)
    with db.unit_of_work() as s:
        s.execute(update(Grant).where(Grant.consumer_department_id == "dept.haishu.hrss")
                  .values(revoked_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)))
    scan = client.get(f"/api/v1/codes/scan/{_code(db, 'code.domestic-worker', 1)}",
                      headers={"Accept-Language": "en"}).json()
    assert scan["colour"] == "grey" and "no right" in scan["reason"]


def test_a_tampered_code_fails_on_the_page_the_api_and_offline(codes_city, keyring, client, cli, clock):  # type: ignore[no-untyped-def]
    db = codes_city
    _issue(db, keyring, limit=2)
    code = _code(db, "code.domestic-worker", 1)
    head, sig = code.split(".")
    tampered = token.b64(token.unb64(head).replace(b"|1|", b"|2|")) + "." + sig
    api = client.get(f"/api/v1/codes/scan/{tampered}").json()
    assert api == {"state": "invalid", "problem": "bad_signature", "colour": "red"}
    page = client.get(f"/c/{tampered}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'data-state="invalid"' in page.text and "altered" in page.text
    assert "阿姨" not in page.text and "师傅" not in page.text  # nothing of any subject
    assert client.get("/c/not-a-code").status_code == 200

    ok = cli("codes", "verify", f"https://gov.example/c/{code}")
    assert ok.exit_code == 0 and "VALID" in ok.output
    bad = cli("codes", "verify", tampered)
    assert bad.exit_code == 1 and "NOT VALID" in bad.output and "altered or forged" in bad.output


def test_revocation_by_the_issuing_department(codes_city, keyring, client, cli, tmp_path, clock):  # type: ignore[no-untyped-def]
    db = codes_city
    _issue(db, keyring, limit=3)
    code = _code(db, "code.domestic-worker", 2)
    with db.unit_of_work() as s:
        code_id = s.scalar(select(IssuedCode.id).where(IssuedCode.subject_id == 2))
    agri = token_for(client, "codes.agri")
    refused = client.post(f"/api/v1/codes/{code_id}/revoke", json={"reason": "离职"}, headers=agri)
    assert refused.status_code == 403
    hrss = token_for(client, "codes.hrss")
    empty = client.post(f"/api/v1/codes/{code_id}/revoke", json={"reason": "  "}, headers=hrss)
    assert empty.status_code == 422 and empty.json()["field"] == "reason"
    done = client.post(f"/api/v1/codes/{code_id}/revoke", json={"reason": "已离职，不再从事家政服务"}, headers=hrss)
    assert done.status_code == 200 and done.json()["status"] == "revoked"
    again = client.post(f"/api/v1/codes/{code_id}/revoke", json={"reason": "again"}, headers=hrss)
    assert again.status_code == 409

    scan = client.get(f"/api/v1/codes/scan/{code}").json()
    assert (scan["state"], scan["colour"], scan["reason"]) == ("revoked", "red", "已离职，不再从事家政服务")
    page = client.get(f"/c/{code}", headers={"Accept-Language": "zh-CN"})
    assert 'data-state="revoked"' in page.text and "已离职" in page.text

    # the signed revocation list certificates use carries it; offline verification refuses the code
    rl = client.get("/api/v1/certificates/revocations").json()
    assert {"kind": "code", "identifier": "code:code.domestic-worker:2", "type": "code.domestic-worker",
            "revoked_at": rl["revoked"][0]["revoked_at"]} in rl["revoked"]
    (tmp_path / "rl.json").write_text(json.dumps(rl))
    out = cli("codes", "verify", code, "--revocations", str(tmp_path / "rl.json"))
    assert out.exit_code == 1 and "REVOKED" in out.output
    other = cli("codes", "verify", _code(db, "code.domestic-worker", 1), "--revocations", str(tmp_path / "rl.json"))
    assert other.exit_code == 0, other.output
    rl["revoked"] = []  # a list altered to hide the revocation fails its signature
    (tmp_path / "rl.json").write_text(json.dumps(rl))
    forged = cli("codes", "verify", code, "--revocations", str(tmp_path / "rl.json"))
    assert forged.exit_code == 2 and "not signed" in forged.output


def test_bulk_issue_resumes_after_an_interruption_without_duplicates(codes_city, keyring, clock):  # type: ignore[no-untyped-def]
    db = codes_city
    seen: list[int] = []

    def interrupt(n: int) -> None:
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C after the second batch

    with pytest.raises(KeyboardInterrupt):
        _issue(db, keyring, "code.talent", batch=5, progress=interrupt)
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCode)) == 10
    again = bulk.issue_bulk(db, keyring=keyring, principal=HRSS, type_id="code.talent", batch=5, processes=2)
    assert (again.issued, again.already) == (2, 10)
    assert bulk.issue_bulk(db, keyring=keyring, principal=HRSS, type_id="code.talent", processes=2).issued == 0
    with db.unit_of_work() as s:
        subjects = s.scalars(select(IssuedCode.subject_id).where(IssuedCode.type_id == "code.talent")).all()
    assert sorted(subjects) == list(range(1, 13))


def test_bulk_issue_on_several_processes_signs_valid_codes(codes_city, keyring, client, clock):  # type: ignore[no-untyped-def]
    db = codes_city
    result = bulk.issue_bulk(db, keyring=keyring, principal=HRSS, type_id="code.talent", batch=4, processes=2)
    assert (result.issued, result.batches) == (12, 3)
    public = service.public_keys(keyring)
    with db.unit_of_work() as s:
        rows = s.scalars(select(IssuedCode)).all()
        assert all(token.verify(service.code_string(r), public).subject_id == r.subject_id for r in rows)


def test_issue_is_for_the_issuing_department_only(codes_city, keyring, clock):  # type: ignore[no-untyped-def]
    from tongban.core.access import Denied
    from tongban.core.errors import Invalid

    agri = Principal(kind="staff", client_id="test", department_id="dept.haishu.agri",
                     permissions=frozenset({"task.decide"}))
    with pytest.raises(Denied):
        _issue(codes_city, keyring, principal=agri)
    with pytest.raises(Invalid) as wrong:
        _issue(codes_city, keyring, dataset_id="ds.hrss.talents")
    assert wrong.value.field == "from"


def test_api_issue_list_and_qr(codes_city, client, clock):  # type: ignore[no-untyped-def]
    hrss = token_for(client, "codes.hrss")
    made = client.post("/api/v1/codes", json={"type": "code.talent", "subject_id": 5}, headers=hrss)
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    assert client.post("/api/v1/codes", json={"type": "code.talent", "subject_id": 5}, headers=hrss).status_code == 409
    assert client.post("/api/v1/codes", json={"type": "code.talent", "subject_id": 999}, headers=hrss).status_code == 404
    assert client.post("/api/v1/codes", json={"type": "code.farm", "subject_id": 1}, headers=hrss).status_code == 403
    assert client.post("/api/v1/codes", json={"type": "code.talent", "subject_id": 5}).status_code == 401
    listed = client.get("/api/v1/codes", headers=hrss).json()
    assert [c["subject_id"] for c in listed["items"]] == [5]
    assert client.get("/api/v1/codes", headers=token_for(client, "codes.agri")).json()["items"] == []
    svg = client.get(f"/api/v1/codes/qr/{code}.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    png = client.get(f"/api/v1/codes/qr/{code}.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get("/api/v1/codes/qr/not-a-code-at-all.svg").status_code == 422
    assert [t["id"] for t in client.get("/api/v1/codes/types").json()] == [
        "code.domestic-worker", "code.farm", "code.product", "code.rented-flat", "code.talent"]


def test_workbench_page_issues_and_revokes_with_csrf(codes_city, client, clock):  # type: ignore[no-untyped-def]
    assert web_login(client, "codes.hrss").status_code == 303
    page = client.get("/workbench/codes", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.post("/workbench/codes", data={"type": "code.talent", "subject_id": "4"}).status_code == 403
    made = client.post("/workbench/codes", data={"type": "code.talent", "subject_id": "4", "csrf_token": csrf},
                       follow_redirects=False)
    assert made.status_code == 303
    listed = client.get("/workbench/codes", headers={"Accept-Language": "zh-CN"})
    code_id = int(re.search(r'id="code-(\d+)"', listed.text).group(1))  # type: ignore[union-attr]
    bad = client.post(f"/workbench/codes/{code_id}/revoke", data={"reason": "", "csrf_token": csrf},
                      headers={"Accept-Language": "zh-CN"})
    assert bad.status_code == 200 and "请填写注销原因" in bad.text and 'role="alert"' in bad.text
    ok = client.post(f"/workbench/codes/{code_id}/revoke", data={"reason": "认定已撤销", "csrf_token": csrf},
                     follow_redirects=False)
    assert ok.status_code == 303
    assert 'data-status="revoked"' in client.get("/workbench/codes").text


def test_generated_rows_are_deterministic() -> None:
    from tongban.codes import demo_data

    for kind in demo_data.KINDS:
        assert list(demo_data.rows(kind, 20, seed=3, farms=5)) == list(demo_data.rows(kind, 20, seed=3, farms=5))
        assert list(demo_data.rows(kind, 20, seed=3, farms=5))[10:] == list(
            demo_data.rows(kind, 20, seed=3, start=11, farms=5))
    assert list(demo_data.rows("talent", 5, seed=3)) != list(demo_data.rows("talent", 5, seed=4))


def test_the_demo_load_brings_subjects_and_their_codes_once(db, settings, clock) -> None:  # type: ignore[no-untyped-def]
    from tongban.codes.demo_data import DEMO_SUBJECTS
    from tongban.demo import load_demo

    with db.unit_of_work() as s:
        load_demo(s, settings)
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCode)) == 5 * DEMO_SUBJECTS
        events = s.scalar(select(func.count()).select_from(AuditEvent))
        code = service.code_string(s.scalars(select(IssuedCode).limit(1)).one())
    with db.unit_of_work() as s:
        load_demo(s, settings)
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(IssuedCode)) == 5 * DEMO_SUBJECTS
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == events
    with db.unit_of_work() as s:
        from tongban.core.keys import keyring_for

        assert service.scan(s, keyring=keyring_for(settings), code=code)["state"] == "valid"


def test_the_cli_generates_issues_in_bulk_and_resumes(db, cli, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.codes.conftest import PACK
    from tongban.core.packs.loader import load_pack

    with db.unit_of_work() as s:
        load_pack(s, PACK)
    made = cli("codes", "generate", "--count", "30")
    assert made.exit_code == 0, made.output
    assert "rented_flat: 30 rows added" in made.output
    assert "rented_flat: 0 rows added" in cli("codes", "generate", "--count", "30").output
    first = cli("codes", "issue", "--type", "code.rented-flat", "--from", "ds.housing.flat-card", "--limit", "12",
                "--batch", "5")
    assert first.exit_code == 0, first.output
    assert "12 codes issued from ds.housing.flat-card in 3 batches (0 held a code already)" in first.output
    rest = cli("codes", "issue", "--type", "code.rented-flat", "--processes", "2", "--batch", "5")
    assert rest.exit_code == 0, rest.output
    assert "18 codes issued" in rest.output and "(12 held a code already)" in rest.output
    wrong = cli("codes", "issue", "--type", "code.rented-flat", "--from", "ds.hrss.talents")
    assert wrong.exit_code == 2 and "from:" in wrong.output
    assert cli("codes", "issue", "--type", "code.nothing").exit_code == 2
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count(func.distinct(IssuedCode.subject_id)))) == 30
    listed = cli("codes", "types")
    assert listed.exit_code == 0 and "code.domestic-worker" in listed.output

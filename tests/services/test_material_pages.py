"""材料 in the pages: an upload field per material the form asks, checked as the API checks it
(type from the bytes, declared size), a wallet certificate offered in place of an upload, a bad
file naming its material with nothing lost of the typed form; the materials listed on the
progress page and opened by the officer from the task page, each view audited."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select

from tests.services.conftest import CHEN_ID, ZHANG_ID, birth_data, person_id
from tests.services.test_materials import JPEG, PDF, PNG, _require_photo, certificate
from tests.services.test_pages import BIRTH, _csrf, _hidden, _post, as_user, decide_on_page
from tongban.core.audit.models import AuditEvent
from tongban.services.models import Application, ApplicationMaterial, Task

REGISTER = "mat.household-register"


def _form(client) -> tuple[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    page = client.get(f"/portal/apply/{BIRTH}/form")
    assert page.status_code == 200, page.text
    return page.text, {**birth_data(), "csrf_token": _csrf(page.text),
                       "idempotency_key": _hidden(page.text, "idempotency_key")}


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _reads(db) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return [json.loads(e.details or "{}") for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "material.read")
                                                         .order_by(AuditEvent.id))]


def test_the_form_asks_each_material_once_with_its_types_and_size(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    html, _ = _form(client)
    assert 'enctype="multipart/form-data"' in html
    assert html.count(f'name="material.{REGISTER}"') == 1
    assert 'name="material.mat.photo"' in html and 'accept=".jpg,.jpeg,image/jpeg,.png,image/png"' in html
    # The birth medical certificate is issued by the one-thing itself: not asked.
    assert "mat.birth-medical-certificate" not in html
    assert 'name="certificate.mat.marriage-certificate"' not in html  # nothing of that type in the wallet


def test_a_material_uploaded_in_the_form_is_listed_and_opened_by_the_officer_with_each_view_audited(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    _, data = _form(client)
    sent = client.post(f"/portal/apply/{BIRTH}/form", data=data, follow_redirects=False,
                       files={f"material.{REGISTER}": ("户口簿.pdf", PDF, "application/pdf"),
                              "material.mat.photo": ("", b"", "application/octet-stream")})  # a field left empty
    assert sent.status_code == 303, sent.text
    app_id = int(sent.headers["location"].split("?")[0].rsplit("/", 1)[1])
    with demo.unit_of_work() as s:
        rows = list(s.scalars(select(ApplicationMaterial)))
        assert [(r.application_id, r.material_id, r.media_type) for r in rows] == [(app_id, REGISTER, "application/pdf")]
        row_id = rows[0].id
    progress = client.get(f"/portal/applications/{app_id}")
    assert "父母户口簿" in progress.text and f'href="/portal/applications/{app_id}/materials/{row_id}"' in progress.text
    own = client.get(f"/portal/applications/{app_id}/materials/{row_id}")
    assert own.status_code == 200 and own.content == PDF and "attachment" in own.headers["content-disposition"]
    assert _reads(demo) == []  # the applicant's own reads are not staff reads

    as_user(client, "officer.health")
    with demo.unit_of_work() as s:
        health = s.scalars(select(Task).where(Task.application_id == app_id,
                                              Task.item_id == "item.birth-certificate")).one().id
        police = s.scalars(select(Task).where(Task.application_id == app_id,
                                              Task.item_id == "item.household-birth")).one().id
    page = client.get(f"/workbench/tasks/{health}")
    assert "父母户口簿" in page.text and f'href="/workbench/tasks/{health}/materials/{row_id}"' in page.text
    assert _reads(demo)[-1] == {"application": app_id, "list": 1}
    opened = client.get(f"/workbench/tasks/{health}/materials/{row_id}")
    assert opened.status_code == 200 and opened.content == PDF and opened.headers["x-content-type-options"] == "nosniff"
    assert _reads(demo)[-1] == {"application": app_id, "material": REGISTER, "row": row_id}
    # Another department's officer, and a material of another application, are refused.
    as_user(client, "officer.hrss")
    assert client.get(f"/workbench/tasks/{health}/materials/{row_id}").status_code in (403, 404)
    as_user(client, "officer.police")
    assert client.get(f"/workbench/tasks/{police}/materials/{row_id + 1000}").status_code == 404
    as_user(client, "resident.chen")
    assert client.get(f"/portal/applications/{app_id}/materials/{row_id}").status_code == 404


def test_a_bad_file_shows_the_form_again_naming_the_material_and_writes_nothing(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    _, data = _form(client)
    cases = [(REGISTER, "户口簿.pdf", PNG, "不符"),  # a .pdf name holding a PNG
             (REGISTER, "notes.txt", b"plain text", "PDF"),  # not a PDF, JPEG or PNG at all
             ("mat.photo", "photo.png", PNG + b"\x00" * (1024 * 1024), "1024"),  # above the declared 1024 KB
             ("mat.photo", "photo.pdf", PDF, "jpg")]  # a photo must be a picture
    for material, name, content, says in cases:
        r = client.post(f"/portal/apply/{BIRTH}/form", data=data, files={f"material.{material}": (name, content)},
                        headers={"Accept-Language": "zh-CN"}, follow_redirects=False)
        assert r.status_code == 422, (name, r.text[:500])
        dom = "materials-" + material.replace(".", "-")
        said = re.search(rf'id="{dom}-error" role="alert">([^<]*)<', r.text)
        assert f'href="#{dom}"' in r.text and said and says in said[1], (name, says, r.text[:300])
        assert 'value="张小明"' in r.text and 'value="宁波市妇女儿童医院"' in r.text  # the typed form is kept
        assert _hidden(r.text, "idempotency_key") == data["idempotency_key"]
    assert _count(demo, Application) == 0 and _count(demo, ApplicationMaterial) == 0
    # The same key then goes through once the file is right.
    ok = client.post(f"/portal/apply/{BIRTH}/form", data=data, files={"material.mat.photo": ("me.jpg", JPEG)},
                     follow_redirects=False)
    assert ok.status_code == 303 and _count(demo, ApplicationMaterial) == 1


def test_a_wallet_certificate_is_offered_in_place_of_an_upload(client, demo) -> None:  # type: ignore[no-untyped-def]
    own = certificate(demo, person_id(demo, ZHANG_ID))  # 张明's 结婚证
    others = certificate(demo, person_id(demo, CHEN_ID))
    as_user(client, "resident.zhang")
    html, data = _form(client)
    assert 'name="certificate.mat.marriage-certificate"' in html and f'<option value="{own}">' in html
    assert f'<option value="{others}">' not in html
    # Someone else's certificate, sent by hand, is refused (403) and nothing is written.
    r = _post(client, f"/portal/apply/{BIRTH}/form", data={**data, "certificate.mat.marriage-certificate": str(others)})
    assert r.status_code == 403 and _count(demo, Application) == 0
    r = _post(client, f"/portal/apply/{BIRTH}/form", data={**data, "certificate.mat.marriage-certificate": "x1"})
    assert r.status_code == 422 and 'href="#materials-mat-marriage-certificate"' in r.text
    sent = _post(client, f"/portal/apply/{BIRTH}/form", data={**data, "certificate.mat.marriage-certificate": str(own)})
    assert sent.status_code == 303, sent.text
    with demo.unit_of_work() as s:
        row = s.scalars(select(ApplicationMaterial)).one()
        assert (row.material_id, row.certificate_id, row.sha256) == ("mat.marriage-certificate", own, None)
        app_id = row.application_id
    progress = client.get(f"/portal/applications/{app_id}")
    assert "结婚证" in progress.text and "N" + str(person_id(demo, ZHANG_ID)) in progress.text


def test_a_required_material_missing_is_named_on_the_form(client, demo) -> None:  # type: ignore[no-untyped-def]
    _require_photo(demo)
    as_user(client, "resident.zhang")
    _, data = _form(client)
    r = _post(client, f"/portal/apply/{BIRTH}/form", data=data, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422 and 'href="#materials-mat-photo"' in r.text and "证件照片" in r.text
    assert _count(demo, Application) == 0


def test_materials_cannot_be_added_through_the_form_of_a_closed_or_foreign_flow(client, demo) -> None:  # type: ignore[no-untyped-def]
    """Progress and task pages list no materials when none were attached (and say so)."""
    as_user(client, "resident.zhang")
    _, data = _form(client)
    sent = _post(client, f"/portal/apply/{BIRTH}/form", data=data)
    app_id = int(sent.headers["location"].split("?")[0].rsplit("/", 1)[1])
    assert 'id="materials"' in client.get(f"/portal/applications/{app_id}").text
    as_user(client, "officer.health")
    with demo.unit_of_work() as s:
        task = s.scalars(select(Task).where(Task.application_id == app_id, Task.item_id == "item.birth-certificate")).one()
    page = client.get(f"/workbench/tasks/{task.id}")
    assert "未提交材料" in page.text or "No materials" in page.text
    assert decide_on_page(client, task.id).status_code == 303

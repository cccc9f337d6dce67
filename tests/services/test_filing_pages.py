"""找人帮我办 in the pages: a resident authorises a relative (and withdraws it), the relative files
for them, and a counter clerk at a community service centre files for a resident who comes in;
who filed is shown on the progress page, the application list and the officer's task page."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.services.conftest import CHEN_CHILD_ID, CHEN_ID, LI_ID, ZHANG_ID, birth_data, person_id
from tests.services.test_material_pages import PDF
from tests.services.test_pages import BIRTH, _csrf, _hidden, _post, as_user
from tongban.services.models import Application, ApplicationMaterial, Authorisation, Task


def _grant(client, scope: str = "all", number: str = LI_ID, days: str = "30"):  # type: ignore[no-untyped-def]
    page = client.get("/portal/proxies")
    assert page.status_code == 200, page.text
    return _post(client, "/portal/proxies", data={"csrf_token": _csrf(page.text), "proxy_id_number": number,
                                                  "scope": scope, "days": days},
                 headers={"Accept-Language": "zh-CN"})


def test_a_resident_authorises_a_relative_who_files_for_them(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    assert _grant(client).status_code == 303
    given = client.get("/portal/proxies").text
    assert "李*" in given and LI_ID not in given  # the other party's name masked, no ID number shown

    as_user(client, "resident.li")
    received = client.get("/portal/proxies").text
    zhang = person_id(demo, ZHANG_ID)
    assert f'name="on_behalf_of" value="{zhang}"' in received and "张*" in received
    start = client.get(f"/portal/proxies/start?on_behalf_of={zhang}&target=ot:{BIRTH}", follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"] == f"/portal/apply/{BIRTH}/form?on_behalf_of={zhang}"
    form = client.get(start.headers["location"])
    assert form.status_code == 200 and 'id="filing-for"' in form.text and "张*" in form.text
    assert _hidden(form.text, "on_behalf_of") == str(zhang)
    assert "certificate." not in form.text  # the grantor's wallet is not shown to the relative
    sent = client.post(f"/portal/apply/{BIRTH}/form", follow_redirects=False, data={
        **birth_data(), "csrf_token": _csrf(form.text), "idempotency_key": _hidden(form.text, "idempotency_key"),
        "on_behalf_of": str(zhang)}, files={"material.mat.household-register": ("户口簿.pdf", PDF)})
    assert sent.status_code == 303, sent.text
    app_id = int(sent.headers["location"].split("?")[0].rsplit("/", 1)[1])
    with demo.unit_of_work() as s:
        app = s.get_one(Application, app_id)
        assert (app.applicant_person_id, app.filing) == (zhang, "proxy")
        assert s.scalars(select(ApplicationMaterial.application_id)).all() == [app_id]
    mine = client.get("/portal/applications").text
    assert f"/portal/applications/{app_id}" in mine and "代办" in mine  # the relative sees what they filed

    as_user(client, "resident.zhang")
    progress = client.get(f"/portal/applications/{app_id}").text
    assert "李*" in progress  # who filed, in the timeline
    assert f"/portal/applications/{app_id}" in client.get("/portal/applications").text

    # Withdrawn: the relative may no longer open the form for them (403, audited).
    with demo.unit_of_work() as s:
        auth_id = s.scalars(select(Authorisation.id)).one()
    page = client.get("/portal/proxies")
    assert _post(client, f"/portal/proxies/{auth_id}/revoke", data={"csrf_token": _csrf(page.text)}).status_code == 303
    assert _post(client, f"/portal/proxies/{auth_id}/revoke",
                 data={"csrf_token": _csrf(page.text)}).status_code == 409  # already withdrawn
    as_user(client, "resident.li")
    assert client.get(f"/portal/apply/{BIRTH}/form?on_behalf_of={zhang}").status_code == 403


def test_an_authorisation_for_one_item_opens_only_that_form(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    assert _grant(client, scope="item:item.elderly-allowance").status_code == 303
    as_user(client, "resident.li")
    zhang = person_id(demo, ZHANG_ID)
    received = client.get("/portal/proxies").text
    assert 'name="target" value="item:item.elderly-allowance"' in received
    assert client.get(f"/portal/items/item.elderly-allowance/form?on_behalf_of={zhang}").status_code == 200
    assert client.get(f"/portal/apply/{BIRTH}/form?on_behalf_of={zhang}").status_code == 403
    assert client.get("/portal/apply/onething.birth/form?on_behalf_of=abc").status_code == 422
    assert client.get(f"/portal/apply/{BIRTH}/form?on_behalf_of={person_id(demo, CHEN_ID)}").status_code == 403


def test_bad_authorisations_are_named_and_nothing_is_written(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    for number, scope, days, field in ((ZHANG_ID, "all", "30", "proxy_id_number"),  # oneself
                                       ("330203199408210422", "all", "30", "proxy_id_number"),  # bad check digit
                                       (LI_ID, "item:item.nothing", "30", "scope"),
                                       (LI_ID, "all", "999", "days")):
        r = _grant(client, scope=scope, number=number, days=days)
        assert r.status_code == 422 and f'href="#{field}"' in r.text, (number, scope, days, r.text[:400])
        assert f'value="{number}"' in r.text  # what was typed is kept
    with demo.unit_of_work() as s:
        assert s.scalars(select(Authorisation)).all() == []
    as_user(client, "resident.li")
    assert _post(client, "/portal/proxies/1/revoke", data={"csrf_token": _csrf(client.get("/portal/proxies").text)}
                 ).status_code == 404


def _counter_start(client, number: str = ZHANG_ID, method: str = "signature", target: str = f"ot:{BIRTH}"):  # type: ignore[no-untyped-def]
    page = client.get("/workbench/counter")
    assert page.status_code == 200, page.text
    return _post(client, "/workbench/counter/start", data={
        "csrf_token": _csrf(page.text), "id_number": number, "consent_method": method, "consent_note": "已核验身份证",
        "target": target}, headers={"Accept-Language": "zh-CN"})


def test_a_community_counter_clerk_files_for_a_resident_who_comes_in(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "counter.zijinxiang")
    assert "/workbench/counter" in client.get("/workbench").text  # the tile opens the counter
    form = _counter_start(client)
    assert form.status_code == 200 and 'id="filing-for"' in form.text and "张*" in form.text
    assert "hx-post" not in form.text  # the resident's own field checks are not the clerk's
    data = {k: _hidden(form.text, k) for k in ("csrf_token", "idempotency_key", "target", "id_number",
                                               "consent_method", "consent_note")}
    bad = _post(client, "/workbench/counter/form", data={**data, **birth_data(child_name="")})
    assert bad.status_code == 422 and 'href="#child_name"' in bad.text and 'value="李婷"' in bad.text
    sent = client.post("/workbench/counter/form", data={**data, **birth_data()}, follow_redirects=False,
                       files={"material.mat.household-register": ("户口簿.pdf", PDF)})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/workbench/counter?filed="), sent.text
    app_id = int(sent.headers["location"].rsplit("=", 1)[1])
    page = client.get(sent.headers["location"]).text
    assert f'data-application="{app_id}"' in page and f'<strong class="receipt">{app_id}</strong>' in page
    zhang = person_id(demo, ZHANG_ID)
    with demo.unit_of_work() as s:
        app = s.get_one(Application, app_id)
        assert (app.applicant_person_id, app.filing) == (zhang, "counter")
        assert app.filing_consent["method"] == "signature" and app.filing_consent["note"] == "已核验身份证"
        assert s.scalars(select(ApplicationMaterial.application_id)).all() == [app_id]
        task = s.scalars(select(Task).where(Task.application_id == app_id, Task.item_id == "item.birth-certificate")).one()

    as_user(client, "officer.health")
    assert "俞芳" in client.get(f"/workbench/tasks/{task.id}").text  # the officer sees who filed
    as_user(client, "resident.zhang")
    progress = client.get(f"/portal/applications/{app_id}").text
    assert re.search(r"俞芳 · [^<]*南门", progress), progress[-2000:]


def test_the_counter_refuses_what_the_api_refuses(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "counter.zijinxiang")
    r = _counter_start(client, method="")
    assert r.status_code == 422 and 'href="#consent.method"' in r.text and 'value="330203199203150314"' in r.text
    r = _counter_start(client, number="330203199203150315")
    assert r.status_code == 422 and 'href="#id_number"' in r.text
    r = _counter_start(client, target="ot:onething.nothing")
    assert r.status_code == 422 and 'href="#target"' in r.text
    # A resident of another community is not this centre's to file for (403, audited).
    assert _counter_start(client, number=CHEN_ID).status_code == 403
    with demo.unit_of_work() as s:
        assert s.scalars(select(Application)).all() == []
    as_user(client, "resident.zhang")
    assert client.get("/workbench/counter").status_code == 403
    as_user(client, "grid.nanmen")
    assert client.get("/workbench/counter").status_code == 403


def test_the_item_choice_keeps_for_whom_the_form_is(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.zhang")
    assert _grant(client).status_code == 303
    as_user(client, "resident.li")
    zhang = person_id(demo, ZHANG_ID)
    form = client.get(f"/portal/apply/onething.assistance/form?on_behalf_of={zhang}&items=item.temporary-relief")
    assert form.status_code == 200, form.text
    # both the choice (GET) and the form (POST) carry the person the relative applies for
    assert form.text.count(f'name="on_behalf_of" value="{zhang}"') == 2


def test_a_guardian_applies_for_their_child_from_the_same_page(client, demo) -> None:  # type: ignore[no-untyped-def]
    as_user(client, "resident.chen")
    child = person_id(demo, CHEN_CHILD_ID)
    page = client.get("/portal/proxies").text
    assert 'id="wards"' in page and f'name="on_behalf_of" value="{child}"' in page and "陈**" in page
    start = client.get(f"/portal/proxies/start?on_behalf_of={child}&target=item:item.school-enrolment",
                       follow_redirects=False)
    assert start.status_code == 303
    form = client.get(start.headers["location"])
    assert form.status_code == 200 and "监护人" in form.text and "陈**" in form.text
    as_user(client, "resident.zhang")  # not his child
    assert 'id="wards"' not in client.get("/portal/proxies").text
    assert client.get(f"/portal/proxies/start?on_behalf_of={child}&target=item:item.school-enrolment",
                      follow_redirects=False).status_code == 403

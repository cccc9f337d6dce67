"""The screening pages: the workbench page, the printable visit list, and the resident's card,
offer page and one-click apply (through the web forms, CSRF included)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import web_login
from tests.screening.conftest import PASSWORD, City
from tests.services.conftest import DEMO_PASSWORD
from tongban.screening.models import Offer


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_workbench_page_runs_and_shows_cases_and_alerts(client, city: City) -> None:  # type: ignore[no-untyped-def]
    assert web_login(client, "officer.mca", DEMO_PASSWORD).status_code == 303
    page = client.get("/workbench/screening")
    assert page.status_code == 200 and "screening-chart" not in page.text  # no run yet: no chart
    ran = client.post("/workbench/screening/runs", data={"csrf_token": _csrf(page.text), "backend": "polars"},
                      follow_redirects=False)
    assert ran.status_code == 303
    page = client.get(ran.headers["location"])
    assert "screening-chart" in page.text and "/static/js/screening." in page.text
    assert f"person_id={city.under}&amp;policy=dibao" in page.text
    assert "月收入的两倍 6,000 元 &lt; 上次筛查时月收入 7,000 元" in page.text  # the alert, explained (escaped)
    why = client.get(f"/workbench/screening/explain?person_id={city.under}&policy=dibao")
    assert "家庭月人均收入 1,117 元 &lt; 海曙区低保标准 1,118 元" in why.text
    bad = client.post("/workbench/screening/runs", data={"csrf_token": _csrf(page.text), "as_of": "tomorrow"})
    assert bad.status_code == 200 and "as_of" in bad.text
    no_csrf = client.post("/workbench/screening/runs", data={"backend": "polars"})
    assert no_csrf.status_code == 403


def test_visit_list_is_printable_for_the_grid_worker(client, city: City) -> None:  # type: ignore[no-untyped-def]
    web_login(client, "officer.mca", DEMO_PASSWORD)
    page = client.get("/workbench/screening")
    client.post("/workbench/screening/runs", data={"csrf_token": _csrf(page.text)})
    client.post("/logout", data={"csrf_token": _csrf(client.get("/workbench").text)})
    web_login(client, "grid.nanmen", DEMO_PASSWORD)
    visits = client.get("/workbench/screening/visits")
    assert visits.status_code == 200 and "丁一" in visits.text and 'class="print-table"' in visits.text
    # The print rules live in the stylesheet (no inline <style> under the CSP).
    assert "@media print" in client.get("/static/css/tongban.css").text


def test_resident_card_offer_and_one_click_apply(client, city: City) -> None:  # type: ignore[no-untyped-def]
    web_login(client, "officer.mca", DEMO_PASSWORD)
    client.post("/workbench/screening/runs", data={"csrf_token": _csrf(client.get("/workbench/screening").text)})
    client.post("/logout", data={"csrf_token": _csrf(client.get("/workbench").text)})
    web_login(client, "resident.under", PASSWORD)
    portal = client.get("/portal")
    assert 'hx-get="/portal/entitlements/card"' in portal.text
    card = client.get("/portal/entitlements/card")
    offer_id = int(re.search(r'/portal/offers/(\d+)', card.text).group(1))  # type: ignore[union-attr]
    page = client.get(f"/portal/offers/{offer_id}")
    assert "家庭月人均收入 1,117 元 &lt; 海曙区低保标准 1,118 元" in page.text
    assert 'name="consent" value="yes" checked' not in page.text  # consent is the resident's act
    opened = client.post(f"/portal/offers/{offer_id}/accept", data={"csrf_token": _csrf(page.text), "consent": "yes"},
                         follow_redirects=False)
    # 申请 opens the offered one-thing's own form (labelled, checked), prefilled with the consent
    assert opened.status_code == 303 and "/form?consent_id=" in opened.headers["location"], opened.text
    form = client.get(opened.headers["location"])
    assert 'value="H330203009901"' in form.text
    again = client.post(f"/portal/offers/{offer_id}/accept", data={"csrf_token": _csrf(page.text), "consent": "yes"},
                        follow_redirects=False)
    assert again.headers["location"] == opened.headers["location"]  # the same consent, not another
    fields = dict(re.findall(r'<input id="([a-z_]+)" name="\1" value="([^"]*)"', form.text))
    fields.update(household_size="2", household_monthly_income_yuan="1000", hardship_reason="收入低")
    consent = re.search(r'name="consent_id" value="(\d+)"', form.text).group(1)  # type: ignore[union-attr]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    target = opened.headers["location"].split("?")[0]
    applied = client.post(target, data={"csrf_token": _csrf(form.text), "consent_id": consent, "idempotency_key": key,
                                        **fields}, follow_redirects=False)
    assert applied.status_code == 303, applied.text
    with client.app.state.db.unit_of_work() as s:
        offer = s.get_one(Offer, offer_id)
        assert offer.status == "applied" and offer.application_id is not None
        assert s.scalar(select(Offer.id).where(Offer.account_id.is_(None), Offer.person_id == city.no_account))

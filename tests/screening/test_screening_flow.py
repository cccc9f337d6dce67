"""The done-when test of proactive services: a small city with known cases is screened; the
offers, the visit list, the risk alert and the explanations are what the cases say; accepting
an offer opens the prefilled application, submitting it takes the offer up, and once enrolled
the next run offers nothing again."""

from __future__ import annotations

from sqlalchemy import select

from tests.screening.conftest import PASSWORD, City
from tests.services.conftest import DEMO_PASSWORD
from tongban.core.jobs.worker import Worker
from tongban.registry.models import BenefitEnrolment, Person
from tongban.screening.models import Offer, RiskAlert, ScreeningCase, ScreeningRun


def _token(client, username: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _screen(client, officer: dict[str, str]) -> dict:  # type: ignore[no-untyped-def,type-arg]
    resp = client.post("/api/v1/screening/runs", json={"region": "330203"}, headers=officer)
    assert resp.status_code == 201, resp.text
    Worker(client.app.state.db).run_once()  # the offers' inbox messages are written by a job
    return resp.json()  # type: ignore[no-any-return]


def test_screening_finds_offers_visits_alerts_and_explains(client, city: City) -> None:  # type: ignore[no-untyped-def]
    officer = _token(client, "officer.mca", DEMO_PASSWORD)
    run = _screen(client, officer)
    assert run["status"] == "done" and run["backend"] == "polars"
    assert run["parameters"]["dibao_standard"] == {"3302": 100_000, "330203": 111_800}

    db = client.app.state.db
    with db.unit_of_work() as s:
        cases = {c.person_id for c in s.scalars(select(ScreeningCase).where(ScreeningCase.policy_id == "dibao"))}
        offers = {o.person_id: o for o in s.scalars(select(Offer))}
        assert city.under in cases and city.no_account in cases
        assert city.over not in cases and city.enrolled not in cases and city.under_child not in cases
        assert offers[city.under].channel == "inbox" and offers[city.under].status == "sent"
        assert offers[city.no_account].channel == "visit" and offers[city.no_account].account_id is None
        assert city.over not in offers and city.enrolled not in offers and city.under_child not in offers
        amount = s.scalar(select(ScreeningCase.amount_fen).where(ScreeningCase.person_id == city.under))
        assert amount == 2 * 111_800 - 223_400  # 低保补差: standard × members − income
        alerts = list(s.scalars(select(RiskAlert)))
        assert [(a.person_id, a.rule_id, a.severity) for a in alerts] == [(city.halved, "risk_income_halved", "high")]

    # counts per policy × region: the community holds the test's households
    detail = client.get(f"/api/v1/screening/runs/{run['id']}?level=12", headers=officer).json()
    row = next(c for c in detail["counts"] if c["policy_id"] == "dibao" and c["region_code"] == "330203001001")
    # persons: the demo's 张明 and 李婷, under (2), over, enrolled, no_account, halved = 8;
    # eligible: under ×2, enrolled, no_account; not enrolled: under ×2, no_account
    assert (row["subjects"], row["eligible"], row["enrolled"], row["not_enrolled"]) == (8, 4, 1, 3)

    # the resident's inbox message opens the offer
    under = _token(client, "resident.under", PASSWORD)
    messages = client.get("/api/v1/me/messages", headers=under).json()["items"]
    offer_msgs = [m for m in messages if m["kind"] == "screening.offer"]
    assert len(offer_msgs) == 1 and offer_msgs[0]["params"]["policy_id"] == "dibao"
    assert offer_msgs[0]["params"]["link"] == f"/portal/offers/{offers[city.under].id}"

    # the grid worker's visit list names the person without an account, with the address
    grid = _token(client, "grid.nanmen", DEMO_PASSWORD)
    visits = client.get("/api/v1/screening/visits", headers=grid).json()["items"]
    assert [(v["person_id"], v["name"], v["address"]) for v in visits if v["policy_id"] == "dibao"
            and v["person_id"] == city.no_account] == [(city.no_account, "丁一", "紫金巷04号1幢1单元101室")]

    # explanations: the values and the threshold in force for 海曙区, in zh and en
    ex = client.get(f"/api/v1/screening/explanations?person_id={city.under}&policy=dibao", headers=officer).json()
    income = ex["criteria"][0]
    assert income["met"] is True
    assert income["texts"]["zh"] == "家庭月人均收入 1,117 元 < 海曙区低保标准 1,118 元"
    assert income["texts"]["en"] == ("Household monthly income per member 1,117 yuan < "
                                     "Haishu District minimum living standard 1,118 yuan")
    assert (income["actual"]["value"], income["threshold"]["value"]) == (111_700, 111_800)
    over = client.get(f"/api/v1/screening/explanations?person_id={city.over}&policy=dibao", headers=officer).json()
    assert over["eligible"] is False and over["criteria"][0]["met"] is False
    assert over["criteria"][0]["texts"]["zh"] == "家庭月人均收入 1,118 元 ≥ 海曙区低保标准 1,118 元"

    alert = client.get("/api/v1/screening/alerts", headers=officer).json()["items"][0]
    assert alert["person_id"] == city.halved
    assert alert["explanation"][1]["texts"]["zh"] == "月收入的两倍 6,000 元 < 上次筛查时月收入 7,000 元"

    # the resident sees their own explanation, and nobody else's
    own = client.get(f"/api/v1/screening/explanations?person_id={city.under}&policy=dibao", headers=under)
    assert own.status_code == 200 and own.json()["criteria"][0]["met"] is True
    other = client.get(f"/api/v1/screening/explanations?person_id={city.over}&policy=dibao", headers=under)
    assert other.status_code == 404

    # one click: consent asked, the one-thing's form prefilled
    offer_id = offers[city.under].id
    opened = client.post(f"/api/v1/me/offers/{offer_id}/accept", json={"consent": True}, headers=under)
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert (body["kind"], body["target_id"]) == ("onething", "onething.dibao")
    with db.unit_of_work() as s:
        head = s.get_one(Person, city.under)
        assert body["prefill"]["applicant_phone"]["value"] == head.phone
        assert body["prefill"]["household_number"]["value"] == "H330203009901"
        assert s.get_one(Offer, offer_id).status == "seen"
    submitted = client.post("/api/v1/applications", headers={**under, "Idempotency-Key": "offer-1"}, json={
        "onething_id": "onething.dibao", "consent_id": body["consent_id"],
        "data": {k: v["value"] for k, v in body["prefill"].items()}})
    assert submitted.status_code == 201, submitted.text
    with db.unit_of_work() as s:
        offer = s.get_one(Offer, offer_id)
        assert (offer.status, offer.application_id) == ("applied", submitted.json()["id"])

    # 民政 approves: the household is enrolled in 低保; the next run offers it nothing again
    tasks = client.get("/api/v1/workbench/tasks", headers=officer).json()["items"]
    task = next(t for t in tasks if t["application_id"] == submitted.json()["id"])
    decided = client.post(f"/api/v1/workbench/tasks/{task['id']}/decision",
                          json={"decision": "approve", "version": task["version"]}, headers=officer)
    assert decided.status_code == 200, decided.text
    with db.unit_of_work() as s:
        assert s.scalar(select(BenefitEnrolment.id).where(BenefitEnrolment.subject_id == city.under,
                                                          BenefitEnrolment.benefit_code == "dibao"))
    second = _screen(client, officer)
    with db.unit_of_work() as s:
        run2 = s.get_one(ScreeningRun, second["id"])
        assert run2.previous_run_id == run["id"]
        people = set(s.scalars(select(ScreeningCase.person_id).where(ScreeningCase.run_id == run2.id)))
        assert city.under not in people and city.under_child not in people and city.no_account in people
        assert not list(s.scalars(select(Offer).where(Offer.run_id == run2.id, Offer.person_id.in_(
            [city.under, city.under_child, city.no_account]))))
        # the alert is not raised twice while it is open
        assert len(list(s.scalars(select(RiskAlert)))) == 1
    compare = client.get(f"/api/v1/screening/runs/{second['id']}/compare", headers=officer).json()
    assert compare["previous_run_id"] == run["id"]
    assert not [r for r in compare["newly_eligible"] if r["person_id"] in (city.under, city.no_account)]

"""The demo's residents are registry records, and the demo's officers can read them on the
standing grants — what `make run` shows behind the front door."""

from __future__ import annotations

from sqlalchemy import func, select

from tongban.demo import load_demo
from tongban.registry.models import Guardianship, Household, IncomeRecord, Person


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/token", data={"username": username, "password": "tongban-demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_demo_residents_have_records_households_and_incomes(db, settings, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_demo(s, settings)
    with db.unit_of_work() as s:
        load_demo(s, settings)  # idempotent
        assert s.scalar(select(func.count()).select_from(Household)) == 5
        assert s.scalar(select(func.count()).select_from(Person)) == 8
        assert s.scalar(select(func.count()).select_from(Guardianship)) == 2
        assert s.scalar(select(func.count()).select_from(IncomeRecord)) > 0
    chen = _login(client, "resident.chen")
    me = client.get("/api/v1/me/record", headers=chen).json()
    assert me["name"] == "陈秀英" and me["employment_status"] == "unemployed"
    household = client.get("/api/v1/me/household", headers=chen).json()
    assert sorted(m["relationship"] for m in household["members"]) == ["child", "head"]


def test_demo_officer_reads_a_resident_on_the_standing_grant(db, settings, client):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        load_demo(s, settings)
        chen_id = s.scalar(select(Person.id).where(Person.name == "陈秀英"))
    mca = _login(client, "officer.mca")
    r = client.get(f"/api/v1/registry/persons/{chen_id}", headers=mca)
    assert r.status_code == 200 and r.json()["name"] == "陈**"
    r = client.post(f"/api/v1/registry/persons/{chen_id}/unmask", json={"purpose": "低保申请入户核查"}, headers=mca)
    assert r.status_code == 200 and r.json()["name"] == "陈秀英"
    # 区外: the Jiangbei officer is refused.
    assert client.get(f"/api/v1/registry/persons/{chen_id}", headers=_login(client, "officer.jiangbei")).status_code == 403

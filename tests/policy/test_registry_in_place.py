"""Evaluating over the registry database in place is an exchange read: the caller's department
must hold a grant for every field the policies read, and the read is audited once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.registry.factories import make_person
from tongban.core.access import Denied, Principal
from tongban.core.audit.models import AuditEvent
from tongban.core.identity import service as identity
from tongban.core.identity.models import ApiClient
from tongban.core.packs.loader import load_pack
from tongban.policy.evaluate import evaluate_registry
from tongban.policy.parse import read_policies

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"
POLICIES = read_policies(PACK)


@pytest.fixture()
def registry(db):  # type: ignore[no-untyped-def]
    """The demo pack with its standing grants (民政 reads person and household), three residents."""
    with db.unit_of_work() as s:
        load_pack(s, PACK, include_demo=True)
        old = make_person(s, "王大爷", birth=dt.date(1946, 7, 1), sex="M", region_code="330203001001")
        make_person(s, "李奶奶", birth=dt.date(1946, 7, 2), region_code="330203001001")
        make_person(s, "张三", birth=dt.date(1940, 1, 1), sex="M", region_code="330205001001")
        old.disability_grade = 1
        identity.create_client(s, client_id="mca-screening", name="民政主动发现", department_id="dept.haishu.mca",
                               scopes=["exchange.read"])
        identity.create_client(s, client_id="tax-sync", name="税务", department_id="dept.haishu.tax",
                               scopes=["exchange.read"])
    return db


def _principal(session, client_id: str):  # type: ignore[no-untyped-def]
    return identity.principal_for_client(session.scalar(select(ApiClient).where(ApiClient.client_id == client_id)),
                                         None)


def _events(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "policy.evaluate"))


def test_a_granted_department_evaluates_in_place_and_the_read_is_audited(registry) -> None:  # type: ignore[no-untyped-def]
    with registry.unit_of_work() as s:
        result = evaluate_registry(s, principal=_principal(s, "mca-screening"),
                                   policies=POLICIES.subset(["elderly_allowance"]), as_of=dt.date(2026, 7, 1),
                                   region="330203", purpose="高龄津贴主动发现")
    rows = {r["subject_id"]: r for r in result.to_dicts()}
    assert len(rows) >= 2  # the demo residents of 海曙区 and ours; 张三 lives in 江北区
    eligible = [r for r in rows.values() if r["eligible"]]
    assert eligible and all(r["amount_fen"] == 5000 for r in eligible)  # 王大爷 turns 80 that day
    with registry.unit_of_work() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "policy.evaluate")).one()
        assert event.purpose == "高龄津贴主动发现" and event.actor_department == "dept.haishu.mca"
        details = json.loads(event.details)
        assert "ds.person:birth_date" in details["fields"] and details["subjects"] == len(rows)


def test_a_department_without_a_grant_is_refused_and_nothing_is_read(registry) -> None:  # type: ignore[no-untyped-def]
    with registry.unit_of_work() as s, pytest.raises(Denied):
        evaluate_registry(s, principal=_principal(s, "tax-sync"), policies=POLICIES.subset(["elderly_allowance"]),
                          as_of=dt.date(2026, 7, 1), region=None, purpose="高龄津贴主动发现")
    with registry.unit_of_work() as s:
        assert _events(s) == 0


def test_a_sensitive_field_outside_the_grant_is_refused_by_name(registry) -> None:  # type: ignore[no-untyped-def]
    from tongban.datahub.models import Grant

    with registry.unit_of_work() as s:  # the demo grants 民政 disability_grade in clear: take that away
        grant = s.scalars(select(Grant).where(Grant.dataset_id == "ds.person",
                                              Grant.consumer_department_id == "dept.haishu.mca")).one()
        grant.clear_fields = [f for f in grant.clear_fields if f != "disability_grade"]
    with registry.unit_of_work() as s, pytest.raises(Denied) as info:
        evaluate_registry(s, principal=_principal(s, "mca-screening"),
                          policies=POLICIES.subset(["disability_care"]), as_of=dt.date(2026, 7, 1), region=None,
                          purpose="护理补贴主动发现")
    assert info.value.params["name"] == "disability_grade"
    with registry.unit_of_work() as s:
        assert _events(s) == 0


def test_the_sql_in_the_database_agrees_with_reading_the_views_out(registry) -> None:  # type: ignore[no-untyped-def]
    if registry.is_sqlite:
        pytest.skip("the in-database SQL backend runs on PostgreSQL (this is the SQLite leg)")
    from tongban.registry.models import IncomeRecord, Person

    with registry.unit_of_work() as s:
        people = list(s.scalars(select(Person).where(Person.name.in_(["王大爷", "李奶奶", "张三"]))
                                .order_by(Person.id)))
        for k, p in enumerate(people):
            for month, amount in (("2026-01", 50000 * k - 3), ("2026-05", 70001), ("2025-10", 999999)):
                s.add(IncomeRecord(person_id=p.id, month=month, source="wage", amount_fen=amount))
    # a platform administrator reads every dataset as its owner would (every field, in clear)
    owner = Principal(kind="staff", department_id="dept.haishu.bigdata", username="t",
                      permissions=frozenset({"exchange.read", "platform.admin"}))
    out = {}
    for backend in ("polars", "sql"):
        with registry.unit_of_work() as s:
            out[backend] = evaluate_registry(s, principal=owner, policies=POLICIES, as_of=dt.date(2026, 7, 1),
                                             region=None, purpose="低保主动发现核对", backend=backend)  # type: ignore[arg-type]
    assert out["polars"].height > 10
    assert out["sql"].to_dicts() == out["polars"].to_dicts()

"""`tongban datahub …`: the catalog, requests with waiting times, grants, and the operator's revocation."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.datahub.test_exchange import _client_token, _grant, _query, hub  # noqa: F401
from tests.factories import token_for
from tongban.core.audit.models import AuditEvent
from tongban.datahub.models import Grant


def test_datasets_and_show_list_the_catalog_with_grades(hub, cli):  # type: ignore[no-untyped-def]  # noqa: F811
    r = cli("datahub", "datasets")
    assert r.exit_code == 0, r.output
    assert "ds.person" in r.output and "ds.case-records" in r.output and "不予共享" in r.output
    r = cli("datahub", "datasets", "--q", "收入")
    assert "ds.income" in r.output and "ds.person" not in r.output and "1 datasets" in r.output
    r = cli("datahub", "show", "ds.person")
    assert r.exit_code == 0 and "id_number" in r.output and "L3" in r.output and "L4" in r.output
    r = cli("datahub", "show", "ds.nope")
    assert r.exit_code == 2


def test_requests_show_waiting_and_decided_ones(hub, client, cli):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id"])
    client.post("/api/v1/catalog/requests", headers=token_for(client, "steward.mca"), json={
        "dataset_id": "ds.person", "fields": ["region_code"], "purpose": "第二次申请测试", "legal_basis": "测试依据",
        "period_days": 10})
    r = cli("datahub", "requests")
    assert r.exit_code == 0, r.output
    assert "approved" in r.output and "pending" in r.output and "(waiting)" in r.output
    assert "decided by a steward: 1" in r.output
    r = cli("datahub", "requests", "--status", "pending")
    assert "approved" not in r.output
    assert cli("datahub", "requests", "--status", "maybe").exit_code == 2


def test_operator_revocation_stops_the_next_call_and_is_audited(hub, client, cli, db):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id"])
    h = _client_token(client, "mca-screening", hub["secret"])
    assert _query(client, h, ["id"]).status_code == 200
    with db.unit_of_work() as s:
        gid = s.scalars(select(Grant.id)).one()
    assert "live" in cli("datahub", "grants").output
    r = cli("datahub", "revoke", str(gid), "--reason", "疑似越权使用，紧急停止")
    assert r.exit_code == 0, r.output
    assert _query(client, h, ["id"]).status_code == 403
    assert "live" not in cli("datahub", "grants").output  # revoked grants are hidden without --all
    assert "revoked" in cli("datahub", "grants", "--all").output
    with db.unit_of_work() as s:
        n = s.scalar(select(func.count()).where(AuditEvent.action == "sharing.revoke",
                                                AuditEvent.actor == "system:cli"))
    assert n == 1
    again = cli("datahub", "revoke", str(gid), "--reason", "再次撤销")
    assert again.exit_code == 2
    assert cli("datahub", "revoke", "99999", "--reason", "不存在").exit_code == 2
    assert cli("datahub", "revoke", str(gid), "--reason", " ").exit_code == 2

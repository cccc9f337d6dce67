"""Bulk exports: a Parquet snapshot of granted fields, masked by grade, one audited read —
from a table, and from a Parquet-held dataset (a generated city)."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
from sqlalchemy import select

from tests.datahub.test_exchange import _client_token, _grant, hub  # noqa: F401
from tests.registry.factories import make_grant
from tongban.core.audit.models import AuditEvent
from tongban.datahub.models import Dataset, DatasetField


def test_export_writes_granted_fields_masked_and_is_audited_once(hub, client, db):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id", "id_number", "region_code"])
    h = _client_token(client, "mca-screening", hub["secret"])
    r = client.post("/api/v1/exchange/ds.person/export", headers=h,
                    json={"purpose": "低保对象主动发现筛查", "fields": ["id", "id_number", "region_code"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["rows"] == 2 and body["audit_seq"]
    frame = pl.read_parquet(io.BytesIO(client.get(body["download"], headers=h).content))
    assert frame.columns == ["id", "id_number", "region_code"]
    assert hub["a_idn"] not in frame["id_number"].to_list()
    assert all("********" in v for v in frame["id_number"].to_list())
    with db.unit_of_work() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "exchange.export")).all()
    assert len(events) == 1 and '"rows":2' in events[0].details


def test_export_without_grant_or_beyond_it_is_refused(hub, client):  # type: ignore[no-untyped-def]  # noqa: F811
    h = _client_token(client, "mca-screening", hub["secret"])
    body = {"purpose": "低保对象主动发现筛查", "fields": ["id"]}
    assert client.post("/api/v1/exchange/ds.person/export", headers=h, json=body).status_code == 403
    _grant(client, ["id"])
    body["fields"] = ["id", "name"]
    assert client.post("/api/v1/exchange/ds.person/export", headers=h, json=body).status_code == 403


def test_another_department_cannot_download_an_export(hub, client):  # type: ignore[no-untyped-def]  # noqa: F811
    _grant(client, ["id"])
    h = _client_token(client, "mca-screening", hub["secret"])
    url = client.post("/api/v1/exchange/ds.person/export", headers=h,
                      json={"purpose": "低保对象主动发现筛查", "fields": ["id"]}).json()["download"]
    other = _client_token(client, "tax-sync", hub["secret2"])
    assert client.get(url, headers=other).status_code == 403


def test_a_parquet_held_city_is_served_through_the_same_export(hub, client, db, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    from tongban.registry import generator

    cfg = generator.CityConfig(persons=3000, seed=3, communities=("330203001001", "330203001002"),
                               as_of=dt.date(2026, 6, 30))
    generator.write_parquet(cfg, tmp_path / "city")
    with db.unit_of_work() as s:
        s.add(Dataset(id="ds.city-person", title_zh="合成城市人口", title_en="Synthetic city persons",
                      owner_department_id="dept.haishu.police", update_frequency="yearly",
                      sharing_type="conditional", opening_type="closed",
                      parquet_path=str(tmp_path / "city" / "person"), subject_field="id"))
        s.flush()
        for pos, (name, grade, mask) in enumerate([("id", 1, None), ("id_number", 3, "id_number"),
                                                   ("disability_type", 4, None)]):
            s.add(DatasetField(dataset_id="ds.city-person", name=name, position=pos, title_zh=name,
                               title_en=name, type="string", grade=grade, mask=mask))
        make_grant(s, "dept.haishu.mca", dataset_id="ds.city-person", fields=["id", "id_number", "disability_type"])
    h = _client_token(client, "mca-screening", hub["secret"])
    r = client.post("/api/v1/exchange/ds.city-person/export", headers=h,
                    json={"purpose": "低保对象主动发现筛查", "fields": ["id", "id_number", "disability_type"]})
    assert r.status_code == 201, r.text
    frame = pl.read_parquet(io.BytesIO(client.get(r.json()["download"], headers=h).content))
    assert frame.height == 3000 == r.json()["rows"]
    assert frame["disability_type"].null_count() == 3000  # L4 withheld: nobody consented
    assert frame["id_number"].str.contains(r"^\d{6}\*{8}[\dX]{4}$").all()

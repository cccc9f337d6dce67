"""Open data (开放域): 无条件开放 downloads without login holding only L1 fields; 受限开放 by an
approved application, each download audited; 禁止开放 never listed or served publicly."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from tests.factories import token_for
from tests.governance.conftest import PACK
from tongban.core.audit.models import AuditEvent
from tongban.core.packs.loader import PackError, read_pack
from tongban.datahub.models import DatasetField
from tongban.governance.models import OpenApplication


def _problem(r) -> dict:  # type: ignore[no-untyped-def]
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return dict(r.json())


def test_the_public_list_shows_open_and_restricted_datasets_never_closed_ones(city, client):  # type: ignore[no-untyped-def]
    items = client.get("/api/v1/open/datasets").json()["items"]
    kinds = {d["id"]: d["opening_type"] for d in items}
    assert kinds["ds.service-halls"] == kinds["ds.entity"] == "open" and kinds["ds.household"] == "restricted"
    assert "ds.person" not in kinds and "ds.case-records" not in kinds
    page = client.get("/open")
    assert page.status_code == 200
    assert "/open/datasets/ds.service-halls.csv" in page.text and "ds.person" not in page.text


@pytest.mark.parametrize("prefix", ["/open/datasets", "/api/v1/open/datasets"])
def test_anyone_downloads_open_data_as_csv_and_parquet_with_only_l1_fields(city, client, db, prefix):  # type: ignore[no-untyped-def]
    csv = client.get(f"{prefix}/ds.service-halls.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    frame = pl.read_csv(io.BytesIO(csv.content))
    parquet = pl.read_parquet(io.BytesIO(client.get(f"{prefix}/ds.service-halls.parquet").content))
    assert frame.height == parquet.height == 5
    with db.unit_of_work() as s:
        grades = {f.name: f.grade for f in s.scalars(select(DatasetField).where(DatasetField.dataset_id == "ds.service-halls"))}
    assert set(parquet.columns) <= set(grades) and all(grades[c] == 1 for c in parquet.columns)
    assert "海曙区行政服务中心" in frame["name"].to_list()


@pytest.mark.parametrize("dataset", ["ds.household", "ds.person", "ds.case-records"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_anonymous_download_of_restricted_or_closed_data_is_refused(city, client, dataset, fmt):  # type: ignore[no-untyped-def]
    for url in (f"/api/v1/open/datasets/{dataset}.{fmt}", f"/open/datasets/{dataset}.{fmt}"):
        r = client.get(url, headers={"Accept": "application/json"})
        assert r.status_code in (401, 404), r.text
        body = _problem(r)
        assert body["status"] == r.status_code
        if dataset == "ds.household":
            assert r.status_code == 401  # exists publicly, needs a login and an approval
        else:
            assert r.status_code == 404  # 禁止开放: not even acknowledged


def test_restricted_data_by_application_approval_and_terms_each_download_audited(city, client, db):  # type: ignore[no-untyped-def]
    chen = token_for(client, "chen")
    assert client.get("/api/v1/open/datasets/ds.household.csv", headers=chen).status_code == 403
    body = {"dataset_id": "ds.household", "purpose": "住房面积分布研究", "organisation": "宁波大学"}
    r = client.post("/api/v1/open/applications", headers=chen, json=body)
    assert r.status_code == 422 and r.json()["field"] == "accept_terms"
    app_id = client.post("/api/v1/open/applications", headers=chen, json={**body, "accept_terms": True}).json()["id"]
    assert client.post("/api/v1/open/applications", headers=chen,
                       json={**body, "accept_terms": True}).status_code == 409  # one waiting already
    decision = {"decision": "approve", "reason": "用途正当"}
    for who in ("steward.mca", "chen"):  # not the owner's steward
        assert client.post(f"/api/v1/open/applications/{app_id}/decision", headers=token_for(client, who),
                           json=decision).status_code == 403
    police = token_for(client, "steward.police")
    assert [a["id"] for a in client.get("/api/v1/open/applications?pending=true", headers=police).json()["items"]] == [app_id]
    assert client.post(f"/api/v1/open/applications/{app_id}/decision", headers=police, json=decision).status_code == 200
    assert client.post(f"/api/v1/open/applications/{app_id}/decision", headers=police, json=decision).status_code == 409
    r = client.get("/api/v1/open/datasets/ds.household.parquet", headers=chen)
    assert r.status_code == 200
    frame = pl.read_parquet(io.BytesIO(r.content))
    assert frame.height == 2 and "household_number" in frame.columns
    client.get("/api/v1/open/datasets/ds.household.csv", headers=chen)
    with db.unit_of_work() as s:
        downloads = s.scalars(select(AuditEvent).where(AuditEvent.action == "open.download")).all()
        assert len(downloads) == 2 and all(e.actor.startswith("account:") for e in downloads)
        assert s.get_one(OpenApplication, app_id).valid_to is not None


def test_open_data_bad_inputs(city, client, db):  # type: ignore[no-untyped-def]
    chen = token_for(client, "chen")
    assert client.get("/api/v1/open/datasets/ds.service-halls.xlsx").status_code == 404
    assert client.get("/api/v1/open/datasets/ds.nope.csv").status_code == 404
    for body, field in [({"dataset_id": "ds.household", "purpose": "研", "accept_terms": True}, "purpose"),
                        ({"dataset_id": "ds.service-halls", "purpose": "住房面积研究", "accept_terms": True}, "dataset_id")]:
        r = client.post("/api/v1/open/applications", headers=chen, json=body)
        assert r.status_code in (409, 422) and r.json()["field"] == field
    assert client.post("/api/v1/open/applications", headers=chen,
                       json={"dataset_id": "ds.person", "purpose": "人口研究", "accept_terms": True}).status_code == 404
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(OpenApplication)) == 0


def test_a_catalog_with_an_open_dataset_holding_an_l2_field_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    text = (pack / "datasets.yaml").read_text(encoding="utf-8")
    text = text.replace("{name: phone, title: {zh: 咨询电话, en: Office line}, type: string, grade: 1}",
                        "{name: phone, title: {zh: 咨询电话, en: Office line}, type: string, grade: 2}")
    (pack / "datasets.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as err:
        read_pack(pack)
    problems = [p for p in err.value.problems if p.file == "datasets.yaml"]
    assert len(problems) == 1 and "only L1" in problems[0].message and problems[0].id == "ds.service-halls"

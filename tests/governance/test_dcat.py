"""The DCAT-AP export: JSON-LD with its context inlined parses with rdflib and holds the expected
triples; the public export leaves 禁止开放 datasets out; CSV; the CLI."""

from __future__ import annotations

import csv
import io
import json

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from tests.factories import token_for

BASE = "http://localhost:8000"


def _graph(text: str) -> Graph:
    doc = json.loads(text)
    assert isinstance(doc["@context"], dict)  # inlined: nothing to fetch
    return Graph().parse(data=text, format="json-ld")


def test_public_jsonld_holds_the_dcat_triples_of_a_known_dataset(city, client):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/catalog/dcat.jsonld")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    g = _graph(r.text)
    ds = URIRef(f"{BASE}/catalog/datasets/ds.service-halls")
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert (ds, DCTERMS.title, Literal("政务服务大厅信息", lang="zh")) in g
    assert (ds, DCTERMS.title, Literal("Public service halls", lang="en")) in g
    assert (ds, DCTERMS.identifier, Literal("ds.service-halls")) in g
    assert (ds, DCTERMS.publisher, URIRef(f"{BASE}/departments/dept.haishu.gov")) in g
    assert (ds, DCTERMS.accessRights,
            URIRef("http://publications.europa.eu/resource/authority/access-right/PUBLIC")) in g
    dists = set(g.objects(ds, DCAT.distribution))
    assert len(dists) == 2 and all((d, RDF.type, DCAT.Distribution) in g for d in dists)
    downloads = {str(u) for d in dists for u in g.objects(d, DCAT.downloadURL)}
    assert downloads == {f"{BASE}/open/datasets/ds.service-halls.csv", f"{BASE}/open/datasets/ds.service-halls.parquet"}
    assert {str(u) for d in dists for u in g.objects(d, DCAT.accessURL)} == {f"{BASE}/open"}
    listed = {str(o) for o in g.objects(None, DCTERMS.identifier)}
    assert "ds.household" in listed and "ds.person" not in listed and "ds.case-records" not in listed


def test_internal_export_lists_closed_datasets_for_staff_only(city, client):  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/catalog/dcat.jsonld?scope=internal").status_code == 401
    assert client.get("/api/v1/catalog/dcat.jsonld?scope=internal", headers=token_for(client, "chen")).status_code == 403
    r = client.get("/api/v1/catalog/dcat.jsonld?scope=internal", headers=token_for(client, "steward.mca"))
    g = _graph(r.text)
    person = URIRef(f"{BASE}/catalog/datasets/ds.person")
    assert (person, RDF.type, DCAT.Dataset) in g
    assert (person, DCTERMS.accessRights,
            URIRef("http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC")) in g
    assert client.get("/api/v1/catalog/dcat.jsonld?scope=everything").status_code == 422


def test_csv_export_and_the_cli(city, client, cli):  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/catalog/dcat.csv").text)))
    by_id = {r["identifier"]: r for r in rows}
    # the codes' public cards (issue #29) are open too
    cards = {"ds.agri.farm-card", "ds.agri.product-card", "ds.hrss.domestic-worker-card", "ds.hrss.talent-card",
             "ds.housing.flat-card"}
    assert set(by_id) == {"ds.entity", "ds.household", "ds.service-halls", *cards}
    assert by_id["ds.service-halls"]["access_rights"] == "PUBLIC"
    assert by_id["ds.household"]["download_urls"] == ""  # only after an approved application
    out = cli("datahub", "dcat", "--format", "jsonld")
    assert out.exit_code == 0, out.output
    assert (URIRef(f"{BASE}/catalog/datasets/ds.entity"), RDF.type, DCAT.Dataset) in _graph(out.output)
    internal = cli("datahub", "dcat", "--format", "csv", "--internal")
    assert "ds.person" in internal.output
    assert cli("datahub", "dcat", "--format", "xml").exit_code == 2
